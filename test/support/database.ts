import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

export interface TestDatabase {
  url: string;
  /** `sqlite` or `mariadb`, for tests whose expectations differ by dialect. */
  dialect: 'sqlite' | 'mariadb';
  drop(): Promise<void>;
}

/**
 * Creates an empty database for one test file: a new database on the server named by
 * TEST_DATABASE_URL, or a SQLite file in a temporary folder. DATABASE_URL is never used,
 * because it names the database a person runs the sandbox with.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;

  if (serverUrl) {
    if (serverUrl === process.env.DATABASE_URL) {
      throw new Error('TEST_DATABASE_URL equals DATABASE_URL. Tests create and drop databases, so point TEST_DATABASE_URL at a test server.');
    }
    const url = new URL(serverUrl.replace(/^mariadb:/, 'mysql:'));
    const name = `cra_test_${randomBytes(6).toString('hex')}`;
    const connection = await mysql.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) });
    await connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await connection.end();

    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      dialect: 'mariadb',
      async drop() {
        const admin = await mysql.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) });
        await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await admin.end();
      },
    };
  }

  const folder = await mkdtemp(join(tmpdir(), 'cra-test-'));
  return {
    url: `sqlite:${join(folder, 'test.sqlite')}`,
    dialect: 'sqlite',
    async drop() {
      await rm(folder, { recursive: true, force: true });
    },
  };
}
