import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { expect } from 'chai';
import pino from 'pino';
import Stripe from 'stripe';

import { createStripeEmulator, signPayload } from '../../sandbox/stripe-emulator/index.js';
import { type EmulatorFixture, PRACTICE_A, caught, startEmulator, stripeClient } from './helpers.js';

const VERIFIED_JENNY = { kind: 'verified', firstName: 'Jenny', lastName: 'Rosen', dob: '1990-02-03' } as const;

describe('Stripe emulator webhooks', () => {
  let fixture: EmulatorFixture;

  beforeEach(async () => {
    fixture = await startEmulator();
  });

  afterEach(async () => {
    await fixture.close();
  });

  async function createSession() {
    return fixture.stripe.identity.verificationSessions.create({
      type: 'document',
      metadata: { patient_id: '12' },
      return_url: 'http://127.0.0.1:3000/portal/clinical-record/return',
    });
  }

  function receivedTypes(): string[] {
    return fixture.receiver.calls.map((call) => call.event.type);
  }

  it('delivers processing then verified', async () => {
    const session = await createSession();

    await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
    await fixture.emulator.flushDeliveries();

    expect(receivedTypes()).to.deep.equal([
      'identity.verification_session.processing',
      'identity.verification_session.verified',
    ]);
  });

  it('signs events so constructEvent accepts them', async () => {
    const session = await createSession();
    await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
    await fixture.emulator.flushDeliveries();

    for (const call of fixture.receiver.calls) {
      const event = fixture.stripe.webhooks.constructEvent(
        call.rawBody,
        call.signature ?? '',
        PRACTICE_A.webhookSigningSecret,
      );
      expect(event.id).to.equal(call.event.id);
    }
    expect(fixture.receiver.calls).to.have.length(2);
  });

  it('fails constructEvent with another secret', async () => {
    const session = await createSession();
    await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
    await fixture.emulator.flushDeliveries();
    const call = fixture.receiver.calls[0];

    const error = await caught(async () =>
      fixture.stripe.webhooks.constructEvent(call.rawBody, call.signature ?? '', 'whsec_someone_else'),
    );

    expect(error).to.be.instanceOf(Stripe.errors.StripeSignatureVerificationError);
  });

  it('sends events in Stripe event shape', async () => {
    const session = await createSession();
    await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
    await fixture.emulator.flushDeliveries();
    const [processing, verified] = fixture.receiver.calls.map((call) => call.event);

    expect(verified.id).to.match(/^evt_[0-9A-Za-z]{24}$/);
    expect(verified.object).to.equal('event');
    expect(verified.api_version).to.be.a('string');
    expect(verified.created).to.be.a('number');
    expect(verified.livemode).to.equal(false);
    expect(verified.pending_webhooks).to.equal(1);
    expect(verified.request).to.deep.equal({ id: null, idempotency_key: null });
    expect(processing.data.object).to.include({ id: session.id, status: 'processing' });
    expect(verified.data.object).to.include({ id: session.id, status: 'verified' });
  });

  it('leaves verified outputs out of event payloads', async () => {
    const session = await createSession();
    await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
    await fixture.emulator.flushDeliveries();
    const verified = fixture.receiver.calls[1];

    expect(verified.event.data.object).not.to.have.property('verified_outputs');
    expect(verified.rawBody.toString('utf8')).not.to.include('Rosen');
  });

  it('delivers requires_input for a failed check', async () => {
    const session = await createSession();

    await fixture.emulator.completeSession(session.id, { kind: 'error', code: 'document_unverified_other' });
    await fixture.emulator.flushDeliveries();
    const last = fixture.receiver.calls[1].event.data.object as Stripe.Identity.VerificationSession;

    expect(receivedTypes()).to.deep.equal([
      'identity.verification_session.processing',
      'identity.verification_session.requires_input',
    ]);
    expect(last.last_error?.code).to.equal('document_unverified_other');
  });

  it('delivers canceled with the API request', async () => {
    const session = await createSession();

    const canceled = await fixture.stripe.identity.verificationSessions.cancel(session.id, {}, { idempotencyKey: 'cancel-7' });
    await fixture.emulator.flushDeliveries();
    const event = fixture.receiver.calls[0].event;

    expect(event.type).to.equal('identity.verification_session.canceled');
    expect(event.request).to.deep.equal({ id: canceled.lastResponse.requestId, idempotency_key: 'cancel-7' });
  });

  it('delivers redacted once redaction finishes', async () => {
    const session = await createSession();
    await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);

    await fixture.stripe.identity.verificationSessions.redact(session.id);
    await fixture.emulator.flushDeliveries();
    const redacted = fixture.receiver.calls.at(-1)?.event;

    expect(redacted?.type).to.equal('identity.verification_session.redacted');
    expect((redacted?.data.object as Stripe.Identity.VerificationSession).redaction).to.deep.equal({
      status: 'redacted',
    });
  });

  it('repeats the event id in duplicates', async () => {
    fixture.emulator.setDelivery({ duplicates: 2 });
    const session = await createSession();

    await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
    await fixture.emulator.flushDeliveries();
    const ids = fixture.receiver.calls.map((call) => call.event.id);

    expect(ids).to.have.length(6);
    expect(new Set(ids).size).to.equal(2);
    expect(ids.slice(0, 3)).to.deep.equal([ids[0], ids[0], ids[0]]);
    expect(fixture.emulator.deliveries.map((attempt) => attempt.duplicate)).to.deep.equal([
      false,
      true,
      true,
      false,
      true,
      true,
    ]);
  });

  it('reverses the events of one completion', async () => {
    fixture.emulator.setDelivery({ reverseOrder: true });
    const session = await createSession();

    await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
    await fixture.emulator.flushDeliveries();

    expect(receivedTypes()).to.deep.equal([
      'identity.verification_session.verified',
      'identity.verification_session.processing',
    ]);
  });

  it('delays deliveries after the result', async () => {
    fixture.emulator.setDelivery({ delayMs: 150 });
    const session = await createSession();
    const completedAt = Date.now();

    await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
    const retrieved = await fixture.stripe.identity.verificationSessions.retrieve(session.id);
    const receivedBeforeFlush = fixture.receiver.calls.length;
    await fixture.emulator.flushDeliveries();

    expect(retrieved.status).to.equal('verified');
    expect(receivedBeforeFlush).to.equal(0);
    expect(fixture.receiver.calls[0].receivedAt - completedAt).to.be.at.least(150);
  });

  it('resets settings left out of setDelivery', async () => {
    fixture.emulator.setDelivery({ duplicates: 1, reverseOrder: true });
    fixture.emulator.setDelivery({ duplicates: 1 });
    const session = await createSession();

    await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
    await fixture.emulator.flushDeliveries();

    expect(receivedTypes()).to.deep.equal([
      'identity.verification_session.processing',
      'identity.verification_session.processing',
      'identity.verification_session.verified',
      'identity.verification_session.verified',
    ]);
  });

  it('rejects a negative delivery setting', () => {
    expect(() => fixture.emulator.setDelivery({ delayMs: -1 })).to.throw(RangeError, 'delayMs');
  });

  it('retries and logs failed deliveries', async () => {
    fixture.emulator.setDelivery({ retryDelayMs: 5 });
    fixture.receiver.scriptedStatuses.push(500, 503);
    const session = await createSession();

    await fixture.emulator.completeSession(session.id, { kind: 'processing' });
    await fixture.emulator.flushDeliveries();

    expect(fixture.emulator.deliveries.map((attempt) => attempt.statusCode)).to.deep.equal([500, 503, 200]);
    expect(fixture.emulator.deliveries.map((attempt) => attempt.attempt)).to.deep.equal([1, 2, 3]);
  });

  it('stops retrying after maxRetries', async () => {
    fixture.emulator.setDelivery({ maxRetries: 1, retryDelayMs: 5 });
    fixture.receiver.scriptedStatuses.push(500, 500, 500, 500);
    const session = await createSession();

    await fixture.emulator.completeSession(session.id, { kind: 'processing' });
    await fixture.emulator.flushDeliveries();

    expect(fixture.emulator.deliveries.map((attempt) => attempt.statusCode)).to.deep.equal([500, 500]);
  });

  it('records an unreachable endpoint without a status', async () => {
    fixture.emulator.setDelivery({ maxRetries: 0 });
    const unreachableUrl = fixture.receiver.url;
    await fixture.receiver.close();
    const session = await createSession();

    await fixture.emulator.completeSession(session.id, { kind: 'processing' });
    await fixture.emulator.flushDeliveries();
    const [attempt] = fixture.emulator.deliveries;

    expect(unreachableUrl).to.match(/^http:\/\/127\.0\.0\.1:/);
    expect(attempt.statusCode).to.equal(null);
    expect(attempt.error).to.equal('ECONNREFUSED');
  });

  it('records created without sending it by default', async () => {
    const session = await createSession();
    await fixture.emulator.flushDeliveries();

    const created = fixture.emulator.events.filter((event) => event.type === 'identity.verification_session.created');

    expect(created).to.have.length(1);
    expect(created[0].data.object.id).to.equal(session.id);
    expect(created[0].pending_webhooks).to.equal(0);
    expect(fixture.receiver.calls).to.have.length(0);
  });

  it('skips accounts without an endpoint', async () => {
    const session = await fixture.stripeB.identity.verificationSessions.create({ type: 'document' });

    await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
    await fixture.emulator.flushDeliveries();

    expect(fixture.emulator.deliveries).to.have.length(0);
  });

  it('sets t from the injected clock', async () => {
    await fixture.close();
    const fixedNow = new Date('2030-01-01T00:00:00Z');
    fixture = await startEmulator({ emulatorOptions: { clock: { now: () => fixedNow } } });
    const session = await createSession();

    await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
    await fixture.emulator.flushDeliveries();
    const call = fixture.receiver.calls[0];
    const event = fixture.stripe.webhooks.constructEvent(
      call.rawBody,
      call.signature ?? '',
      PRACTICE_A.webhookSigningSecret,
      300,
      undefined,
      fixedNow.getTime(),
    );

    expect(call.signature).to.match(new RegExp(`^t=${fixedNow.getTime() / 1000},v1=[0-9a-f]{64}$`));
    expect(event.created).to.equal(fixedNow.getTime() / 1000);
  });
});

describe('Stripe emulator webhooks with created enabled', () => {
  it('sends created when enabled', async () => {
    const fixture = await startEmulator({ enabledEvents: ['identity.verification_session.created'] });

    try {
      const session = await fixture.stripe.identity.verificationSessions.create({ type: 'document' });
      await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
      await fixture.emulator.flushDeliveries();

      expect(fixture.receiver.calls.map((call) => call.event.type)).to.deep.equal([
        'identity.verification_session.created',
      ]);
    } finally {
      await fixture.close();
    }
  });
});

describe('Stripe emulator delivery limits', () => {
  it('records a delivery that timed out', async () => {
    const silentServer = createServer(() => undefined);
    silentServer.listen(0, '127.0.0.1');
    await once(silentServer, 'listening');
    const silentUrl = `http://127.0.0.1:${(silentServer.address() as AddressInfo).port}/hooks`;
    const emulator = createStripeEmulator({
      resolveAccount: async () => ({ accountId: 'acct_silent', webhookSigningSecret: 'whsec_silent', webhookUrl: silentUrl }),
      logger: pino({ level: 'silent' }),
    });
    const { url } = await emulator.listen(0);
    const stripe = stripeClient('sk_test_silent', Number(new URL(url).port));

    try {
      emulator.setDelivery({ timeoutMs: 50, maxRetries: 0 });
      const session = await stripe.identity.verificationSessions.create({ type: 'document' });
      await emulator.completeSession(session.id, { kind: 'processing' });
      await emulator.flushDeliveries();

      expect(emulator.deliveries).to.have.length(1);
      expect(emulator.deliveries[0].statusCode).to.equal(null);
      expect(emulator.deliveries[0].error).to.equal('timed out');
    } finally {
      await emulator.close();
      silentServer.closeAllConnections();
      silentServer.close();
    }
  });

  it('drops delayed deliveries on close', async () => {
    const fixture = await startEmulator();
    fixture.emulator.setDelivery({ delayMs: 60_000 });
    const session = await fixture.stripe.identity.verificationSessions.create({ type: 'document' });
    await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);

    const closeStarted = Date.now();
    await fixture.close();

    expect(Date.now() - closeStarted).to.be.below(1000);
    expect(fixture.receiver.calls).to.have.length(0);
  });

  it('finishes redaction after redactionDelayMs', async () => {
    const fixture = await startEmulator({ emulatorOptions: { redactionDelayMs: 100 } });

    try {
      const session = await fixture.stripe.identity.verificationSessions.create({ type: 'document' });
      await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
      await fixture.stripe.identity.verificationSessions.redact(session.id);
      const during = await fixture.stripe.identity.verificationSessions.retrieve(session.id);
      await fixture.emulator.flushDeliveries();
      const after = await fixture.stripe.identity.verificationSessions.retrieve(session.id);

      expect(during.redaction).to.deep.equal({ status: 'processing' });
      expect(after.redaction).to.deep.equal({ status: 'redacted' });
    } finally {
      await fixture.close();
    }
  });
});

describe('signPayload', () => {
  it('matches the SDK test header', () => {
    const stripe = stripeClient('sk_test_unused', 1);
    const payload = JSON.stringify({ id: 'evt_test', object: 'event' });

    const header = signPayload(payload, 'whsec_test_secret', 1_900_000_000);
    const expected = stripe.webhooks.generateTestHeaderString({
      payload,
      secret: 'whsec_test_secret',
      timestamp: 1_900_000_000,
    });

    expect(header).to.equal(expected);
  });
});
