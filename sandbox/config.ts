import { join } from 'node:path';
import { projectRootFolder } from './paths.js';

export interface SandboxConfig {
  databaseUrl: string;
  host: string;
  port: number;
  stripeEmulatorPort: number;
  secretsFile: string;
  logLevel: string;
}

function readPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name} must be a port number from 1 to 65535, but is "${raw}".`);
  }
  return port;
}

/** Reads the sandbox's configuration from the environment; every value has a default. */
export function readSandboxConfig(): SandboxConfig {
  const dataFolder = join(projectRootFolder, '.sandbox');
  return {
    databaseUrl: process.env.DATABASE_URL || `sqlite:${join(dataFolder, 'sandbox.sqlite')}`,
    host: process.env.HOST || '127.0.0.1',
    port: readPort('PORT', 3000),
    stripeEmulatorPort: readPort('STRIPE_EMULATOR_PORT', 4243),
    secretsFile: process.env.SANDBOX_SECRETS_FILE || join(dataFolder, 'secrets.json'),
    logLevel: process.env.LOG_LEVEL || 'info',
  };
}
