import { Sequelize } from 'sequelize';
import type { Logger } from 'pino';

/**
 * Opens the sandbox's database: a SQLite file for `sqlite:` URLs (or a bare path), MySQL or
 * MariaDB for `mysql:` and `mariadb:` URLs. Dates of birth are DATEONLY columns, so the
 * connection's time zone never shifts them; UTC keeps timestamps comparable across processes.
 */
export function openDatabase(url: string, logger: Logger): Sequelize {
  const sqlLogger = (sql: string) => logger.trace({ sql }, 'sql');

  if (url.startsWith('mysql:') || url.startsWith('mariadb:')) {
    const mysqlUrl = url.replace(/^mariadb:/, 'mysql:');
    return new Sequelize(mysqlUrl, {
      dialect: 'mysql',
      logging: sqlLogger,
      timezone: '+00:00',
      pool: { max: 10, min: 0, idle: 10_000 },
      dialectOptions: { dateStrings: false, supportBigNumbers: true },
    });
  }

  const storage = url.startsWith('sqlite:') ? url.slice('sqlite:'.length).replace(/^\/\//, '') : url;
  if (storage === '') {
    throw new Error(`Invalid database URL "${url}": give a SQLite file path such as sqlite:.sandbox/sandbox.sqlite.`);
  }
  return new Sequelize({
    dialect: 'sqlite',
    storage,
    logging: sqlLogger,
    // One connection: SQLite serialises writers anyway, and a second connection would see
    // SQLITE_BUSY instead of waiting its turn.
    pool: { max: 1, min: 0, idle: 10_000 },
    retry: { max: 5, match: [/SQLITE_BUSY/] },
  });
}

/** Describes the database for people, without the password. */
export function describeDatabaseUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:****@');
}
