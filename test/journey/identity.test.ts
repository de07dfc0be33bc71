import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Agent } from 'supertest';
import { createSandboxStripeEmulator } from '../../sandbox/stripe-emulator-wiring.js';
import { signPayload, type StripeEmulator, type VerificationOutcome } from '../../sandbox/stripe-emulator/index.js';
import { MAX_VERIFICATIONS_PER_DAY } from '../../plugin/identity/identity-service.js';
import {
  completeIdentityCheck,
  enableClinicalAccess,
  patientIdOf,
  pluginOf,
  postForm,
  recordPath,
  requestAccess,
  signIn,
  startJourneySandbox,
  type JourneySandbox,
} from '../support/journey.js';
import { csrfTokenFrom, silentLogger, startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { TestClock } from '../support/clock.js';

const staffSettingsPath = '/admin/settings/patient-portal/clinical-record-access';
const createdEventType = 'identity.verification_session.created';

/** Returns the page's text as a person reads it: tags removed, Handlebars' escapes decoded, spaces collapsed. */
function visibleText(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&#x60;/g, '`')
    .replace(/&#x3D;/g, '=')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

/** Deletes every plugin row about the patient, so a test starts the journey afresh. */
async function clearPatientState(testSandbox: TestSandbox, patientId: string): Promise<void> {
  const { models } = pluginOf(testSandbox);
  await models.AccessRequest.destroy({ where: { viewerPatientId: patientId } });
  await models.IdentityVerification.destroy({ where: { patientId } });
  await models.MfaFactor.destroy({ where: { patientId } });
  await models.RecoveryCode.destroy({ where: { patientId } });
  await models.ClinicalSession.destroy({ where: { patientId } });
  await models.AuditEvent.destroy({ where: { patientId } });
}

/** Clears the patient's plugin state and signs the patient in to the portal. */
async function startAs(testSandbox: TestSandbox, portalLogin: string): Promise<{ agent: Agent; patientId: string }> {
  const patientId = await patientIdOf(testSandbox, portalLogin);
  await clearPatientState(testSandbox, patientId);
  const agent = await signIn(testSandbox, 'portal', portalLogin);
  return { agent, patientId };
}

async function accessRequestOf(testSandbox: TestSandbox, patientId: string) {
  return pluginOf(testSandbox).models.AccessRequest.findOne({ where: { viewerPatientId: patientId } });
}

async function verificationsOf(testSandbox: TestSandbox, patientId: string) {
  return pluginOf(testSandbox).models.IdentityVerification.findAll({ where: { patientId }, order: [['id', 'ASC']] });
}

function createdSessionCount(emulator: StripeEmulator): number {
  return emulator.events.filter((event) => event.type === createdEventType).length;
}

/** Completes the check at the emulator, comes back through the return URL, and returns the patient's page. */
async function finishIdentityCheck(journey: JourneySandbox, agent: Agent, sessionId: string, outcome: VerificationOutcome) {
  await completeIdentityCheck(journey, sessionId, outcome);
  const back = await agent.get(`${recordPath}/identity/return`);
  expect(back.status, back.text).to.equal(303);
  return agent.get(`${recordPath}/`).expect(200);
}

/** Switches Clinical Record Access on or off for Riverside through the staff settings page. */
async function setRiversideEnabled(testSandbox: TestSandbox, enabled: boolean): Promise<void> {
  const manager = await signIn(testSandbox, 'admin', 'manager@riverside.example.test');
  const page = await manager.get(staffSettingsPath).expect(200);
  const version = /name="version" value="(\d+)"/.exec(page.text)![1]!;
  const fields: Record<string, string> = { _csrf: csrfTokenFrom(page.text), version };
  if (enabled) {
    fields.enabled = 'on';
  }
  await manager.post(`${staffSettingsPath}/settings`).type('form').send(fields).expect(303);
}

describe('identity check', function () {
  let journey: JourneySandbox;

  before(async function () {
    journey = await startJourneySandbox();
    await enableClinicalAccess(journey, { autoApprove: false });
  });

  after(async function () {
    await journey.stop();
  });

  describe('details that do not match', function () {
    const cases: Array<{ name: string; outcome: VerificationOutcome; fields: string }> = [
      { name: 'name', outcome: { kind: 'verified', firstName: 'Sinéad', lastName: 'O’Brien', dob: '1984-03-17' }, fields: 'name' },
      { name: 'date of birth', outcome: { kind: 'verified', firstName: 'Siobhán', lastName: 'O’Brien', dob: '1984-03-18' }, fields: 'birthDate' },
      { name: 'name and date of birth', outcome: { kind: 'verified', firstName: 'Sinéad', lastName: 'Byrne', dob: '1985-03-17' }, fields: 'name,birthDate' },
    ];

    for (const { name, outcome, fields } of cases) {
      it(`records a ${name} mismatch`, async function () {
        const { agent, patientId } = await startAs(journey, 'siobhan.obrien@example.test');
        const sessionId = await requestAccess(agent);

        const page = await finishIdentityCheck(journey, agent, sessionId, outcome);

        const text = visibleText(page.text);
        expect(text).to.contain('Your details did not match');
        expect(text).to.contain("did not match the practice's record");
        expect(text).to.contain('Please contact Riverside Medical Centre');
        expect(page.text).not.to.contain('/identity/start');
        const accessRequest = await accessRequestOf(journey, patientId);
        expect(accessRequest!.status).to.equal('identity_mismatch');
        expect(accessRequest!.statusReason).to.equal(fields.split(',')[0]);
        const [verification] = await verificationsOf(journey, patientId);
        expect(verification!.outcome).to.equal('mismatch');
        expect(verification!.mismatchFields).to.equal(fields);
      });
    }

    it('starts no new check after a mismatch', async function () {
      const { agent, patientId } = await startAs(journey, 'siobhan.obrien@example.test');
      const sessionId = await requestAccess(agent);
      await finishIdentityCheck(journey, agent, sessionId, cases[0]!.outcome);
      const sessionsBefore = createdSessionCount(journey.emulator);

      const response = await postForm(agent, `${recordPath}/`, `${recordPath}/identity/start`);

      expect(response.status).to.equal(303);
      expect(response.headers.location).to.equal(`${recordPath}/`);
      expect(createdSessionCount(journey.emulator)).to.equal(sessionsBefore);
      expect(await verificationsOf(journey, patientId)).to.have.length(1);
    });
  });

  describe('accepted name variants', function () {
    const cases: Array<{ name: string; portalLogin: string; outcome: VerificationOutcome }> = [
      {
        name: 'name without accents',
        portalLogin: 'siobhan.obrien@example.test',
        outcome: { kind: 'verified', firstName: 'Siobhan', lastName: "O'Brien", dob: '1984-03-17' },
      },
      {
        name: 'straight apostrophe for a curly one',
        portalLogin: 'siobhan.obrien@example.test',
        outcome: { kind: 'verified', firstName: 'Siobhán', lastName: "O'Brien", dob: '1984-03-17' },
      },
      {
        name: 'curly apostrophe for a straight one',
        portalLogin: 'declan.obrien@example.test',
        outcome: { kind: 'verified', firstName: 'Declan', lastName: 'O’Brien', dob: '1981-11-02' },
      },
      {
        name: 'upper case',
        portalLogin: 'siobhan.obrien@example.test',
        outcome: { kind: 'verified', firstName: 'SIOBHÁN', lastName: 'O’BRIEN', dob: '1984-03-17' },
      },
      {
        name: 'first given name only',
        portalLogin: 'mary.pemberton@example.test',
        outcome: { kind: 'verified', firstName: 'Mary', lastName: 'Pemberton', dob: '1947-12-30' },
      },
      {
        name: 'all given names in first_name',
        portalLogin: 'mary.pemberton@example.test',
        outcome: { kind: 'verified', firstName: 'Mary Anne Louise', lastName: 'Pemberton', dob: '1947-12-30' },
      },
      {
        name: 'hyphen for a space, without accents',
        portalLogin: 'jose.martinez@example.test',
        outcome: { kind: 'verified', firstName: 'Jose', lastName: 'Martinez-Garcia', dob: '1963-04-11' },
      },
    ];

    for (const { name, portalLogin, outcome } of cases) {
      it(`accepts ${name}`, async function () {
        const { agent, patientId } = await startAs(journey, portalLogin);
        const sessionId = await requestAccess(agent);

        const page = await finishIdentityCheck(journey, agent, sessionId, outcome);

        expect(visibleText(page.text)).to.contain('Set up an authenticator app');
        const accessRequest = await accessRequestOf(journey, patientId);
        expect(accessRequest!.status).to.equal('mfa_pending');
        expect(accessRequest!.identityMethod).to.equal('stripe_identity');
        const [verification] = await verificationsOf(journey, patientId);
        expect(verification!.outcome).to.equal('matched');
      });
    }
  });

  describe('Stripe failure codes', function () {
    const cases: Array<{ code: string; outcome: VerificationOutcome; reason: string }> = [
      { code: 'document_expired', outcome: { kind: 'error', code: 'document_expired' }, reason: 'The identity document has expired.' },
      { code: 'document_unverified_other', outcome: { kind: 'error', code: 'document_unverified_other' }, reason: 'Stripe could not check the identity document.' },
      { code: 'document_type_not_supported', outcome: { kind: 'error', code: 'document_type_not_supported' }, reason: 'That type of document cannot be used.' },
      { code: 'selfie_face_mismatch', outcome: { kind: 'error', code: 'selfie_face_mismatch' }, reason: 'The selfie did not match the photo on the document.' },
      { code: 'selfie_unverified_other', outcome: { kind: 'error', code: 'selfie_unverified_other' }, reason: 'Stripe could not check the selfie.' },
      { code: 'consent_declined', outcome: { kind: 'error', code: 'consent_declined' }, reason: 'The check stopped because you chose not to continue.' },
      { code: 'device_not_supported', outcome: { kind: 'error', code: 'device_not_supported' }, reason: 'The check needs a camera.' },
      { code: 'under_supported_age', outcome: { kind: 'error', code: 'under_supported_age' }, reason: 'You are too young for the online identity check.' },
      // The emulator sends no event for an abandoned session, so the plugin reads it on return.
      { code: 'abandoned', outcome: { kind: 'abandoned' }, reason: 'The check was not finished.' },
    ];

    for (const { code, outcome, reason } of cases) {
      it(`explains ${code}`, async function () {
        const { agent, patientId } = await startAs(journey, 'oliver.bennett@example.test');
        const sessionId = await requestAccess(agent);

        const page = await finishIdentityCheck(journey, agent, sessionId, outcome);

        const text = visibleText(page.text);
        expect(text).to.contain('Your identity could not be confirmed');
        expect(text).to.contain(reason);
        const accessRequest = await accessRequestOf(journey, patientId);
        expect(accessRequest!.status).to.equal('identity_failed');
        expect(accessRequest!.statusReason).to.equal(code);
        const [verification] = await verificationsOf(journey, patientId);
        expect(verification!.failureCode).to.equal(code);
        if (code === 'under_supported_age') {
          expect(page.text).not.to.contain('/identity/start');
          expect(text).to.contain('Please ask Riverside Medical Centre to check your identity in person');
        } else {
          expect(page.text).to.contain(`action="${recordPath}/identity/start"`);
          expect(text).to.contain('Try the identity check again');
        }
      });
    }

    it('starts a new session on retry', async function () {
      const { agent, patientId } = await startAs(journey, 'oliver.bennett@example.test');
      const firstSessionId = await requestAccess(agent);
      await finishIdentityCheck(journey, agent, firstSessionId, { kind: 'error', code: 'selfie_face_mismatch' });

      const response = await postForm(agent, `${recordPath}/`, `${recordPath}/identity/start`);

      expect(response.status, response.text).to.equal(303);
      const secondSessionId = /\/verify\/(vs_[A-Za-z0-9]+)/.exec(response.headers.location ?? '')?.[1];
      expect(secondSessionId).to.be.a('string');
      expect(secondSessionId).not.to.equal(firstSessionId);
      const accessRequest = await accessRequestOf(journey, patientId);
      expect(accessRequest!.status).to.equal('identity_pending');
      expect(accessRequest!.statusReason).to.equal(null);
    });

    it('rejects a retry after under_supported_age', async function () {
      const { agent, patientId } = await startAs(journey, 'amelia.brook@example.test');
      const sessionId = await requestAccess(agent);
      await finishIdentityCheck(journey, agent, sessionId, { kind: 'error', code: 'under_supported_age' });
      const sessionsBefore = createdSessionCount(journey.emulator);

      const response = await postForm(agent, `${recordPath}/`, `${recordPath}/identity/start`);

      expect(response.status).to.equal(303);
      expect(response.headers.location).to.equal(`${recordPath}/`);
      expect(createdSessionCount(journey.emulator)).to.equal(sessionsBefore);
      expect(await verificationsOf(journey, patientId)).to.have.length(1);
    });
  });

  describe('daily limit', function () {
    let agent: Agent;
    let patientId: string;
    let firstStartedAt: Date;

    it('rejects a check over the daily limit', async function () {
      const startAt = new Date('2026-12-07T10:15:00Z');
      expect(journey.clock.now().getTime(), 'the clock has not passed the test start').to.be.below(startAt.getTime());
      journey.clock.set(startAt);
      firstStartedAt = startAt;
      ({ agent, patientId } = await startAs(journey, 'chidi.okafor@example.test'));

      let sessionId = await requestAccess(agent);
      for (let started = 1; started < MAX_VERIFICATIONS_PER_DAY; started += 1) {
        await finishIdentityCheck(journey, agent, sessionId, { kind: 'error', code: 'document_expired' });
        journey.clock.advance(10 * 60 * 1000);
        const retry = await postForm(agent, `${recordPath}/`, `${recordPath}/identity/start`);
        expect(retry.status, retry.text).to.equal(303);
        sessionId = /\/verify\/(vs_[A-Za-z0-9]+)/.exec(retry.headers.location ?? '')![1]!;
      }
      await finishIdentityCheck(journey, agent, sessionId, { kind: 'error', code: 'document_expired' });
      journey.clock.advance(10 * 60 * 1000);
      const sessionsBefore = createdSessionCount(journey.emulator);

      const response = await postForm(agent, `${recordPath}/`, `${recordPath}/identity/start`);

      expect(response.status).to.equal(429);
      const text = visibleText(response.text);
      expect(text).to.contain(`You have started ${MAX_VERIFICATIONS_PER_DAY} identity checks in the last 24 hours`);
      // 24 hours after the first start, in the practice's time zone (Europe/London, GMT in December).
      expect(text).to.contain('You can try again after 8 Dec 2026, 10:15');
      expect(createdSessionCount(journey.emulator)).to.equal(sessionsBefore);
      const verifications = await verificationsOf(journey, patientId);
      expect(verifications).to.have.length(MAX_VERIFICATIONS_PER_DAY);
      expect(verifications.filter((verification) => verification.stripeSessionId === null)).to.have.length(0);
      const accessRequest = await accessRequestOf(journey, patientId);
      expect(accessRequest!.status).to.equal('identity_failed');
    });

    it('allows a check again after 24 hours', async function () {
      journey.clock.set(new Date(firstStartedAt.getTime() + 24 * 60 * 60 * 1000 + 60 * 1000));
      const sessionsBefore = createdSessionCount(journey.emulator);

      const response = await postForm(agent, `${recordPath}/`, `${recordPath}/identity/start`);

      expect(response.status, response.text).to.equal(303);
      expect(response.headers.location).to.match(/\/verify\/vs_[A-Za-z0-9]+$/);
      expect(createdSessionCount(journey.emulator)).to.equal(sessionsBefore + 1);
      expect(await verificationsOf(journey, patientId)).to.have.length(MAX_VERIFICATIONS_PER_DAY + 1);
    });
  });

  describe('unfinished session', function () {
    it('reuses the session on continue', async function () {
      const { agent, patientId } = await startAs(journey, 'priya.raghunathan@example.test');
      const sessionId = await requestAccess(agent);
      const page = await agent.get(`${recordPath}/`).expect(200);
      expect(visibleText(page.text)).to.contain('Continue the identity check');
      const sessionsBefore = createdSessionCount(journey.emulator);

      const response = await postForm(agent, `${recordPath}/`, `${recordPath}/identity/start`);

      expect(response.status, response.text).to.equal(303);
      expect(response.headers.location).to.match(new RegExp(`/verify/${sessionId}$`));
      expect(createdSessionCount(journey.emulator)).to.equal(sessionsBefore);
      expect(await verificationsOf(journey, patientId)).to.have.length(1);
    });

    it('starts no session while one is processing', async function () {
      const { agent, patientId } = await startAs(journey, 'priya.raghunathan@example.test');
      const sessionId = await requestAccess(agent);
      await completeIdentityCheck(journey, sessionId, { kind: 'processing' });
      const sessionsBefore = createdSessionCount(journey.emulator);

      const response = await postForm(agent, `${recordPath}/`, `${recordPath}/identity/start`);

      expect(response.status, response.text).to.equal(303);
      expect(response.headers.location).to.match(new RegExp(`${recordPath}/identity/return$`));
      expect(createdSessionCount(journey.emulator)).to.equal(sessionsBefore);
      expect(await verificationsOf(journey, patientId)).to.have.length(1);
    });

    it('applies the processing session once verified', async function () {
      const { agent, patientId } = await startAs(journey, 'priya.raghunathan@example.test');
      const sessionId = await requestAccess(agent);
      await completeIdentityCheck(journey, sessionId, { kind: 'processing' });
      await postForm(agent, `${recordPath}/`, `${recordPath}/identity/start`);

      await completeIdentityCheck(journey, sessionId, { kind: 'verified', firstName: 'Priya', lastName: 'Raghunathan', dob: '1975-10-19' });

      const accessRequest = await accessRequestOf(journey, patientId);
      expect(accessRequest!.status).to.equal('mfa_pending');
      const page = await agent.get(`${recordPath}/`).expect(200);
      expect(visibleText(page.text)).to.contain('Set up an authenticator app');
    });
  });

  describe('disabled practice', function () {
    before(async function () {
      await setRiversideEnabled(journey, false);
    });

    after(async function () {
      await setRiversideEnabled(journey, true);
    });

    it('starts no session on request', async function () {
      const { agent, patientId } = await startAs(journey, 'lucja.wisniewska@example.test');
      const sessionsBefore = createdSessionCount(journey.emulator);

      const response = await postForm(agent, `${recordPath}/`, `${recordPath}/request`);

      expect(response.status).to.equal(303);
      expect(response.headers.location).to.equal(`${recordPath}/`);
      expect(createdSessionCount(journey.emulator)).to.equal(sessionsBefore);
      expect(await accessRequestOf(journey, patientId)).to.equal(null);
      expect(await verificationsOf(journey, patientId)).to.have.length(0);
    });

    it('says the practice does not offer access', async function () {
      const { agent } = await startAs(journey, 'lucja.wisniewska@example.test');

      const page = await agent.get(`${recordPath}/`).expect(200);

      const text = visibleText(page.text);
      expect(text).to.contain('Clinical record not available');
      expect(text).to.contain('Riverside Medical Centre does not offer online access to clinical records at the moment');
      expect(page.text).not.to.contain(`action="${recordPath}/request"`);
    });
  });

  describe('patient of another practice', function () {
    const riversideLogin = 'zoe.ashworth-clarke@example.test';
    const harbourLogin = 'aroha.ngatai@example.test';
    let harbour: Agent;
    let harbourPatientId: string;
    let riversidePatientId: string;

    /** Returns Riverside's rows about its patient, and the emulator's session count, as JSON for comparison. */
    async function riversideState(): Promise<string> {
      const accessRequest = await accessRequestOf(journey, riversidePatientId);
      const verifications = await verificationsOf(journey, riversidePatientId);
      const factors = await pluginOf(journey).models.MfaFactor.findAll({ where: { patientId: riversidePatientId } });
      return JSON.stringify({
        accessRequest: accessRequest?.toJSON(),
        verifications: verifications.map((row) => row.toJSON()),
        factors: factors.map((row) => row.toJSON()),
        sessions: createdSessionCount(journey.emulator),
      });
    }

    before(async function () {
      const riverside = await startAs(journey, riversideLogin);
      riversidePatientId = riverside.patientId;
      const sessionId = await requestAccess(riverside.agent);
      await finishIdentityCheck(journey, riverside.agent, sessionId, { kind: 'verified', firstName: 'Zoë', lastName: 'Ashworth-Clarke', dob: '1992-07-08' });
      ({ agent: harbour, patientId: harbourPatientId } = await startAs(journey, harbourLogin));
    });

    it('shows the harbour patient the unavailable page', async function () {
      const page = await harbour.get(`${recordPath}/`).expect(200);

      const text = visibleText(page.text);
      expect(text).to.contain('Clinical record not available');
      expect(text).to.contain('Harbour Street Surgery does not offer online access to clinical records at the moment');
      expect(text).not.to.contain('Set up an authenticator app');
    });

    it('shows no riverside step to the harbour patient', async function () {
      for (const path of ['/recovery-codes', '/recovery-codes/download', '/section/problems']) {
        const response = await harbour.get(`${recordPath}${path}`);
        expect(response.status, path).to.equal(303);
        expect(response.headers.location, path).to.equal(`${recordPath}/`);
      }
    });

    it('changes no riverside state from harbour', async function () {
      const before = await riversideState();

      const requested = await postForm(harbour, `${recordPath}/`, `${recordPath}/request`);
      const started = await postForm(harbour, `${recordPath}/`, `${recordPath}/identity/start`);
      const returned = await harbour.get(`${recordPath}/identity/return`);
      const confirmed = await postForm(harbour, `${recordPath}/`, `${recordPath}/authenticator`, { code: '123456' });

      expect(requested.status).to.equal(303);
      expect(started.status).to.equal(303);
      expect(returned.status).to.equal(303);
      expect(confirmed.status).to.equal(303);
      expect(await riversideState()).to.equal(before);
      expect(await accessRequestOf(journey, harbourPatientId)).to.equal(null);
    });

    it('rejects riverside ids in a harbour form', async function () {
      const before = await riversideState();
      const riversidePracticeId = String((await journey.sandbox.models.Practice.findOne({ where: { demoKey: 'riverside' } }))!.id);

      const response = await postForm(harbour, `${recordPath}/`, `${recordPath}/request`, { patientId: riversidePatientId, practiceId: riversidePracticeId });

      expect(response.status).to.equal(400);
      expect(await riversideState()).to.equal(before);
      expect(await accessRequestOf(journey, harbourPatientId)).to.equal(null);
    });
  });
});

/** Reserves a free port on 127.0.0.1 by listening on port 0 and closing again. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('identity check: Stripe unreachable', function () {
  const portalLogin = 'siobhan.obrien@example.test';
  let stripePort: number;
  let testSandbox: TestSandbox;
  let sandboxServer: Server;
  let emulator: StripeEmulator;
  let stripeServer: Server | null = null;
  let agent: Agent;
  let patientId: string;
  let sessionId: string;

  /** Serves the emulator's API on the port the sandbox calls. The emulator keeps its sessions in memory across each outage. */
  async function startStripe(): Promise<void> {
    const server = createServer(emulator.app);
    await new Promise<void>((resolve) => server.listen(stripePort, '127.0.0.1', resolve));
    stripeServer = server;
  }

  async function stopStripe(): Promise<void> {
    const server = stripeServer!;
    stripeServer = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  before(async function () {
    stripePort = await freePort();
    const clock = new TestClock('2026-12-04T09:00:00Z');
    testSandbox = await startTestSandbox({ clock, stripeApiEndpoint: { host: '127.0.0.1', port: stripePort, protocol: 'http' } });
    sandboxServer = createServer((incoming, outgoing) => testSandbox.sandbox.app(incoming, outgoing));
    await new Promise<void>((resolve) => sandboxServer.listen(0, '127.0.0.1', resolve));
    const publicUrl = `http://127.0.0.1:${(sandboxServer.address() as AddressInfo).port}`;
    emulator = createSandboxStripeEmulator({ sandbox: () => testSandbox.sandbox, publicUrl: () => publicUrl, logger: silentLogger, clock });
    // One attempt per event keeps the outage test short; the test resends the event itself.
    emulator.setDelivery({ maxRetries: 0 });
    await enableClinicalAccess(testSandbox, { autoApprove: false });
    patientId = await patientIdOf(testSandbox, portalLogin);
    agent = await signIn(testSandbox, 'portal', portalLogin);
  });

  after(async function () {
    if (stripeServer) {
      await stopStripe();
    }
    await emulator.close();
    await new Promise<void>((resolve) => sandboxServer.close(() => resolve()));
    await testSandbox.close();
  });

  it('returns 503 while Stripe is down', async function () {
    const response = await postForm(agent, `${recordPath}/`, `${recordPath}/request`);

    expect(response.status).to.equal(503);
    const text = visibleText(response.text);
    expect(text).to.contain('The identity check service is not responding right now');
    expect(text).to.contain('Please try again in a few minutes');
    expect(response.text).to.contain(`action="${recordPath}/identity/start"`);
  });

  it('leaves no verification without a session id', async function () {
    const verifications = await verificationsOf(testSandbox, patientId);
    const accessRequest = await accessRequestOf(testSandbox, patientId);

    expect(verifications).to.have.length(0);
    expect(accessRequest!.status).to.equal('identity_pending');
    expect(accessRequest!.currentVerificationId).to.equal(null);
  });

  it('starts the check once Stripe is back', async function () {
    await startStripe();

    const response = await postForm(agent, `${recordPath}/`, `${recordPath}/identity/start`);

    expect(response.status, response.text).to.equal(303);
    sessionId = /\/verify\/(vs_[A-Za-z0-9]+)/.exec(response.headers.location ?? '')![1]!;
    const verifications = await verificationsOf(testSandbox, patientId);
    expect(verifications).to.have.length(1);
    expect(verifications[0]!.stripeSessionId).to.equal(sessionId);
    const accessRequest = await accessRequestOf(testSandbox, patientId);
    expect(accessRequest!.currentVerificationId).to.equal(Number(verifications[0]!.id));
  });

  it('returns 503 to webhooks while Stripe is down', async function () {
    await stopStripe();

    await emulator.completeSession(sessionId, { kind: 'verified', firstName: 'Siobhán', lastName: 'O’Brien', dob: '1984-03-17' });
    await emulator.flushDeliveries();

    const attempts = emulator.deliveries.filter((delivery) => delivery.sessionId === sessionId);
    expect(attempts.map((delivery) => delivery.statusCode)).to.deep.equal([503, 503]);
    expect(await pluginOf(testSandbox).models.WebhookEvent.count()).to.equal(0);
    expect((await accessRequestOf(testSandbox, patientId))!.status).to.equal('identity_pending');
  });

  it('shows the check in progress on return while Stripe is down', async function () {
    const back = await agent.get(`${recordPath}/identity/return`);
    expect(back.status).to.equal(303);

    const page = await agent.get(`${recordPath}/`).expect(200);

    expect(visibleText(page.text)).to.contain('Checking your identity');
    expect((await accessRequestOf(testSandbox, patientId))!.status).to.equal('identity_pending');
  });

  it('processes the resent event once Stripe is back', async function () {
    await startStripe();
    const event = emulator.events.find((candidate) => candidate.type === 'identity.verification_session.verified' && candidate.data.object.id === sessionId)!;
    const practice = (await testSandbox.sandbox.models.Practice.findOne({ where: { demoKey: 'riverside' } }))!;
    const payload = JSON.stringify(event);
    const signature = signPayload(payload, practice.stripeWebhookSigningSecret!, Math.floor(testSandbox.clock.now().getTime() / 1000));

    const response = await request(testSandbox.sandbox.app)
      .post(`/webhooks/stripe/${practice.stripeWebhookEndpointKey}`)
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', signature)
      .send(payload);

    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    expect((await accessRequestOf(testSandbox, patientId))!.status).to.equal('mfa_pending');
    const page = await agent.get(`${recordPath}/`).expect(200);
    expect(visibleText(page.text)).to.contain('Set up an authenticator app');
  });
});
