import { createServer, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import type { Agent } from 'supertest';
import { expect } from 'chai';
import cookiejar from 'cookiejar';
import { createSandboxStripeEmulator } from '../../sandbox/stripe-emulator-wiring.js';
import type { StripeEmulator } from '../../sandbox/stripe-emulator/index.js';
import { csrfTokenFrom, pluginOf, signIn, silentLogger, startTestSandbox, type TestSandbox } from './sandbox.js';
import { TestClock } from './clock.js';

const run = promisify(execFile);
const { CookieAccessInfo } = cookiejar;

export const recordPath = '/portal/clinical-record';
export const staffPath = '/admin/settings/patient-portal/clinical-record-access';

/** A test sandbox with the Stripe emulator beside it and the sandbox listening for webhooks. */
export interface JourneySandbox extends TestSandbox {
  emulator: StripeEmulator;
  server: Server;
  publicUrl: string;
  stop(): Promise<void>;
}

export async function startJourneySandbox(options: { clock?: TestClock } = {}): Promise<JourneySandbox> {
  const clock = options.clock ?? new TestClock('2026-12-04T09:00:00Z');
  const holder: { journey?: JourneySandbox } = {};

  const emulator = createSandboxStripeEmulator({
    sandbox: () => holder.journey!.sandbox,
    publicUrl: () => holder.journey!.publicUrl,
    logger: silentLogger,
    clock,
  });
  const { url } = await emulator.listen(0, '127.0.0.1');
  const stripeApiEndpoint = { host: '127.0.0.1', port: Number(new URL(url).port), protocol: 'http' as const };

  const testSandbox = await startTestSandbox({ clock, stripeApiEndpoint });
  const server = createServer((request, response) => testSandbox.sandbox.app(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const journey: JourneySandbox = Object.assign(testSandbox, {
    emulator,
    server,
    publicUrl,
    async stop() {
      await emulator.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await testSandbox.close();
    },
  });
  holder.journey = journey;
  return journey;
}

export async function practiceIdOf(journey: TestSandbox, demoKey: 'riverside' | 'harbour'): Promise<string> {
  const practice = await journey.sandbox.models.Practice.findOne({ where: { demoKey } });
  return String(practice!.id);
}

export async function patientIdOf(journey: TestSandbox, portalLogin: string): Promise<string> {
  const patient = await journey.sandbox.models.Patient.findOne({ where: { portalLogin } });
  return String(patient!.id);
}

/** Turns the feature on for a practice through the staff settings page, as a manager would. */
export async function enableClinicalAccess(journey: TestSandbox, options: { autoApprove: boolean; managerEmail?: string }): Promise<void> {
  const agent = await signIn(journey, 'admin', options.managerEmail ?? 'manager@riverside.example.test');
  const page = await agent.get(staffPath).expect(200);
  const version = /name="version" value="(\d+)"/.exec(page.text)![1]!;
  const fields: Record<string, string> = { _csrf: csrfTokenFrom(page.text), version, enabled: 'on' };
  if (options.autoApprove) {
    fields.autoApprove = 'on';
  }
  await agent.post(`${staffPath}/settings`).type('form').send(fields).expect(303);
}

/** Reads a patient's request row straight from the plugin's table. */
export async function accessRequestOf(journey: TestSandbox, patientId: string) {
  return pluginOf(journey).models.AccessRequest.findOne({ where: { subjectPatientId: patientId } });
}

/**
 * Makes a decision as a staff member from the patient's page, with the version the page
 * showed, and returns the response.
 */
export async function staffDecide(
  journey: TestSandbox,
  requestId: number | string,
  decision: 'approve' | 'deny' | 'revoke',
  options: { email?: string; reason?: string; message?: string } = {},
) {
  const agent = await signIn(journey, 'admin', options.email ?? 'manager@riverside.example.test');
  const page = await agent.get(`${staffPath}/access/${requestId}`);
  const version = /name="version" value="(\d+)"/.exec(page.text)?.[1] ?? '1';
  return agent
    .post(`${staffPath}/access/${requestId}/decision`)
    .type('form')
    .send({ _csrf: csrfTokenFrom(page.text), version, decision, reason: options.reason ?? '', message: options.message ?? '' });
}

/** Submits a form on the patient's current page and returns the response. */
export async function postForm(agent: Agent, pagePath: string, action: string, fields: Record<string, string> = {}) {
  const page = await agent.get(pagePath);
  return agent.post(action).type('form').send({ _csrf: csrfTokenFrom(page.text), ...fields });
}

/**
 * Requests access as the signed-in patient and returns the verification session id that
 * the plugin created at the emulator, read from the redirect to Stripe's page.
 */
export async function requestAccess(agent: Agent): Promise<string> {
  const response = await postForm(agent, `${recordPath}/`, `${recordPath}/request`);
  expect(response.status, response.text).to.equal(303);
  const match = /\/verify\/(vs_[A-Za-z0-9]+)/.exec(response.headers.location ?? '');
  expect(match, `redirect to ${response.headers.location}`).to.not.equal(null);
  return match![1]!;
}

/** Completes the document check at the emulator and waits for its webhooks to be delivered. */
export async function completeIdentityCheck(
  journey: JourneySandbox,
  sessionId: string,
  outcome: Parameters<StripeEmulator['completeSession']>[1],
): Promise<void> {
  await journey.emulator.completeSession(sessionId, outcome);
  await journey.emulator.flushDeliveries();
}

/** Decodes the QR code image on the authenticator page with zbarimg, a real QR decoder. */
export async function decodeQrCode(pageHtml: string): Promise<string> {
  const match = /<img class="cra-qr" src="data:image\/png;base64,([^"]+)"/.exec(pageHtml);
  expect(match, 'QR code image on the page').to.not.equal(null);
  const folder = await mkdtemp(join(tmpdir(), 'cra-qr-'));
  try {
    const file = join(folder, 'qr.png');
    await writeFile(file, Buffer.from(match![1]!, 'base64'));
    const { stdout } = await run('zbarimg', ['--quiet', '--raw', file]);
    return stdout.trim();
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Produces the TOTP code for the URI's secret at the clock's instant with oathtool, an independent implementation. */
export async function authenticatorCode(otpauthUri: string, clock: TestClock): Promise<string> {
  const secret = new URL(otpauthUri).searchParams.get('secret');
  expect(secret, 'secret in the otpauth URI').to.be.a('string');
  const instant = clock.now().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const { stdout } = await run('oathtool', ['--totp', '-b', secret!, '--now', instant]);
  return stdout.trim();
}

/**
 * Sets up the authenticator as the patient: scans the QR code, confirms a code, saves the
 * recovery codes. Returns the otpauth URI and the recovery codes.
 */
export async function enrolAuthenticator(journey: JourneySandbox, agent: Agent): Promise<{ otpauthUri: string; recoveryCodes: string[] }> {
  const page = await agent.get(`${recordPath}/`).expect(200);
  expect(page.text).to.contain('Set up an authenticator app');
  const otpauthUri = await decodeQrCode(page.text);

  const code = await authenticatorCode(otpauthUri, journey.clock);
  const confirmation = await agent.post(`${recordPath}/authenticator`).type('form').send({ _csrf: csrfTokenFrom(page.text), code });
  expect(confirmation.status, confirmation.text).to.equal(303);

  const codesPage = await agent.get(`${recordPath}/recovery-codes`).expect(200);
  const recoveryCodes = [...codesPage.text.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((match) => match[1]!);
  expect(recoveryCodes).to.have.length(10);
  await agent.post(`${recordPath}/recovery-codes/confirm`).type('form').send({ _csrf: csrfTokenFrom(codesPage.text) }).expect(303);
  return { otpauthUri, recoveryCodes };
}

/** Reads the host's session cookie from the agent's cookie jar. */
export function sessionCookie(agent: Agent): string | undefined {
  const jar = (agent as unknown as { jar: { getCookies(access: unknown): Array<{ name: string; value: string }> } }).jar;
  return jar.getCookies(CookieAccessInfo.All).find((cookie) => cookie.name === 'sandbox.sid')?.value;
}

export { pluginOf, signIn, csrfTokenFrom };
