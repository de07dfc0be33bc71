import { Umzug, SequelizeStorage } from 'umzug';
import type { Sequelize } from 'sequelize';
import type { Logger } from 'pino';
import { pathToFileURL } from 'node:url';

interface MigrationModule {
  up(parameters: { context: unknown }): Promise<void>;
  down?(parameters: { context: unknown }): Promise<void>;
}

/**
 * Runs the pending migrations in `folder` (files named `<timestamp>-<verb>-….ts`), recording
 * each in `tableName`, so a second run changes nothing. Returns the names it applied.
 */
export async function runMigrations(options: { sequelize: Sequelize; folder: string; tableName: string; logger: Logger }): Promise<string[]> {
  const { sequelize, folder, tableName, logger } = options;

  const umzug = new Umzug({
    migrations: {
      glob: ['*.ts', { cwd: folder, ignore: ['*.d.ts'] }],
      resolve: ({ name, path, context }) => ({
        name,
        up: async () => {
          const migration = (await import(pathToFileURL(path!).href)) as MigrationModule;
          await migration.up({ context });
        },
        down: async () => {
          const migration = (await import(pathToFileURL(path!).href)) as MigrationModule;
          if (!migration.down) {
            throw new Error(`Migration ${name} cannot be reverted: it has no down step.`);
          }
          await migration.down({ context });
        },
      }),
    },
    context: sequelize.getQueryInterface(),
    // A model name per table: umzug reuses a model of the same name, which would put the
    // plugin's migrations in the host's table.
    storage: new SequelizeStorage({ sequelize, tableName, modelName: `${tableName}_record` }),
    logger: undefined,
  });

  const applied = await umzug.up();
  for (const migration of applied) {
    logger.info({ migration: migration.name, table: tableName }, 'migration applied');
  }
  return applied.map((migration) => migration.name);
}
