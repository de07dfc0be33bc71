/**
 * Two sandbox processes on one MariaDB database, as a practice platform runs several server
 * processes behind a load balancer. The rules that must hold across processes (a TOTP time
 * step and a recovery code accepted once, one failure counter and lock per patient, each
 * webhook event processed once) are enforced by the database, so they must hold here too.
 *
 * Each process is test/support/sandbox-process.ts started with `node --import tsx`. The test
 * process creates and seeds the database, runs the Stripe emulator and reads the database
 * directly for its checks. The same patient session cookie is sent to both processes, as a
 * browser does when a load balancer spreads its requests.
 */
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import type { Response } from 'supertest';
import { Op } from 'sequelize';
import { createSandbox, type Sandbox } from '../../sandbox/app.js';
import { generateSecrets, type SandboxSecrets } from '../../sandbox/secrets.js';
import { seedDemoData } from '../../sandbox/demo/seed.js';
import { demoPassword } from '../../sandbox/demo/practices.js';
import { demoPatients } from '../../sandbox/demo/patients.js';
import { createStripeEmulator, signPayload, type StripeEmulator } from '../../sandbox/stripe-emulator/index.js';
import { MFA_FREE_FAILURES } from '../../plugin/mfa/throttle.js';
import type { PluginContext } from '../../plugin/plugin-context.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TestClock } from '../support/clock.js';
import { silentLogger, csrfTokenFrom } from '../support/sandbox.js';
import { authenticatorCode, decodeQrCode, recordPath, staffPath } from '../support/journey.js';

const entryScript = fileURLToPath(new URL('../support/sandbox-process.ts', import.meta.url));
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const testClockPath = '/test-clock';
const startInstant = '2026-12-04T09:00:00Z';
const portalLogin = 'siobhan.obrien@example.test';
const submissions = 50;

/** A sandbox host running as a child process. */
interface SandboxProcess {
  name: string;
  url: string;
  child: ChildProcessWithoutNullStreams;
  /** Everything the process wrote to stderr, for failure messages. */
  stderr: string[];
}

function usesDatabaseServer(): boolean {
  return /^(mysql|mariadb):/.test(process.env.TEST_DATABASE_URL ?? '');
}

/** Starts the entry script and waits for the line that gives its address. */
async function startSandboxProcess(name: string, environment: Record<string, string>): Promise<SandboxProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entryScript], {
    cwd: projectRoot,
    env: { ...process.env, ...environment },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // If the test process exits without running `after`, the child must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));

  const stderr: string[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr.push(chunk);
    // With TEST_LOG_LEVEL set, each process's log shows beside mocha's output.
    process.stderr.write(chunk);
  });

  const lines = createInterface({ input: child.stdout });
  const listening = new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const match = /^\{"listening":"([^"]+)"\}$/.exec(line);
      if (match) {
        resolve(match[1]!);
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`Sandbox process ${name} exited (code ${code}, signal ${signal}) before listening:\n${stderr.join('')}`)));
  });
  const timeout = new Promise<never>((_resolve, reject) => {
    setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Sandbox process ${name} did not listen within 30 s, so it was killed:\n${stderr.join('')}`));
    }, 30_000).unref();
  });
  const url = await Promise.race([listening, timeout]);
  return { name, url, child, stderr };
}

/** Stops a child with SIGTERM, and with SIGKILL if it has not exited after 5 s. */
async function stopSandboxProcess(sandboxProcess: SandboxProcess): Promise<void> {
  const { child } = sandboxProcess;
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Returns `sandbox.sid=<value>` from a response that set the session cookie, or null. */
function sessionCookieFrom(response: Response): string | null {
  const cookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  const cookie = cookies.find((candidate) => candidate.startsWith('sandbox.sid='));
  return cookie ? cookie.split(';')[0]! : null;
}

/** Signs a demo user in on one process and returns the session cookie. */
async function signInOn(sandboxProcess: SandboxProcess, area: 'admin' | 'portal', email: string): Promise<string> {
  const page = await request(sandboxProcess.url).get(`/${area}/sign-in`).expect(200);
  const firstCookie = sessionCookieFrom(page);
  expect(firstCookie, 'session cookie of the sign-in page').to.be.a('string');
  const response = await request(sandboxProcess.url)
    .post(`/${area}/sign-in`)
    .set('Cookie', firstCookie!)
    .type('form')
    .send({ _csrf: csrfTokenFrom(page.text), email, password: demoPassword });
  expect(response.status, response.text).to.equal(303);
  return sessionCookieFrom(response) ?? firstCookie!;
}

function getWith(sandboxProcess: SandboxProcess, path: string, cookie: string) {
  return request(sandboxProcess.url).get(path).set('Cookie', cookie);
}

function postWith(sandboxProcess: SandboxProcess, path: string, cookie: string, fields: Record<string, string>) {
  return request(sandboxProcess.url).post(path).set('Cookie', cookie).type('form').send(fields);
}

/** Sends the same form `submissions` times at once, alternating between the processes. */
async function submitConcurrently(processes: SandboxProcess[], path: string, cookie: string, fields: Record<string, string>): Promise<Response[]> {
  return Promise.all(Array.from({ length: submissions }, (_unused, index) => postWith(processes[index % processes.length]!, path, cookie, fields)));
}

function describeStatuses(responses: Response[]): string {
  const counts = new Map<string, number>();
  for (const response of responses) {
    const key = `${response.status}${response.headers.location ? ` → ${response.headers.location}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return JSON.stringify(Object.fromEntries(counts));
}

describe('two sandbox processes on one MariaDB database', function () {
  const clock = new TestClock(startInstant);
  const patient = demoPatients.find((candidate) => candidate.portalLogin === portalLogin)!;
  let database: TestDatabase | null = null;
  let secretsFolder: string | null = null;
  let secrets: SandboxSecrets;
  let observer: Sandbox | null = null;
  let emulator: StripeEmulator | null = null;
  const processes: SandboxProcess[] = [];
  let processA: SandboxProcess;
  let processB: SandboxProcess;
  let patientId: string;
  let otpauthUri: string;
  let recoveryCodes: string[];

  const plugin = () => observer!.plugin as PluginContext;

  async function setProcessClock(sandboxProcess: SandboxProcess, instant: Date): Promise<void> {
    await request(sandboxProcess.url).put(testClockPath).send({ instant: instant.toISOString() }).expect(200);
  }

  /** Moves the clock of the test and of both processes to the same instant. */
  async function advanceClock(milliseconds: number): Promise<void> {
    clock.advance(milliseconds);
    for (const sandboxProcess of processes) {
      await setProcessClock(sandboxProcess, clock.now());
    }
  }

  /**
   * Clears the patient's failure counter, so the throttle admits its full number of free
   * attempts and that many submissions are evaluated at the same time.
   */
  async function clearFailureCounter(): Promise<void> {
    await plugin().models.MfaFactor.update({ failedAttempts: 0, lockedUntil: null }, { where: { patientId } });
  }

  async function auditCount(action: string): Promise<number> {
    return plugin().models.AuditEvent.count({ where: { action, patientId } });
  }

  /** Returns a 6-digit code that no time step from one before to one after the clock's accepts. */
  async function wrongCode(): Promise<string> {
    const accepted = new Set<string>();
    for (const offset of [-30_000, 0, 30_000]) {
      accepted.add(await authenticatorCode(otpauthUri, new TestClock(new Date(clock.now().getTime() + offset))));
    }
    return ['000000', '111111', '222222', '333333'].find((code) => !accepted.has(code))!;
  }

  before(async function () {
    if (!usesDatabaseServer()) {
      // The sandbox's SQLite set-up serves one process: it queues transactions in process
      // memory. Several processes share a database server, so this needs TEST_DATABASE_URL=mysql://….
      this.skip();
    }
    this.timeout(120_000);

    database = await createTestDatabase();
    secrets = generateSecrets(['riverside', 'harbour']);
    secretsFolder = await mkdtemp(join(tmpdir(), 'cra-processes-'));
    const secretsFile = join(secretsFolder, 'secrets.json');
    await writeFile(secretsFile, JSON.stringify(secrets), { mode: 0o600 });

    // The test process runs the migrations and loads the demo data once, before the two
    // processes start, and keeps its sandbox open only to read the database.
    observer = await createSandbox({ databaseUrl: database.url, secrets, logger: silentLogger, clock });
    await seedDemoData(observer.models, secrets, silentLogger);

    // Webhooks go out by hand in the test below, so the emulator sends none itself.
    emulator = createStripeEmulator({
      logger: silentLogger,
      clock,
      async resolveAccount(secretKey) {
        const practice = await observer!.models.Practice.findOne({ where: { stripeSecretKey: secretKey } });
        if (!practice?.stripeWebhookSigningSecret) {
          return null;
        }
        return { accountId: `acct_sandbox${practice.id}`, webhookSigningSecret: practice.stripeWebhookSigningSecret, webhookUrl: '' };
      },
    });
    const { url: stripeUrl } = await emulator.listen(0, '127.0.0.1');

    const environment = {
      SANDBOX_DATABASE_URL: database.url,
      SANDBOX_SECRETS_FILE: secretsFile,
      SANDBOX_CLOCK: startInstant,
      SANDBOX_STRIPE_API: stripeUrl,
      SANDBOX_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    };
    const started = await Promise.allSettled([startSandboxProcess('A', environment), startSandboxProcess('B', environment)]);
    for (const result of started) {
      if (result.status === 'fulfilled') {
        processes.push(result.value);
      }
    }
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) {
      throw failure.reason;
    }
    [processA, processB] = processes as [SandboxProcess, SandboxProcess];

    const patientRow = await observer.models.Patient.findOne({ where: { portalLogin } });
    patientId = String(patientRow!.id);

    // A manager on process A turns the feature on, with auto-approve.
    const manager = await signInOn(processA, 'admin', 'manager@riverside.example.test');
    const settingsPage = await getWith(processA, staffPath, manager).expect(200);
    const version = /name="version" value="(\d+)"/.exec(settingsPage.text)![1]!;
    await postWith(processA, `${staffPath}/settings`, manager, { _csrf: csrfTokenFrom(settingsPage.text), version, enabled: 'on', autoApprove: 'on' }).expect(303);
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.all(processes.map((sandboxProcess) => stopSandboxProcess(sandboxProcess)));
    await emulator?.close();
    await observer?.close();
    await database?.drop();
    if (secretsFolder) {
      await rm(secretsFolder, { recursive: true, force: true });
    }
  });

  it('processes one webhook event once', async function () {
    const cookie = await signInOn(processA, 'portal', portalLogin);
    const startPage = await getWith(processA, `${recordPath}/`, cookie).expect(200);
    const requested = await postWith(processB, `${recordPath}/request`, cookie, { _csrf: csrfTokenFrom(startPage.text) });
    expect(requested.status, requested.text).to.equal(303);
    const sessionId = /\/verify\/(vs_[A-Za-z0-9]+)/.exec(requested.headers.location ?? '')![1]!;

    await emulator!.completeSession(sessionId, { kind: 'verified', firstName: patient.givenNames.join(' '), lastName: patient.familyName, dob: patient.birthDate });
    const event = emulator!.events.find((candidate) => candidate.type === 'identity.verification_session.verified' && candidate.data.object.id === sessionId)!;
    const payload = JSON.stringify(event);
    const signature = signPayload(payload, secrets.stripe.riverside!.webhookSigningSecret, Math.floor(clock.now().getTime() / 1000));
    const webhookPath = `/webhooks/stripe/${secrets.stripe.riverside!.webhookEndpointKey}`;

    const deliveries = await Promise.all(
      Array.from({ length: 20 }, (_unused, index) =>
        request(processes[index % 2]!.url).post(webhookPath).set('Content-Type', 'application/json').set('Stripe-Signature', signature).send(payload),
      ),
    );

    expect(deliveries.map((delivery) => delivery.status), 'status of each delivery').to.deep.equal(deliveries.map(() => 200));
    const processed = deliveries.filter((delivery) => (delivery.body as { duplicate?: boolean }).duplicate !== true);
    expect(processed, 'deliveries processed rather than ignored as duplicates').to.have.length(1);
    expect(await plugin().models.WebhookEvent.count({ where: { eventId: event.id } })).to.equal(1);
    expect(await auditCount('identity.matched')).to.equal(1);
    const accessRequest = await plugin().models.AccessRequest.findOne({ where: { subjectPatientId: patientId } });
    expect(accessRequest!.status).to.equal('mfa_pending');
  });

  it('confirms enrolment once for one code', async function () {
    const cookie = await signInOn(processB, 'portal', portalLogin);
    const page = await getWith(processA, `${recordPath}/`, cookie).expect(200);
    expect(page.text).to.contain('Set up an authenticator app');
    otpauthUri = await decodeQrCode(page.text);
    const code = await authenticatorCode(otpauthUri, clock);
    await clearFailureCounter();

    const responses = await submitConcurrently(processes, `${recordPath}/authenticator`, cookie, { _csrf: csrfTokenFrom(page.text), code });

    const accepted = responses.filter((response) => response.status === 303 && response.headers.location === `${recordPath}/recovery-codes`);
    expect(accepted, `responses: ${describeStatuses(responses)}`).to.have.length(1);
    expect(responses.filter((response) => response.status >= 500), `responses: ${describeStatuses(responses)}`).to.have.length(0);
    expect(await auditCount('mfa.enrolled')).to.equal(1);

    // The winner's new session saves the recovery codes, which approves the request.
    const winnerCookie = sessionCookieFrom(accepted[0]!)!;
    const codesPage = await getWith(processB, `${recordPath}/recovery-codes`, winnerCookie).expect(200);
    recoveryCodes = [...codesPage.text.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((match) => match[1]!);
    expect(recoveryCodes).to.have.length(10);
    await postWith(processA, `${recordPath}/recovery-codes/confirm`, winnerCookie, { _csrf: csrfTokenFrom(codesPage.text) }).expect(303);
    const accessRequest = await plugin().models.AccessRequest.findOne({ where: { subjectPatientId: patientId } });
    expect(accessRequest!.status).to.equal('approved');
  });

  it('accepts one TOTP code once', async function () {
    await advanceClock(30_000);
    const cookie = await signInOn(processA, 'portal', portalLogin);
    const page = await getWith(processB, `${recordPath}/`, cookie).expect(200);
    expect(page.text).to.contain('Enter your code');
    const code = await authenticatorCode(otpauthUri, clock);
    await clearFailureCounter();
    const sessionsBefore = await plugin().models.ClinicalSession.count({ where: { patientId } });

    const responses = await submitConcurrently(processes, `${recordPath}/challenge`, cookie, { _csrf: csrfTokenFrom(page.text), code });

    const accepted = responses.filter((response) => response.status === 303 && response.headers.location === `${recordPath}/`);
    expect(accepted, `responses: ${describeStatuses(responses)}`).to.have.length(1);
    expect(responses.filter((response) => response.status >= 500), `responses: ${describeStatuses(responses)}`).to.have.length(0);
    expect(await plugin().models.ClinicalSession.count({ where: { patientId } })).to.equal(sessionsBefore + 1);
    const overview = await getWith(processB, `${recordPath}/`, sessionCookieFrom(accepted[0]!)!).expect(200);
    expect(overview.text).to.contain(`${recordPath}/section/problems`);
  });

  it('accepts one recovery code once', async function () {
    await advanceClock(30_000);
    // B's clock runs a second ahead, as servers' clocks differ. MariaDB counts only rows whose
    // values change, so with equal clocks a second "mark used" would look like no match anyway.
    await setProcessClock(processB, new Date(clock.now().getTime() + 1_000));
    const cookie = await signInOn(processB, 'portal', portalLogin);
    const page = await getWith(processA, `${recordPath}/`, cookie).expect(200);
    expect(page.text).to.contain('Enter your code');
    await clearFailureCounter();

    const responses = await submitConcurrently(processes, `${recordPath}/challenge`, cookie, { _csrf: csrfTokenFrom(page.text), code: recoveryCodes[0]! });

    const accepted = responses.filter((response) => response.status === 303 && response.headers.location === `${recordPath}/?notice=recoveryCodeUsed`);
    expect(accepted, `responses: ${describeStatuses(responses)}`).to.have.length(1);
    expect(responses.filter((response) => response.status >= 500), `responses: ${describeStatuses(responses)}`).to.have.length(0);
    expect(await plugin().models.RecoveryCode.count({ where: { patientId, usedAt: { [Op.ne]: null } } })).to.equal(1);
    expect(await auditCount('mfa.recoveryCodeUsed')).to.equal(1);
  });

  it('rejects the used recovery code later', async function () {
    await advanceClock(30_000);
    for (const sandboxProcess of [processA, processB]) {
      const cookie = await signInOn(sandboxProcess, 'portal', portalLogin);
      const page = await getWith(sandboxProcess, `${recordPath}/`, cookie).expect(200);
      await clearFailureCounter();

      const response = await postWith(sandboxProcess, `${recordPath}/challenge`, cookie, { _csrf: csrfTokenFrom(page.text), code: recoveryCodes[0]! });

      expect(response.status, `used code on ${sandboxProcess.name}`).to.equal(400);
      expect(response.text).to.contain('That recovery code is not right, or it has been used already');
    }
    expect(await plugin().models.RecoveryCode.count({ where: { patientId, usedAt: { [Op.ne]: null } } })).to.equal(1);
  });

  it('locks on B after failures on A and B', async function () {
    await advanceClock(30_000);
    const cookie = await signInOn(processA, 'portal', portalLogin);
    const page = await getWith(processA, `${recordPath}/`, cookie).expect(200);
    const csrf = csrfTokenFrom(page.text);
    await clearFailureCounter();
    const wrong = await wrongCode();

    // Failures alternate between the processes; the last one starts a lock, and its response
    // already shows the lock message.
    for (let failure = 1; failure <= MFA_FREE_FAILURES + 1; failure += 1) {
      const sandboxProcess = failure % 2 === 1 ? processA : processB;
      const response = await postWith(sandboxProcess, `${recordPath}/challenge`, cookie, { _csrf: csrf, code: wrong });
      const expected = failure <= MFA_FREE_FAILURES ? 400 : 429;
      expect(response.status, `failure ${failure} on ${sandboxProcess.name}`).to.equal(expected);
    }
    const factor = await plugin().models.MfaFactor.findOne({ where: { patientId } });
    expect(factor!.failedAttempts).to.equal(MFA_FREE_FAILURES + 1);
    expect(factor!.lockedUntil, 'lock end').to.be.an.instanceOf(Date);

    const code = await authenticatorCode(otpauthUri, clock);
    for (const sandboxProcess of [processB, processA]) {
      const locked = await postWith(sandboxProcess, `${recordPath}/challenge`, cookie, { _csrf: csrf, code });
      expect(locked.status, `right code on ${sandboxProcess.name} while locked`).to.equal(429);
      expect(locked.text).to.contain('Too many codes were not right');
    }
  });

  it('accepts the code on B once the lock ends', async function () {
    const factor = await plugin().models.MfaFactor.findOne({ where: { patientId } });
    await advanceClock(factor!.lockedUntil!.getTime() - clock.now().getTime() + 30_000);
    const cookie = await signInOn(processA, 'portal', portalLogin);
    const page = await getWith(processA, `${recordPath}/`, cookie).expect(200);

    const response = await postWith(processB, `${recordPath}/challenge`, cookie, { _csrf: csrfTokenFrom(page.text), code: await authenticatorCode(otpauthUri, clock) });

    expect(response.status, response.text).to.equal(303);
    expect(response.headers.location).to.equal(`${recordPath}/`);
    const cleared = await plugin().models.MfaFactor.findOne({ where: { patientId } });
    expect(cleared!.failedAttempts).to.equal(0);
  });
});
