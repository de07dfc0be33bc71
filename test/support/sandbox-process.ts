/**
 * Runs one sandbox host as its own process, so a test can start several of them on one
 * database. The test has already created the database, run the migrations and loaded the
 * demo data, and it runs the Stripe emulator itself.
 *
 * Environment (all required except SANDBOX_LOG_LEVEL):
 *   SANDBOX_DATABASE_URL   the test database
 *   SANDBOX_SECRETS_FILE   JSON file with the SandboxSecrets the test generated
 *   SANDBOX_CLOCK          ISO 8601 instant the clock starts at, the same in every process
 *   SANDBOX_STRIPE_API     base URL of the Stripe emulator, such as http://127.0.0.1:4243
 *   SANDBOX_LOG_LEVEL      pino level of the log written to stderr; `silent` by default
 *
 * When it listens, it prints one line to stdout: {"listening":"http://127.0.0.1:<port>"}.
 *
 * Test-only route, which exists only in this script: PUT /test-clock with the JSON body
 * {"instant":"<ISO 8601>"} sets the clock, so every process moves to the same instant.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import pino from 'pino';
import { createSandbox } from '../../sandbox/app.js';
import type { SandboxSecrets } from '../../sandbox/secrets.js';
import { TestClock } from './clock.js';

/** Path of the route that sets the clock. */
const TEST_CLOCK_PATH = '/test-clock';

function requiredEnvironment(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is missing. test/support/sandbox-process.ts is started by the multi-process tests, which set it.`);
  }
  return value;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function setClock(clock: TestClock, request: IncomingMessage, response: ServerResponse): Promise<void> {
  let instant: unknown;
  try {
    instant = (JSON.parse(await readBody(request)) as { instant?: unknown }).instant;
  } catch {
    instant = undefined;
  }
  if (typeof instant !== 'string' || Number.isNaN(new Date(instant).getTime())) {
    response.writeHead(400, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ error: 'The body must be {"instant":"<ISO 8601 date and time>"}.' }));
    return;
  }
  clock.set(instant);
  response.writeHead(200, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify({ now: clock.now().toISOString() }));
}

const databaseUrl = requiredEnvironment('SANDBOX_DATABASE_URL');
const secrets = JSON.parse(await readFile(requiredEnvironment('SANDBOX_SECRETS_FILE'), 'utf8')) as SandboxSecrets;
const clock = new TestClock(requiredEnvironment('SANDBOX_CLOCK'));
const stripeApi = new URL(requiredEnvironment('SANDBOX_STRIPE_API'));
const logger = pino({ level: process.env.SANDBOX_LOG_LEVEL || 'silent' }, pino.destination(2));

const sandbox = await createSandbox({
  databaseUrl,
  secrets,
  logger,
  clock,
  stripeApiEndpoint: { host: stripeApi.hostname, port: Number(stripeApi.port), protocol: 'http' },
});

const server = createServer((request, response) => {
  if (request.method === 'PUT' && request.url === TEST_CLOCK_PATH) {
    void setClock(clock, request, response);
    return;
  }
  sandbox.app(request, response);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
process.stdout.write(`${JSON.stringify({ listening: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);

process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void sandbox.close().finally(() => process.exit(0));
});
