/**
 * The journey when its dependencies fail. Stripe is unreachable, slower than the client's
 * timeout, or returns HTTP 500, while a session is created and while it is read back (on the
 * patient's return, on "continue" and for a webhook). On MariaDB, the database also closes
 * the sandbox's connections between two steps.
 *
 * The sandbox calls Stripe through a small proxy in this file that forwards to the emulator or
 * fails on demand, and the plugin's Stripe timeout is lowered to FAULT_TIMEOUT_MILLISECONDS so a
 * "slow" Stripe costs under a second.
 */
import { expect } from 'chai';
import express, { type Request as ExpressRequest, type Response as ExpressResponse } from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mysql from 'mysql2/promise';
import request from 'supertest';
import type { Agent } from 'supertest';
import { createSandbox } from '../../sandbox/app.js';
import { generateSecrets } from '../../sandbox/secrets.js';
import { seedDemoData } from '../../sandbox/demo/seed.js';
import { demoPatients } from '../../sandbox/demo/patients.js';
import { createStripeEmulator, signPayload, type StripeEmulator, type StripeEvent } from '../../sandbox/stripe-emulator/index.js';
import { createTestDatabase } from '../support/database.js';
import { TestClock } from '../support/clock.js';
import { pluginOf, silentLogger, type TestSandbox } from '../support/sandbox.js';
import {
  authenticatorCode,
  csrfTokenFrom,
  enableClinicalAccess,
  enrolAuthenticator,
  postForm,
  recordPath,
  requestAccess,
  signIn,
  type JourneySandbox,
} from '../support/journey.js';

/** The plugin's Stripe timeout in this file, instead of the 10 s default. */
const FAULT_TIMEOUT_MILLISECONDS = 500;

const unavailableMessage = 'The identity check service is not responding right now. Nothing has been lost. Please try again in a few minutes.';
const createPath = '/v1/identity/verification_sessions';

type StripeOperation = 'create' | 'retrieve' | 'other';

/** How the proxy fails: `error` returns a 500 api_error, `slow` never responds, `down` stops listening. */
type FaultKind = 'down' | 'slow' | 'error';

interface ProxiedCall {
  operation: StripeOperation;
  idempotencyKey: string | null;
}

/** Stripe as the sandbox reaches it: the emulator behind a proxy that fails on demand. */
interface FaultyStripe {
  port: number;
  calls: ProxiedCall[];
  /** Makes calls of one operation fail from now on; `down` affects every call. */
  fail(kind: FaultKind, operation: Exclude<StripeOperation, 'other'>): Promise<void>;
  /** Forwards every call again. */
  recover(): Promise<void>;
  close(): Promise<void>;
}

function operationOf(incoming: ExpressRequest): StripeOperation {
  if (incoming.method === 'POST' && incoming.path === createPath) {
    return 'create';
  }
  if (incoming.method === 'GET' && /^\/v1\/identity\/verification_sessions\/[^/]+$/.test(incoming.path)) {
    return 'retrieve';
  }
  return 'other';
}

const forwardedHeaders = ['accept', 'authorization', 'content-type', 'idempotency-key', 'stripe-version', 'user-agent'];

async function forward(emulatorUrl: string, incoming: ExpressRequest, outgoing: ExpressResponse): Promise<void> {
  const headers: Record<string, string> = {};
  for (const name of forwardedHeaders) {
    const value = incoming.get(name);
    if (value !== undefined) {
      headers[name] = value;
    }
  }
  const hasBody = incoming.method !== 'GET' && incoming.method !== 'HEAD';
  const upstream = await fetch(`${emulatorUrl}${incoming.originalUrl}`, {
    method: incoming.method,
    headers,
    ...(hasBody ? { body: new Uint8Array(incoming.body as Buffer) } : {}),
  });
  outgoing.status(upstream.status);
  for (const name of ['content-type', 'request-id', 'idempotent-replayed', 'stripe-should-retry']) {
    const value = upstream.headers.get(name);
    if (value !== null) {
      outgoing.set(name, value);
    }
  }
  outgoing.send(Buffer.from(await upstream.arrayBuffer()));
}

async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

async function stopListening(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

async function startFaultyStripe(emulatorUrl: string): Promise<FaultyStripe> {
  let fault: { kind: FaultKind; operation: StripeOperation } | null = null;
  const calls: ProxiedCall[] = [];
  const held = new Set<ExpressResponse>();

  const app = express();
  app.use(express.raw({ type: '*/*', limit: '1mb' }));
  app.use((incoming, outgoing, next) => {
    const operation = operationOf(incoming);
    calls.push({ operation, idempotencyKey: incoming.get('idempotency-key') ?? null });
    if (fault?.operation === operation && fault.kind === 'error') {
      outgoing.status(500).json({ error: { type: 'api_error', message: 'The faulty Stripe proxy of the test returns 500.' } });
      return;
    }
    if (fault?.operation === operation && fault.kind === 'slow') {
      held.add(outgoing);
      outgoing.on('close', () => held.delete(outgoing));
      return;
    }
    forward(emulatorUrl, incoming, outgoing).catch(next);
  });

  let server = createServer(app);
  const port = await listen(server, 0);

  const releaseHeld = () => {
    for (const response of held) {
      response.destroy();
    }
    held.clear();
  };

  return {
    port,
    calls,
    async fail(kind, operation) {
      fault = { kind, operation };
      if (kind === 'down') {
        await stopListening(server);
      }
    },
    async recover() {
      releaseHeld();
      if (fault?.kind === 'down') {
        server = createServer(app);
        await listen(server, port);
      }
      fault = null;
    },
    async close() {
      releaseHeld();
      if (server.listening) {
        await stopListening(server);
      }
    },
  };
}

/** Starts a sandbox that calls Stripe through a faulty proxy, on a fresh test database. */
async function startFaultySandbox(): Promise<{ journey: JourneySandbox; stripe: FaultyStripe }> {
  const clock = new TestClock('2026-12-04T09:00:00Z');
  const database = await createTestDatabase();
  const secrets = generateSecrets(['riverside', 'harbour']);
  const holder: { journey?: JourneySandbox } = {};

  // Webhooks go out by hand in the tests, so the emulator sends none itself.
  const emulator: StripeEmulator = createStripeEmulator({
    logger: silentLogger,
    clock,
    async resolveAccount(secretKey) {
      const practice = await holder.journey!.sandbox.models.Practice.findOne({ where: { stripeSecretKey: secretKey } });
      if (!practice?.stripeWebhookSigningSecret) {
        return null;
      }
      return { accountId: `acct_sandbox${practice.id}`, webhookSigningSecret: practice.stripeWebhookSigningSecret, webhookUrl: '' };
    },
  });
  const { url: emulatorUrl } = await emulator.listen(0, '127.0.0.1');
  const stripe = await startFaultyStripe(emulatorUrl);

  const open = () =>
    createSandbox({
      databaseUrl: database.url,
      secrets,
      logger: silentLogger,
      clock,
      stripeApiEndpoint: { host: '127.0.0.1', port: stripe.port, protocol: 'http' },
      pluginOptions: { stripeTimeoutMilliseconds: FAULT_TIMEOUT_MILLISECONDS },
    });
  const sandbox = await open();
  await seedDemoData(sandbox.models, secrets, silentLogger);
  const server = createServer((incoming, outgoing) => journey.sandbox.app(incoming, outgoing));
  const publicUrl = `http://127.0.0.1:${await listen(server, 0)}`;

  const journey: JourneySandbox = {
    sandbox,
    database,
    secrets,
    clock,
    emulator,
    server,
    publicUrl,
    async restart() {
      await journey.sandbox.close();
      journey.sandbox = await open();
    },
    async close() {
      await journey.sandbox.close();
      await database.drop();
    },
    async stop() {
      await stripe.close();
      await emulator.close();
      await stopListening(server);
      await journey.close();
    },
  };
  holder.journey = journey;
  return { journey, stripe };
}

async function patientIdOf(testSandbox: TestSandbox, portalLogin: string): Promise<string> {
  const patient = await testSandbox.sandbox.models.Patient.findOne({ where: { portalLogin } });
  return String(patient!.id);
}

async function accessRequestOf(testSandbox: TestSandbox, patientId: string) {
  return pluginOf(testSandbox).models.AccessRequest.findOne({ where: { subjectPatientId: patientId } });
}

async function verificationsOf(testSandbox: TestSandbox, patientId: string) {
  return pluginOf(testSandbox).models.IdentityVerification.findAll({ where: { patientId }, order: [['id', 'ASC']] });
}

/** Sends an event to the practice's webhook endpoint, signed as Stripe signs it. */
async function deliverEvent(journey: JourneySandbox, event: StripeEvent) {
  const practice = (await journey.sandbox.models.Practice.findOne({ where: { demoKey: 'riverside' } }))!;
  const payload = JSON.stringify(event);
  const signature = signPayload(payload, practice.stripeWebhookSigningSecret!, Math.floor(journey.clock.now().getTime() / 1000));
  return request(journey.sandbox.app)
    .post(`/webhooks/stripe/${practice.stripeWebhookEndpointKey}`)
    .set('Content-Type', 'application/json')
    .set('Stripe-Signature', signature)
    .send(payload);
}

function verifiedOutcomeFor(portalLogin: string) {
  const patient = demoPatients.find((candidate) => candidate.portalLogin === portalLogin)!;
  return { kind: 'verified' as const, firstName: patient.givenNames.join(' '), lastName: patient.familyName, dob: patient.birthDate };
}

const faults: Array<{ kind: FaultKind; description: string; portalLogin: string }> = [
  { kind: 'down', description: 'unreachable', portalLogin: 'declan.obrien@example.test' },
  { kind: 'slow', description: 'slower than the timeout', portalLogin: 'zoe.ashworth-clarke@example.test' },
  { kind: 'error', description: 'returning 500', portalLogin: 'jose.martinez@example.test' },
];

describe('journey when Stripe fails', function () {
  let journey: JourneySandbox;
  let stripe: FaultyStripe;

  before(async function () {
    ({ journey, stripe } = await startFaultySandbox());
    await enableClinicalAccess(journey, { autoApprove: true });
  });

  after(async function () {
    await stripe?.recover();
    await journey?.stop();
  });

  for (const fault of faults) {
    describe(`Stripe ${fault.description}`, function () {
      let agent: Agent;
      let patientId: string;
      let sessionId: string;
      let verifiedEvent: StripeEvent;

      before(async function () {
        patientId = await patientIdOf(journey, fault.portalLogin);
        agent = await signIn(journey, 'portal', fault.portalLogin);
      });

      afterEach(async function () {
        await stripe.recover();
      });

      it('returns 503 when creation fails', async function () {
        await stripe.fail(fault.kind, 'create');
        const callsBefore = stripe.calls.length;
        const started = Date.now();

        const response = await postForm(agent, `${recordPath}/`, `${recordPath}/request`);

        expect(response.status, response.text).to.equal(503);
        expect(response.text).to.contain(unavailableMessage);
        expect(response.text).to.contain(`action="${recordPath}/identity/start"`);
        // The timeout applies: two attempts of 500 ms and the SDK's pause between them.
        expect(Date.now() - started, 'milliseconds until the response').to.be.below(5_000);
        if (fault.kind !== 'down') {
          const creates = stripe.calls.slice(callsBefore).filter((call) => call.operation === 'create');
          expect(creates, 'create attempts: the first and the SDK retry').to.have.length(2);
          expect(creates[0]!.idempotencyKey, 'idempotency key').to.be.a('string');
          expect(creates[1]!.idempotencyKey, 'the retry reuses the idempotency key').to.equal(creates[0]!.idempotencyKey);
        }
      });

      it('keeps no verification after failed creation', async function () {
        const accessRequest = await accessRequestOf(journey, patientId);

        expect(await verificationsOf(journey, patientId), 'verification rows').to.have.length(0);
        expect(accessRequest!.status).to.equal('identity_pending');
        expect(accessRequest!.currentVerificationId).to.equal(null);
        expect(await pluginOf(journey).models.AuditEvent.count({ where: { patientId, action: 'identity.verificationStarted' } })).to.equal(0);
      });

      it('starts the check once Stripe is back', async function () {
        const response = await postForm(agent, `${recordPath}/`, `${recordPath}/identity/start`);

        expect(response.status, response.text).to.equal(303);
        sessionId = /\/verify\/(vs_[A-Za-z0-9]+)/.exec(response.headers.location ?? '')![1]!;
        const verifications = await verificationsOf(journey, patientId);
        expect(verifications).to.have.length(1);
        expect(verifications[0]!.stripeSessionId).to.equal(sessionId);
        expect((await accessRequestOf(journey, patientId))!.currentVerificationId).to.equal(Number(verifications[0]!.id));
      });

      it('returns 503 to continue when retrieval fails', async function () {
        await stripe.fail(fault.kind, 'retrieve');
        const before = await accessRequestOf(journey, patientId);
        const started = Date.now();

        const response = await postForm(agent, `${recordPath}/`, `${recordPath}/identity/start`);

        expect(response.status, response.text).to.equal(503);
        expect(response.text).to.contain(unavailableMessage);
        expect(Date.now() - started, 'milliseconds until the response').to.be.below(5_000);
        const after = await accessRequestOf(journey, patientId);
        expect(after!.status).to.equal('identity_pending');
        expect(after!.version).to.equal(before!.version);
        expect(after!.currentVerificationId).to.equal(before!.currentVerificationId);
        expect(await verificationsOf(journey, patientId)).to.have.length(1);
      });

      it('shows the check in progress on return', async function () {
        await journey.emulator.completeSession(sessionId, verifiedOutcomeFor(fault.portalLogin));
        verifiedEvent = journey.emulator.events.find((event) => event.type === 'identity.verification_session.verified' && event.data.object.id === sessionId)!;
        await stripe.fail(fault.kind, 'retrieve');

        const back = await agent.get(`${recordPath}/identity/return`);
        const page = await agent.get(`${recordPath}/`);

        expect(back.status).to.equal(303);
        expect(page.status).to.equal(200);
        expect(page.text).to.contain('Checking your identity');
        expect(page.text).to.contain('Check the result again');
        const verifications = await verificationsOf(journey, patientId);
        expect(verifications[0]!.outcome).to.equal('pending');
        expect((await accessRequestOf(journey, patientId))!.status).to.equal('identity_pending');
      });

      it('returns 503 to a webhook, releasing it', async function () {
        await stripe.fail(fault.kind, 'retrieve');
        const started = Date.now();

        const response = await deliverEvent(journey, verifiedEvent);

        expect(response.status, JSON.stringify(response.body)).to.equal(503);
        expect(Date.now() - started, 'milliseconds until the response').to.be.below(5_000);
        expect(await pluginOf(journey).models.WebhookEvent.count({ where: { eventId: verifiedEvent.id } }), 'claims of the event left').to.equal(0);
        expect((await accessRequestOf(journey, patientId))!.status).to.equal('identity_pending');
        expect((await verificationsOf(journey, patientId))[0]!.outcome).to.equal('pending');
      });

      it('processes the redelivered webhook once back', async function () {
        const response = await deliverEvent(journey, verifiedEvent);
        const duplicate = await deliverEvent(journey, verifiedEvent);

        expect(response.status, JSON.stringify(response.body)).to.equal(200);
        expect(response.body).to.deep.equal({ received: true });
        expect(duplicate.body).to.deep.equal({ received: true, duplicate: true });
        expect(await pluginOf(journey).models.WebhookEvent.count({ where: { eventId: verifiedEvent.id } }), 'claims of the event').to.equal(1);
        expect((await accessRequestOf(journey, patientId))!.status).to.equal('mfa_pending');
        expect(await pluginOf(journey).models.AuditEvent.count({ where: { patientId, action: 'identity.matched' } })).to.equal(1);
        const page = await agent.get(`${recordPath}/`).expect(200);
        expect(page.text).to.contain('Set up an authenticator app');
      });
    });
  }
});

describe('journey when database connections drop', function () {
  const portalLogin = 'chidi.okafor@example.test';
  let journey: JourneySandbox | null = null;
  let otpauthUri: string;

  /** Name of the test database, from its URL. */
  const databaseName = () => decodeURIComponent(new URL(journey!.database.url).pathname.slice(1));

  /** Kills every server connection to the test database from a separate admin connection; returns how many. */
  async function killDatabaseConnections(): Promise<number> {
    const url = new URL(journey!.database.url);
    const admin = await mysql.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) });
    try {
      const listConnections = async () => {
        const [rows] = await admin.query('SHOW PROCESSLIST');
        return (rows as Array<{ Id: number; db: string | null; Command: string }>).filter((row) => row.db === databaseName() && row.Command !== 'Killed');
      };
      const victims = await listConnections();
      for (const victim of victims) {
        await admin.query('KILL CONNECTION ?', [victim.Id]);
      }
      for (let wait = 0; wait < 50 && (await listConnections()).length > 0; wait += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return victims.length;
    } finally {
      await admin.end();
    }
  }

  before(async function () {
    if (!/^(mysql|mariadb):/.test(process.env.TEST_DATABASE_URL ?? '')) {
      // A SQLite file has no server that could close a connection, so there is nothing to drop.
      this.skip();
    }
    ({ journey } = await startFaultySandbox());
    await enableClinicalAccess(journey, { autoApprove: true });
  });

  after(async function () {
    await journey?.stop();
  });

  it('enrols after connections drop', async function () {
    const agent = await signIn(journey!, 'portal', portalLogin);
    const sessionId = await requestAccess(agent);
    await journey!.emulator.completeSession(sessionId, verifiedOutcomeFor(portalLogin));
    await agent.get(`${recordPath}/identity/return`).expect(303);

    expect(await killDatabaseConnections(), 'connections killed').to.be.above(0);

    ({ otpauthUri } = await enrolAuthenticator(journey!, agent));
    const patientId = await patientIdOf(journey!, portalLogin);
    expect((await accessRequestOf(journey!, patientId))!.status).to.equal('approved');
  });

  it('accepts the challenge after connections drop', async function () {
    journey!.clock.advance(30_000);
    expect(await killDatabaseConnections(), 'connections killed before sign-in').to.be.above(0);
    const agent = await signIn(journey!, 'portal', portalLogin);
    const page = await agent.get(`${recordPath}/`).expect(200);
    expect(page.text).to.contain('Enter your code');

    expect(await killDatabaseConnections(), 'connections killed before the code').to.be.above(0);
    const response = await agent.post(`${recordPath}/challenge`).type('form').send({ _csrf: csrfTokenFrom(page.text), code: await authenticatorCode(otpauthUri, journey!.clock) });

    expect(response.status, response.text).to.equal(303);
    expect(response.headers.location).to.equal(`${recordPath}/`);
    const overview = await agent.get(`${recordPath}/`).expect(200);
    expect(overview.text).to.contain(`${recordPath}/section/problems`);
  });
});
