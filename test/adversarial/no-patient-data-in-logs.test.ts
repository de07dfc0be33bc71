/**
 * Runs the whole journey with the sandbox and the Stripe emulator logging at `trace` into
 * memory. Then each test searches every log line for the patient's data or for the secrets
 * and codes that passed through, in the forms the test lists. None may appear.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import request from 'supertest';
import type { Agent, Response } from 'supertest';
import cookiejar from 'cookiejar';
import { createSandbox } from '../../sandbox/app.js';
import { generateSecrets, type SandboxSecrets } from '../../sandbox/secrets.js';
import { seedDemoData } from '../../sandbox/demo/seed.js';
import { demoPassword } from '../../sandbox/demo/practices.js';
import { demoPatients } from '../../sandbox/demo/patients.js';
import { createSandboxStripeEmulator } from '../../sandbox/stripe-emulator-wiring.js';
import { signPayload, type StripeEmulator } from '../../sandbox/stripe-emulator/index.js';
import { createTestDatabase } from '../support/database.js';
import { TestClock } from '../support/clock.js';
import {
  authenticatorCode,
  csrfTokenFrom,
  decodeQrCode,
  enableClinicalAccess,
  recordPath,
  signIn,
  staffPath,
  type JourneySandbox,
} from '../support/journey.js';

const { CookieAccessInfo } = cookiejar;

const portalLogin = 'mary.pemberton@example.test';
const patient = demoPatients.find((candidate) => candidate.portalLogin === portalLogin)!;
const sectionSlugs = ['problems', 'medications', 'allergies', 'immunisations', 'lab-results'];

/** A value that must not appear in the log, with the label a failure names. */
interface Needle {
  label: string;
  pattern: RegExp;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches `text` case-insensitively where no letter or digit touches it on either side. */
function wordNeedle(label: string, text: string): Needle {
  return { label, pattern: new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(text)}(?![\\p{L}\\p{N}])`, 'iu') };
}

/** Matches `text` case-insensitively anywhere, for long random values. */
function anywhereNeedle(label: string, text: string): Needle {
  return { label, pattern: new RegExp(escapeRegExp(text), 'i') };
}

/** Returns the date of birth in the forms that people, databases and programs write. */
function birthDateForms(birthDate: string): string[] {
  const [year, month, day] = birthDate.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  const twoDigits = (value: number) => String(value).padStart(2, '0');
  const longMonth = date.toLocaleString('en-GB', { month: 'long', timeZone: 'UTC' });
  const shortMonth = date.toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' });
  return [
    birthDate,
    `${year}${twoDigits(month)}${twoDigits(day)}`,
    `${year}/${twoDigits(month)}/${twoDigits(day)}`,
    `${twoDigits(day)}/${twoDigits(month)}/${year}`,
    `${twoDigits(month)}/${twoDigits(day)}/${year}`,
    `${day}/${month}/${year}`,
    `${twoDigits(day)}.${twoDigits(month)}.${year}`,
    `${twoDigits(day)}-${twoDigits(month)}-${year}`,
    `${day} ${longMonth} ${year}`,
    `${day} ${shortMonth} ${year}`,
    `${longMonth} ${day}, ${year}`,
    `${shortMonth} ${day}, ${year}`,
    // Milliseconds and seconds since the epoch of midnight UTC, as a Date serialises.
    String(date.getTime()),
    String(date.getTime() / 1000),
  ];
}

/** Returns the value of the agent's `sandbox.sid` cookie, or null. */
function sessionCookieValue(agent: Agent): string | null {
  const jar = (agent as unknown as { jar: { getCookies(access: unknown): Array<{ name: string; value: string }> } }).jar;
  return jar.getCookies(CookieAccessInfo.All).find((cookie) => cookie.name === 'sandbox.sid')?.value ?? null;
}

describe('no patient data in logs', function () {
  const logLines: string[] = [];
  const clock = new TestClock('2026-12-04T09:00:00Z');
  const codesEntered: string[] = [];
  const sessionCookies = new Set<string>();
  let journey: JourneySandbox;
  let secrets: SandboxSecrets;
  let otpauthUri: string;
  let recoveryCodes: string[] = [];
  let clientSecret: string;

  /**
   * Finds the log lines that match any needle. Returns one description per match: the label,
   * the line's message and the text around the match.
   */
  function findInLogs(needles: Needle[]): string[] {
    const found: string[] = [];
    for (const needle of needles) {
      for (const line of logLines) {
        const match = needle.pattern.exec(line);
        if (match) {
          const message = (JSON.parse(line) as { msg?: string }).msg;
          const context = line.slice(Math.max(0, match.index - 120), match.index + match[0].length + 40);
          found.push(`${needle.label} in "${message}": …${context}…`);
        }
      }
    }
    return found;
  }

  /** Fails with the first few matches when there are any. */
  function expectNoneFound(found: string[]): void {
    expect(found.length, `${found.length} matches, first ones:\n${found.slice(0, 5).join('\n')}`).to.equal(0);
  }

  /** Keeps the agent's current session cookie, because each regenerated id must stay out of the log too. */
  function rememberSession(agent: Agent): void {
    const value = sessionCookieValue(agent);
    if (value) {
      sessionCookies.add(value);
    }
  }

  async function submitCode(agent: Agent, path: string, code: string): Promise<Response> {
    const page = await agent.get(`${recordPath}/`).expect(200);
    rememberSession(agent);
    codesEntered.push(code);
    const response = await agent.post(path).type('form').send({ _csrf: csrfTokenFrom(page.text), code });
    rememberSession(agent);
    return response;
  }

  async function viewEverySection(agent: Agent): Promise<void> {
    await agent.get(`${recordPath}/`).expect(200);
    for (const slug of sectionSlugs) {
      await agent.get(`${recordPath}/section/${slug}`).expect(200);
    }
  }

  before(async function () {
    this.timeout(120_000);
    const logger = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });

    // The same construction as startJourneySandbox, with the capturing logger everywhere.
    const database = await createTestDatabase();
    secrets = generateSecrets(['riverside', 'harbour']);
    const holder: { journey?: JourneySandbox } = {};
    const emulator: StripeEmulator = createSandboxStripeEmulator({
      sandbox: () => holder.journey!.sandbox,
      publicUrl: () => holder.journey!.publicUrl,
      logger,
      clock,
    });
    const { url: emulatorUrl } = await emulator.listen(0, '127.0.0.1');
    const open = () =>
      createSandbox({
        databaseUrl: database.url,
        secrets,
        logger,
        clock,
        stripeApiEndpoint: { host: '127.0.0.1', port: Number(new URL(emulatorUrl).port), protocol: 'http' },
      });
    const sandbox = await open();
    await seedDemoData(sandbox.models, secrets, logger);
    const server: Server = createServer((incoming, outgoing) => holder.journey!.sandbox.app(incoming, outgoing));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    journey = {
      sandbox,
      database,
      secrets,
      clock,
      emulator,
      server,
      publicUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      async restart() {
        await journey.sandbox.close();
        journey.sandbox = await open();
      },
      async close() {
        await journey.sandbox.close();
        await database.drop();
      },
      async stop() {
        await emulator.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await journey.close();
      },
    };
    holder.journey = journey;

    await enableClinicalAccess(journey, { autoApprove: true });
    // Each event arrives twice, so the duplicate path logs too.
    emulator.setDelivery({ duplicates: 1 });

    // Request, then the emulator's hosted page as a browser submits it.
    const agent = await signIn(journey, 'portal', portalLogin);
    rememberSession(agent);
    const startPage = await agent.get(`${recordPath}/`).expect(200);
    const requested = await agent.post(`${recordPath}/request`).type('form').send({ _csrf: csrfTokenFrom(startPage.text) });
    expect(requested.status, requested.text).to.equal(303);
    const hostedPageUrl = new URL(requested.headers.location!);
    const hostedPage = await request(emulatorUrl).get(hostedPageUrl.pathname).expect(200);
    clientSecret = /name="client_secret" value="([^"]+)"/.exec(hostedPage.text)![1]!;
    const submitted = await request(emulatorUrl)
      .post(hostedPageUrl.pathname)
      .type('form')
      .send({ outcome: 'verified', given_names: patient.givenNames.join(' '), family_name: patient.familyName, dob: patient.birthDate, client_secret: clientSecret });
    expect(submitted.status, submitted.text).to.equal(303);
    await emulator.flushDeliveries();
    await agent.get(`${recordPath}/identity/return`).expect(303);

    // Enrolment: a wrong code first, then the app's code.
    const setupPage = await agent.get(`${recordPath}/`).expect(200);
    otpauthUri = await decodeQrCode(setupPage.text);
    const code = await authenticatorCode(otpauthUri, clock);
    const wrongEnrolment = await submitCode(agent, `${recordPath}/authenticator`, code === '000000' ? '111111' : '000000');
    expect(wrongEnrolment.status).to.equal(400);
    const enrolled = await submitCode(agent, `${recordPath}/authenticator`, code);
    expect(enrolled.status, enrolled.text).to.equal(303);

    const codesPage = await agent.get(`${recordPath}/recovery-codes`).expect(200);
    recoveryCodes = [...codesPage.text.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((match) => match[1]!);
    expect(recoveryCodes).to.have.length(10);
    await agent.get(`${recordPath}/recovery-codes/download`).expect(200);
    await agent.post(`${recordPath}/recovery-codes/confirm`).type('form').send({ _csrf: csrfTokenFrom(codesPage.text) }).expect(303);
    await viewEverySection(agent);

    // A later visit: a wrong code, then the next step's code.
    clock.advance(30_000);
    const visit = await signIn(journey, 'portal', portalLogin);
    rememberSession(visit);
    const wrongChallenge = await submitCode(visit, `${recordPath}/challenge`, '000000' === (await authenticatorCode(otpauthUri, clock)) ? '111111' : '000000');
    expect(wrongChallenge.status).to.equal(400);
    const challenged = await submitCode(visit, `${recordPath}/challenge`, await authenticatorCode(otpauthUri, clock));
    expect(challenged.status, challenged.text).to.equal(303);
    await viewEverySection(visit);

    // Another visit with a recovery code.
    const recoveryVisit = await signIn(journey, 'portal', portalLogin);
    rememberSession(recoveryVisit);
    const recovered = await submitCode(recoveryVisit, `${recordPath}/challenge`, recoveryCodes[0]!);
    expect(recovered.status, recovered.text).to.equal(303);
    await viewEverySection(recoveryVisit);

    // Staff search the list by the patient's name and date of birth and open the request.
    const manager = await signIn(journey, 'admin', 'manager@riverside.example.test');
    await manager.get(`${staffPath}/access`).query({ q: patient.familyName }).expect(200);
    await manager.get(`${staffPath}/access`).query({ q: patient.birthDate }).expect(200);

    // A webhook with a forged signature, and a correctly signed duplicate of a delivered event.
    const practice = (await journey.sandbox.models.Practice.findOne({ where: { demoKey: 'riverside' } }))!;
    const delivered = emulator.events.find((event) => event.type === 'identity.verification_session.verified')!;
    const payload = JSON.stringify(delivered);
    const webhookPath = `/webhooks/stripe/${practice.stripeWebhookEndpointKey}`;
    const timestamp = Math.floor(clock.now().getTime() / 1000);
    await request(journey.sandbox.app).post(webhookPath).set('Content-Type', 'application/json').set('Stripe-Signature', signPayload(payload, 'whsec_forged', timestamp)).send(payload).expect(400);
    await request(journey.sandbox.app).post(webhookPath).set('Content-Type', 'application/json').set('Stripe-Signature', signPayload(payload, practice.stripeWebhookSigningSecret!, timestamp)).send(payload).expect(200);
  });

  after(async function () {
    await journey?.stop();
  });

  it('captures sandbox and emulator logs at trace', function () {
    const records = logLines.map((line) => JSON.parse(line) as { level: number; msg?: string; component?: string });

    expect(records.some((record) => record.level === 10 && record.msg === 'sql'), 'trace-level SQL lines').to.equal(true);
    expect(records.some((record) => record.msg === 'webhook event processed'), 'plugin lines').to.equal(true);
    expect(records.some((record) => record.msg === 'duplicate webhook event ignored'), 'duplicate webhook line').to.equal(true);
    expect(records.some((record) => record.msg === 'webhook signature rejected'), 'forged webhook line').to.equal(true);
    expect(records.some((record) => record.component === 'stripe-emulator' && record.msg === 'Webhook delivered'), 'emulator lines').to.equal(true);
  });

  it('logs no name of the patient', function () {
    const names = [...patient.givenNames, patient.familyName, patient.givenNames.join(' '), `${patient.givenNames[0]} ${patient.familyName}`];
    const needles = names.map((name) => wordNeedle(`name "${name}"`, name));
    needles.push(wordNeedle('portal sign-in name', portalLogin));

    expectNoneFound(findInLogs(needles));
  });

  it('logs no date of birth', function () {
    const needles = birthDateForms(patient.birthDate).map((form) => wordNeedle(`date of birth as "${form}"`, form));

    expectNoneFound(findInLogs(needles));
  });

  it('logs no TOTP secret', function () {
    const secret = new URL(otpauthUri).searchParams.get('secret')!;
    const needles = [
      anywhereNeedle('TOTP secret', secret),
      anywhereNeedle('TOTP secret in groups of four', secret.match(/.{1,4}/g)!.join(' ')),
      anywhereNeedle('otpauth URI', 'otpauth://'),
    ];

    expectNoneFound(findInLogs(needles));
  });

  it('logs no code the patient entered', function () {
    const needles = codesEntered.map((code) => wordNeedle(`code "${code}"`, code));

    expect(codesEntered.length, 'codes entered').to.be.at.least(5);
    expectNoneFound(findInLogs(needles));
  });

  it('logs no recovery code', function () {
    const needles = recoveryCodes.flatMap((code) => [anywhereNeedle(`recovery code ${code}`, code), anywhereNeedle(`recovery code ${code} without hyphens`, code.replaceAll('-', ''))]);

    expectNoneFound(findInLogs(needles));
  });

  it('logs no session id', function () {
    const needles: Needle[] = [];
    for (const cookie of sessionCookies) {
      // The cookie is "s:" + session id + "." + signature, URL-encoded.
      const decoded = decodeURIComponent(cookie);
      const [sessionId, signature] = decoded.slice(2).split('.') as [string, string];
      needles.push(anywhereNeedle('session cookie', cookie), anywhereNeedle('session id', sessionId), anywhereNeedle('session cookie signature', signature));
    }

    expect(sessionCookies.size, 'session cookies seen').to.be.at.least(4);
    expectNoneFound(findInLogs(needles));
  });

  it('logs no Stripe or sandbox secret', function () {
    const riverside = secrets.stripe.riverside!;
    const needles = [
      anywhereNeedle('Stripe secret key', riverside.secretKey),
      anywhereNeedle('webhook signing secret', riverside.webhookSigningSecret),
      anywhereNeedle('verification session client secret', clientSecret),
      anywhereNeedle('session secret', secrets.sessionSecret),
      ...Object.values(secrets.keyring.keys).map((key) => anywhereNeedle('keyring key', key)),
    ];

    expectNoneFound(findInLogs(needles));
  });

  it('logs no portal password', function () {
    expectNoneFound(findInLogs([anywhereNeedle('portal password', demoPassword)]));
  });
});
