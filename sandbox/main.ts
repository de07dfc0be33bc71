/**
 * Starts the sandbox host with the plugin installed, the Stripe Identity emulator beside it,
 * and the demo data loaded on first start. `npm start` runs this; it needs no configuration.
 */
import pino from 'pino';
import { createServer } from 'node:http';
import { readSandboxConfig } from './config.js';
import { describeDatabaseUrl } from './database.js';
import { loadOrCreateSecrets } from './secrets.js';
import { createSandbox } from './app.js';
import { seedDemoData } from './demo/seed.js';
import { demoPassword, demoPractices, demoStaff } from './demo/practices.js';
import { demoPatients } from './demo/patients.js';
import { startStripeEmulator } from './stripe-emulator-wiring.js';

const config = readSandboxConfig();
const logger = pino({ level: config.logLevel });

const { secrets, created } = await loadOrCreateSecrets(config.secretsFile, demoPractices.map((practice) => practice.key));
if (created) {
  logger.info({ file: config.secretsFile }, 'created sandbox secrets');
}

const publicUrl = `http://${config.host}:${config.port}`;
const sandbox = await createSandbox({
  databaseUrl: config.databaseUrl,
  secrets,
  logger,
  publicUrl,
  stripeApiEndpoint: { host: config.host, port: config.stripeEmulatorPort, protocol: 'http' },
});
const { seeded } = await seedDemoData(sandbox.models, secrets, logger);

const emulator = await startStripeEmulator({ sandbox, publicUrl, host: config.host, port: config.stripeEmulatorPort, logger });

const server = createServer(sandbox.app);
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port, config.host, resolve);
});

const portalLogins = demoPatients.filter((patient) => patient.status === 'active');
console.log(`
Sandbox practice platform: ${publicUrl}/
Stripe Identity emulator:  ${emulator.url}
Database:                  ${describeDatabaseUrl(config.databaseUrl)}${seeded ? ' (demo data loaded)' : ''}

Demo sign-ins (password for all: ${demoPassword})
  Staff   ${publicUrl}/admin/sign-in
${demoStaff.map((staff) => `    ${staff.email.padEnd(36)} ${staff.role.replace('_', ' ')}, ${demoPractices.find((practice) => practice.key === staff.practiceKey)!.name}`).join('\n')}
  Patients ${publicUrl}/portal/sign-in
${portalLogins.map((patient) => `    ${patient.portalLogin.padEnd(36)} ${`${patient.givenNames.join(' ')} ${patient.familyName}`.padEnd(30)} ${demoPractices.find((practice) => practice.key === patient.practiceKey)!.name}`).join('\n')}

Press Ctrl+C to stop.`);

const stop = async (signal: string) => {
  logger.info({ signal }, 'stopping');
  server.close();
  await emulator.close();
  await sandbox.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));
