/**
 * Writes the name search rows of every access request again in the sandbox's database:
 *
 *   npm run sandbox:rebuild-search-index
 *
 * The list finds names through these rows. A request written by a process running code from
 * before the prefix rows (during a rolling upgrade) has none, and is missing from name searches
 * until this runs. It is safe while the sandbox serves requests: each batch of requests is
 * locked while its rows are written.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import pino from 'pino';
import { readSandboxConfig } from '../config.js';
import { openDatabase, describeDatabaseUrl } from '../database.js';
import { runMigrations } from '../migrate.js';
import { projectRootFolder } from '../paths.js';
import { rebuildSearchIndex } from '../../plugin/access/search-index.js';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { help: { type: 'boolean' } } });
  if (values.help) {
    console.log('Usage: npm run sandbox:rebuild-search-index');
    return 0;
  }

  const config = readSandboxConfig();
  const logger = pino({ level: 'warn' });
  const sequelize = openDatabase(config.databaseUrl, logger);
  try {
    await runMigrations({ sequelize, folder: join(projectRootFolder, 'migrations'), tableName: 'cra_migrations', logger });
    const started = performance.now();
    const requests = await rebuildSearchIndex(sequelize);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`${describeDatabaseUrl(config.databaseUrl)}: wrote the name search rows of ${requests} access requests again in ${seconds} s.`);
    return 0;
  } finally {
    await sequelize.close();
  }
}

process.exitCode = await main();
