import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Agent } from 'supertest';
import { signPayload, type StripeEvent, type VerificationOutcome } from '../../sandbox/stripe-emulator/index.js';
import {
  completeIdentityCheck,
  enableClinicalAccess,
  patientIdOf,
  pluginOf,
  recordPath,
  requestAccess,
  signIn,
  startJourneySandbox,
  type JourneySandbox,
} from '../support/journey.js';

const eventTypes = {
  created: 'identity.verification_session.created',
  processing: 'identity.verification_session.processing',
  requiresInput: 'identity.verification_session.requires_input',
  verified: 'identity.verification_session.verified',
};

/** A practice's webhook address key and signing secret. */
interface WebhookEndpoint {
  practiceId: string;
  endpointKey: string;
  signingSecret: string;
}

describe('stripe webhook', function () {
  let journey: JourneySandbox;
  let riverside: WebhookEndpoint;
  let harbour: WebhookEndpoint;

  async function endpointOf(demoKey: 'riverside' | 'harbour'): Promise<WebhookEndpoint> {
    const practice = (await journey.sandbox.models.Practice.findOne({ where: { demoKey } }))!;
    return { practiceId: String(practice.id), endpointKey: practice.stripeWebhookEndpointKey!, signingSecret: practice.stripeWebhookSigningSecret! };
  }

  function nowSeconds(): number {
    return Math.floor(journey.clock.now().getTime() / 1000);
  }

  /** Deletes every plugin row about the patient, signs the patient in, and returns the agent. */
  async function startAs(portalLogin: string): Promise<{ agent: Agent; patientId: string }> {
    const patientId = await patientIdOf(journey, portalLogin);
    const { models } = pluginOf(journey);
    await models.AccessRequest.destroy({ where: { viewerPatientId: patientId } });
    await models.IdentityVerification.destroy({ where: { patientId } });
    await models.MfaFactor.destroy({ where: { patientId } });
    await models.RecoveryCode.destroy({ where: { patientId } });
    await models.ClinicalSession.destroy({ where: { patientId } });
    await models.AuditEvent.destroy({ where: { patientId } });
    return { agent: await signIn(journey, 'portal', portalLogin), patientId };
  }

  /**
   * Starts a check and abandons it at the emulator, which sends no event for that. The
   * plugin still has the check as pending, so the first event it accepts for the session
   * moves the request to identity_failed.
   */
  async function abandonedCheck(portalLogin = 'oliver.bennett@example.test'): Promise<{ patientId: string; sessionId: string }> {
    const { agent, patientId } = await startAs(portalLogin);
    const sessionId = await requestAccess(agent);
    await journey.emulator.completeSession(sessionId, { kind: 'abandoned' });
    await journey.emulator.flushDeliveries();
    return { patientId, sessionId };
  }

  /** Builds an event about the session in the emulator's shape, with a new event id. */
  function sessionEvent(sessionId: string, type = eventTypes.requiresInput): StripeEvent {
    const created = journey.emulator.events.find((event) => event.type === eventTypes.created && event.data.object.id === sessionId);
    expect(created, `created event of ${sessionId}`).to.not.equal(undefined);
    return { ...created!, id: `evt_test${randomBytes(12).toString('hex')}`, type, created: nowSeconds() };
  }

  function sign(payload: string, signingSecret: string, offsetSeconds = 0): string {
    return signPayload(payload, signingSecret, nowSeconds() + offsetSeconds);
  }

  function postEvent(endpoint: WebhookEndpoint, payload: string, signature?: string) {
    const call = request(journey.sandbox.app).post(`/webhooks/stripe/${endpoint.endpointKey}`).set('Content-Type', 'application/json');
    if (signature !== undefined) {
      call.set('Stripe-Signature', signature);
    }
    return call.send(payload);
  }

  /** Returns every plugin row that an event could change, as JSON for comparison. */
  async function pluginState(): Promise<string> {
    const { models } = pluginOf(journey);
    return JSON.stringify({
      requests: (await models.AccessRequest.findAll({ order: [['id', 'ASC']] })).map((row) => row.toJSON()),
      verifications: (await models.IdentityVerification.findAll({ order: [['id', 'ASC']] })).map((row) => row.toJSON()),
      audit: (await models.AuditEvent.findAll({ order: [['id', 'ASC']] })).map((row) => row.toJSON()),
      webhookEvents: (await models.WebhookEvent.findAll({ order: [['eventId', 'ASC']] })).map((row) => row.toJSON()),
    });
  }

  /** Summarises the request and verification rows without ids and times, and lists the audit actions, for comparing two runs. */
  async function outcomeSummary(patientId: string) {
    const { models } = pluginOf(journey);
    const accessRequest = (await models.AccessRequest.findOne({ where: { viewerPatientId: patientId } }))!;
    const verifications = await models.IdentityVerification.findAll({ where: { patientId }, order: [['id', 'ASC']] });
    const audit = await models.AuditEvent.findAll({ where: { patientId }, order: [['id', 'ASC']] });
    return {
      status: accessRequest.status,
      statusReason: accessRequest.statusReason,
      identityMethod: accessRequest.identityMethod,
      verifications: verifications.map((row) => ({ outcome: row.outcome, stripeStatus: row.stripeStatus, failureCode: row.failureCode, mismatchFields: row.mismatchFields })),
      actions: audit.map((row) => row.action),
    };
  }

  async function statusOf(patientId: string): Promise<string> {
    return (await pluginOf(journey).models.AccessRequest.findOne({ where: { viewerPatientId: patientId } }))!.status;
  }

  async function auditCount(patientId: string, action: string): Promise<number> {
    return pluginOf(journey).models.AuditEvent.count({ where: { patientId, action } });
  }

  before(async function () {
    journey = await startJourneySandbox();
    await enableClinicalAccess(journey, { autoApprove: false });
    // Harbour gets its own Stripe account, so a second practice has a signing secret.
    const harbourStripe = journey.secrets.stripe.harbour!;
    await journey.sandbox.models.Practice.update(
      { stripeSecretKey: harbourStripe.secretKey, stripeWebhookSigningSecret: harbourStripe.webhookSigningSecret, stripeWebhookEndpointKey: harbourStripe.webhookEndpointKey },
      { where: { demoKey: 'harbour' } },
    );
    riverside = await endpointOf('riverside');
    harbour = await endpointOf('harbour');
  });

  after(async function () {
    await journey.stop();
  });

  afterEach(async function () {
    await journey.emulator.flushDeliveries();
    journey.emulator.setDelivery({});
  });

  describe('signature', function () {
    it('accepts a correctly signed event', async function () {
      const { patientId, sessionId } = await abandonedCheck();
      const payload = JSON.stringify(sessionEvent(sessionId));

      const response = await postEvent(riverside, payload, sign(payload, riverside.signingSecret));

      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(await statusOf(patientId)).to.equal('identity_failed');
    });

    it('rejects a wrong signature', async function () {
      const { sessionId } = await abandonedCheck();
      const payload = JSON.stringify(sessionEvent(sessionId));
      const before = await pluginState();

      const response = await postEvent(riverside, payload, sign(payload, `whsec_${randomBytes(24).toString('base64url')}`));

      expect(response.status).to.equal(400);
      expect(response.body.error).to.equal('Invalid signature.');
      expect(await pluginState()).to.equal(before);
    });

    it('rejects a body changed after signing', async function () {
      const { sessionId } = await abandonedCheck();
      const signedPayload = JSON.stringify(sessionEvent(sessionId, eventTypes.processing));
      const sentPayload = signedPayload.replace(eventTypes.processing, eventTypes.requiresInput);
      const before = await pluginState();

      const response = await postEvent(riverside, sentPayload, sign(signedPayload, riverside.signingSecret));

      expect(response.status).to.equal(400);
      expect(await pluginState()).to.equal(before);
    });

    it('rejects a missing signature header', async function () {
      const { sessionId } = await abandonedCheck();
      const payload = JSON.stringify(sessionEvent(sessionId));
      const before = await pluginState();

      const response = await postEvent(riverside, payload);

      expect(response.status).to.equal(400);
      expect(await pluginState()).to.equal(before);
    });

    it("rejects the other practice's secret", async function () {
      const { sessionId } = await abandonedCheck();
      const payload = JSON.stringify(sessionEvent(sessionId));
      const before = await pluginState();

      const atRiverside = await postEvent(riverside, payload, sign(payload, harbour.signingSecret));
      const atHarbour = await postEvent(harbour, payload, sign(payload, riverside.signingSecret));

      expect(atRiverside.status).to.equal(400);
      expect(atHarbour.status).to.equal(400);
      expect(await pluginState()).to.equal(before);
    });

    it('rejects a parsed body', async function () {
      const { sessionId } = await abandonedCheck();
      const payload = JSON.stringify(sessionEvent(sessionId));
      const handler = journey.sandbox.registry.stripeWebhookHandler!;
      const before = await pluginState();

      const result = await handler({ practiceId: riverside.practiceId, rawBody: JSON.parse(payload), signatureHeader: sign(payload, riverside.signingSecret) });

      expect(result.status).to.equal(400);
      expect(await pluginState()).to.equal(before);
    });

    it('rejects a timestamp over 5 minutes old', async function () {
      const { sessionId } = await abandonedCheck();
      const payload = JSON.stringify(sessionEvent(sessionId));
      const before = await pluginState();

      const response = await postEvent(riverside, payload, sign(payload, riverside.signingSecret, -301));

      expect(response.status).to.equal(400);
      expect(await pluginState()).to.equal(before);
    });

    it('rejects a timestamp over 5 minutes ahead', async function () {
      const { sessionId } = await abandonedCheck();
      const payload = JSON.stringify(sessionEvent(sessionId));
      const before = await pluginState();

      const response = await postEvent(riverside, payload, sign(payload, riverside.signingSecret, 301));

      expect(response.status).to.equal(400);
      expect(await pluginState()).to.equal(before);
    });

    it('accepts timestamps just inside 5 minutes', async function () {
      for (const offsetSeconds of [-290, 290]) {
        const { patientId, sessionId } = await abandonedCheck();
        const payload = JSON.stringify(sessionEvent(sessionId));

        const response = await postEvent(riverside, payload, sign(payload, riverside.signingSecret, offsetSeconds));

        expect(response.status, `offset ${offsetSeconds} s`).to.equal(200);
        expect(await statusOf(patientId), `offset ${offsetSeconds} s`).to.equal('identity_failed');
      }
    });
  });

  describe('processing', function () {
    it('moves the request on without the return visit', async function () {
      const { agent, patientId } = await startAs('mary.pemberton@example.test');
      const sessionId = await requestAccess(agent);

      await completeIdentityCheck(journey, sessionId, { kind: 'verified', firstName: 'Mary', lastName: 'Pemberton', dob: '1947-12-30' });

      const attempts = journey.emulator.deliveries.filter((delivery) => delivery.sessionId === sessionId);
      expect(attempts.map((delivery) => delivery.statusCode)).to.deep.equal([200, 200]);
      expect(await statusOf(patientId)).to.equal('mfa_pending');
      const page = await agent.get(`${recordPath}/`).expect(200);
      expect(page.text).to.contain('Set up an authenticator app');
    });

    it('processes ten duplicates once', async function () {
      const { agent, patientId } = await startAs('mary.pemberton@example.test');
      const sessionId = await requestAccess(agent);
      journey.emulator.setDelivery({ duplicates: 9 });

      await completeIdentityCheck(journey, sessionId, { kind: 'verified', firstName: 'Mary', lastName: 'Pemberton', dob: '1947-12-30' });

      const attempts = journey.emulator.deliveries.filter((delivery) => delivery.sessionId === sessionId);
      const eventIds = [...new Set(attempts.map((delivery) => delivery.eventId))];
      expect(eventIds).to.have.length(2);
      expect(attempts).to.have.length(20);
      expect(attempts.map((delivery) => delivery.statusCode)).to.deep.equal(Array(20).fill(200));
      for (const eventId of eventIds) {
        expect(await pluginOf(journey).models.WebhookEvent.count({ where: { eventId } }), eventId).to.equal(1);
      }
      expect(await auditCount(patientId, 'identity.matched')).to.equal(1);
      expect(await statusOf(patientId)).to.equal('mfa_pending');
    });

    it('processes concurrent duplicates once', async function () {
      const { patientId, sessionId } = await abandonedCheck();
      const event = sessionEvent(sessionId);
      const payload = JSON.stringify(event);
      const signature = sign(payload, riverside.signingSecret);

      const responses = await Promise.all(Array.from({ length: 10 }, () => postEvent(riverside, payload, signature)));

      expect(responses.map((response) => response.status)).to.deep.equal(Array(10).fill(200));
      expect(await pluginOf(journey).models.WebhookEvent.count({ where: { eventId: event.id } })).to.equal(1);
      expect(await auditCount(patientId, 'identity.failed')).to.equal(1);
      expect(await statusOf(patientId)).to.equal('identity_failed');
    });

    const orderCases: Array<{ name: string; outcome: VerificationOutcome; lastType: string }> = [
      { name: 'verified', outcome: { kind: 'verified', firstName: 'Mary', lastName: 'Pemberton', dob: '1947-12-30' }, lastType: eventTypes.verified },
      { name: 'document_expired', outcome: { kind: 'error', code: 'document_expired' }, lastType: eventTypes.requiresInput },
    ];

    for (const { name, outcome, lastType } of orderCases) {
      it(`reaches the same state in reverse order (${name})`, async function () {
        const inOrder = await startAs('mary.pemberton@example.test');
        const inOrderSession = await requestAccess(inOrder.agent);
        await completeIdentityCheck(journey, inOrderSession, outcome);
        const expected = await outcomeSummary(inOrder.patientId);

        const reversed = await startAs('mary.pemberton@example.test');
        const reversedSession = await requestAccess(reversed.agent);
        journey.emulator.setDelivery({ reverseOrder: true });
        await completeIdentityCheck(journey, reversedSession, outcome);

        const deliveredTypes = journey.emulator.deliveries.filter((delivery) => delivery.sessionId === reversedSession).map((delivery) => delivery.type);
        expect(deliveredTypes).to.deep.equal([lastType, eventTypes.processing]);
        expect(await outcomeSummary(reversed.patientId)).to.deep.equal(expected);
      });
    }

    it('ignores a session the plugin never created', async function () {
      const { sessionId } = await abandonedCheck();
      const event = sessionEvent(sessionId);
      event.data.object = { ...event.data.object, id: `vs_${randomBytes(12).toString('hex')}` };
      const payload = JSON.stringify(event);
      const before = await pluginState();

      const response = await postEvent(riverside, payload, sign(payload, riverside.signingSecret));

      expect(response.status).to.equal(200);
      const after = JSON.parse(await pluginState());
      const expected = JSON.parse(before);
      expect(after.requests).to.deep.equal(expected.requests);
      expect(after.verifications).to.deep.equal(expected.verifications);
      expect(after.audit).to.deep.equal(expected.audit);
    });

    it("ignores the other practice's session", async function () {
      const { patientId, sessionId } = await abandonedCheck();
      const payload = JSON.stringify(sessionEvent(sessionId));
      const before = await pluginState();

      const response = await postEvent(harbour, payload, sign(payload, harbour.signingSecret));

      expect(response.status).to.equal(200);
      const after = JSON.parse(await pluginState());
      const expected = JSON.parse(before);
      expect(after.requests).to.deep.equal(expected.requests);
      expect(after.verifications).to.deep.equal(expected.verifications);
      expect(after.audit).to.deep.equal(expected.audit);
      expect(await statusOf(patientId)).to.equal('identity_pending');
    });

    it('acknowledges an unhandled event type', async function () {
      const { sessionId } = await abandonedCheck();
      const event = sessionEvent(sessionId, 'customer.created');
      event.data.object = { id: `cus_${randomBytes(12).toString('hex')}`, object: 'customer' };
      const payload = JSON.stringify(event);
      const before = await pluginState();

      const response = await postEvent(riverside, payload, sign(payload, riverside.signingSecret));

      expect(response.status).to.equal(200);
      expect(response.body.handled).to.equal(false);
      expect(await pluginState()).to.equal(before);
    });
  });
});
