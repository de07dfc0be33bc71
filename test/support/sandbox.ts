import pino from 'pino';
import request from 'supertest';
import type { Agent } from 'supertest';
import { createSandbox, type Sandbox } from '../../sandbox/app.js';
import { generateSecrets, type SandboxSecrets } from '../../sandbox/secrets.js';
import { seedDemoData } from '../../sandbox/demo/seed.js';
import { demoPassword } from '../../sandbox/demo/practices.js';
import type { StripeConfiguration } from '../../plugin/host/contract.js';
import type { PluginContext } from '../../plugin/plugin-context.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { TestClock } from './clock.js';

export interface TestSandbox {
  sandbox: Sandbox;
  database: TestDatabase;
  secrets: SandboxSecrets;
  clock: TestClock;
  /** Closes the sandbox and opens a new one on the same database, as a restart does. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Starts a sandbox with the demo data on a fresh test database. */
export async function startTestSandbox(options: { clock?: TestClock; stripeApiEndpoint?: StripeConfiguration['apiEndpoint'] } = {}): Promise<TestSandbox> {
  const database = await createTestDatabase();
  const secrets = generateSecrets(['riverside', 'harbour']);
  const clock = options.clock ?? new TestClock();

  const open = () =>
    createSandbox({
      databaseUrl: database.url,
      secrets,
      logger: silentLogger,
      clock,
      ...(options.stripeApiEndpoint ? { stripeApiEndpoint: options.stripeApiEndpoint } : {}),
    });

  const testSandbox: TestSandbox = {
    sandbox: await open(),
    database,
    secrets,
    clock,
    async restart() {
      await testSandbox.sandbox.close();
      testSandbox.sandbox = await open();
    },
    async close() {
      await testSandbox.sandbox.close();
      await database.drop();
    },
  };
  await seedDemoData(testSandbox.sandbox.models, secrets, silentLogger);
  return testSandbox;
}

/** Returns the plugin's services inside a test sandbox. */
export function pluginOf(testSandbox: TestSandbox): PluginContext {
  return testSandbox.sandbox.plugin as PluginContext;
}

/** Reads the CSRF token from the hidden `_csrf` field of a page. */
export function csrfTokenFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) {
    throw new Error('The page has no _csrf field.');
  }
  return match[1]!;
}

/** Signs a demo staff member or patient in and returns the agent that keeps the session cookie. */
export async function signIn(testSandbox: TestSandbox, area: 'admin' | 'portal', email: string): Promise<Agent> {
  const agent = request.agent(testSandbox.sandbox.app);
  const page = await agent.get(`/${area}/sign-in`).expect(200);
  await agent
    .post(`/${area}/sign-in`)
    .type('form')
    .send({ _csrf: csrfTokenFrom(page.text), email, password: demoPassword })
    .expect(303);
  return agent;
}
