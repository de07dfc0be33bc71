/**
 * Rotates the plugin's encryption key in the sandbox.
 *
 *   npm run sandbox:rotate-key                      adds a new current key, then re-encrypts every secret
 *   npm run sandbox:rotate-key -- --reencrypt-only  re-encrypts under the current key again
 *
 * Old keys stay in the keyring, so running servers keep decrypting. Restart them to write new
 * secrets under the new key, then run with --reencrypt-only to catch rows written meanwhile.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import pino from 'pino';
import { readSandboxConfig } from '../config.js';
import { openDatabase, describeDatabaseUrl } from '../database.js';
import { runMigrations } from '../migrate.js';
import { projectRootFolder } from '../paths.js';
import type { SandboxSecrets } from '../secrets.js';
import { definePluginModels } from '../../plugin/db/models.js';
import { reencryptSecrets } from '../../plugin/crypto/reencrypt.js';
import { assertStrongKeyring } from '../../plugin/crypto/secret-box.js';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'reencrypt-only': { type: 'boolean' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log('Usage: npm run sandbox:rotate-key [-- --reencrypt-only]');
    return 0;
  }

  const config = readSandboxConfig();
  let secrets: SandboxSecrets;
  try {
    secrets = JSON.parse(await readFile(config.secretsFile, 'utf8')) as SandboxSecrets;
  } catch (error) {
    console.error(`Cannot read the secrets file ${config.secretsFile}: ${(error as Error).message}. Run npm start once to create it.`);
    return 1;
  }

  if (!values['reencrypt-only']) {
    const keyId = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}${randomBytes(3).toString('hex')}`;
    secrets.keyring.keys[keyId] = randomBytes(32).toString('base64');
    secrets.keyring.currentKeyId = keyId;
    // Write then rename, so a crash never leaves a half-written keyring.
    const temporary = `${config.secretsFile}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    await rename(temporary, config.secretsFile);
    console.log(`Added key ${keyId} as the current key in ${config.secretsFile}. Old keys stay for decryption.`);
  }

  const keyring = {
    currentKeyId: secrets.keyring.currentKeyId,
    keys: new Map(Object.entries(secrets.keyring.keys).map(([id, key]) => [id, Buffer.from(key, 'base64')])),
  };
  assertStrongKeyring(keyring);

  const logger = pino({ level: 'warn' });
  const sequelize = openDatabase(config.databaseUrl, logger);
  try {
    await runMigrations({ sequelize, folder: join(projectRootFolder, 'migrations'), tableName: 'cra_migrations', logger });
    const report = await reencryptSecrets(definePluginModels(sequelize), keyring);
    console.log(`${describeDatabaseUrl(config.databaseUrl)}: re-encrypted ${report.reencrypted}, already current ${report.current}, changed meanwhile ${report.skipped}.`);
    if (report.skipped > 0) {
      console.log('Run the command again with --reencrypt-only to re-encrypt the rows that changed meanwhile.');
    }
    return 0;
  } finally {
    await sequelize.close();
  }
}

process.exitCode = await main();
