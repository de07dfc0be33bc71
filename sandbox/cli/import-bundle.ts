/**
 * Imports a FHIR R4 bundle into a sandbox practice:
 *   npm run sandbox:import -- <bundle.json> --practice <id or demo key> [--patient <id>]
 * It reports what it imported and what it skipped, with the reason for each.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import pino from 'pino';
import { readSandboxConfig } from '../config.js';
import { describeDatabaseUrl, openDatabase } from '../database.js';
import { runMigrations } from '../migrate.js';
import { defineHostModels } from '../models.js';
import { sandboxFolder } from '../paths.js';
import { parseBundle } from '../fhir/bundle.js';
import { storeParsedBundle } from '../fhir/store.js';

const usage = 'Usage: npm run sandbox:import -- <bundle.json> --practice <practice id or demo key> [--patient <patient id>]';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { practice: { type: 'string' }, patient: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1 || !values.practice) {
    console.error(`Give one bundle file and --practice.\n${usage}`);
    return 2;
  }
  if (values.patient !== undefined && !/^[1-9][0-9]*$/.test(values.patient)) {
    console.error(`--patient must be a patient id (a whole number), but is "${values.patient}".`);
    return 2;
  }

  let bundle: unknown;
  try {
    bundle = JSON.parse(await readFile(positionals[0]!, 'utf8'));
  } catch (error) {
    console.error(`Cannot read ${positionals[0]} as JSON: ${(error as Error).message}`);
    return 2;
  }
  const parsed = parseBundle(bundle);
  if (parsed.problems.length > 0) {
    console.error(`Nothing was imported. ${parsed.problems.join(' ')}`);
    return 1;
  }

  const config = readSandboxConfig();
  const logger = pino({ level: 'warn' });
  const sequelize = openDatabase(config.databaseUrl, logger);
  try {
    await runMigrations({ sequelize, folder: join(sandboxFolder, 'migrations'), tableName: 'sandbox_migrations', logger });
    const models = defineHostModels(sequelize);

    const practice = /^[0-9]+$/.test(values.practice)
      ? await models.Practice.findByPk(Number(values.practice))
      : await models.Practice.findOne({ where: { demoKey: values.practice } });
    if (!practice) {
      const known = (await models.Practice.findAll()).map((row) => `${row.id} (${row.demoKey}, ${row.name})`).join(', ');
      console.error(`No practice "${values.practice}" in ${describeDatabaseUrl(config.databaseUrl)}. Known practices: ${known || 'none; run npm start once to load the demo data'}.`);
      return 1;
    }

    const report = await storeParsedBundle(models, practice.id, parsed, values.patient ? { patientId: Number(values.patient) } : {});
    console.log(`${report.createdPatient ? 'Created' : 'Updated'} patient ${report.patientId} in ${practice.name}.`);
    for (const [resourceType, count] of Object.entries(report.imported).sort()) {
      console.log(`  imported ${count} ${resourceType}`);
    }
    if (report.updated > 0) {
      console.log(`  (${report.updated} of them replaced resources imported before)`);
    }
    const reasons = new Map<string, number>();
    for (const skipped of report.skipped) {
      reasons.set(skipped.reason, (reasons.get(skipped.reason) ?? 0) + 1);
    }
    for (const [reason, count] of [...reasons].sort((a, b) => b[1] - a[1])) {
      console.log(`  skipped ${count}: ${reason}`);
    }
    return 0;
  } catch (error) {
    console.error(`Import failed, nothing was imported: ${(error as Error).message}`);
    return 1;
  } finally {
    await sequelize.close();
  }
}

process.exitCode = await main();
