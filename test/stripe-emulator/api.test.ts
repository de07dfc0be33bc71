import { expect } from 'chai';
import pino from 'pino';
import Stripe from 'stripe';
import request from 'supertest';

import { createStripeEmulator } from '../../sandbox/stripe-emulator/index.js';
import { type EmulatorFixture, PRACTICE_A, caught, startEmulator, stripeClient } from './helpers.js';

const VERIFIED_JENNY = { kind: 'verified', firstName: 'Jenny Rose', lastName: 'Rosen', dob: '1990-02-03' } as const;

describe('Stripe emulator API', () => {
  let fixture: EmulatorFixture;

  beforeEach(async () => {
    fixture = await startEmulator();
  });

  afterEach(async () => {
    await fixture.close();
  });

  async function createSession(params: Partial<Stripe.Identity.VerificationSessionCreateParams> = {}) {
    return fixture.stripe.identity.verificationSessions.create({
      type: 'document',
      options: { document: { require_matching_selfie: true } },
      metadata: { patient_id: '12' },
      client_reference_id: 'request-41',
      return_url: 'http://127.0.0.1:3000/portal/clinical-record/return',
      ...params,
    });
  }

  describe('create', () => {
    it('creates a document session in requires_input', async () => {
      const session = await createSession();

      expect(session.id).to.match(/^vs_[0-9A-Za-z]{24}$/);
      expect(session.object).to.equal('identity.verification_session');
      expect(session.status).to.equal('requires_input');
      expect(session.type).to.equal('document');
      expect(session.livemode).to.equal(false);
      expect(session.last_error).to.equal(null);
      expect(session.last_verification_report).to.equal(null);
      expect(session.redaction).to.equal(null);
      expect(session.metadata).to.deep.equal({ patient_id: '12' });
      expect(session.options).to.deep.equal({ document: { require_matching_selfie: true } });
      expect(session.client_reference_id).to.equal('request-41');
      expect(session.client_secret).to.match(new RegExp(`^${session.id}_secret_test_`));
      expect(session.url).to.equal(`${fixture.url}/verify/${session.id}`);
      expect(session).not.to.have.property('verified_outputs');
    });

    it('takes created from the injected clock', async () => {
      const clock = { now: () => new Date('2031-05-06T07:08:09Z') };
      const emulator = createStripeEmulator({
        resolveAccount: async () => ({ accountId: 'acct_clock', webhookSigningSecret: 'whsec_clock', webhookUrl: '' }),
        clock,
        logger: pino({ level: 'silent' }),
      });

      const response = await request(emulator.app)
        .post('/v1/identity/verification_sessions')
        .set('Authorization', 'Bearer sk_test_clock')
        .type('form')
        .send('type=document');

      expect(response.status).to.equal(200);
      expect(response.body.created).to.equal(Date.parse('2031-05-06T07:08:09Z') / 1000);
      await emulator.close();
    });

    it('uses publicUrl for the hosted page url', async () => {
      const emulator = createStripeEmulator({
        resolveAccount: async () => ({ accountId: 'acct_url', webhookSigningSecret: 'whsec_url', webhookUrl: '' }),
        publicUrl: 'http://127.0.0.1:4243/',
        logger: pino({ level: 'silent' }),
      });

      const response = await request(emulator.app)
        .post('/v1/identity/verification_sessions')
        .set('Authorization', 'Bearer sk_test_url')
        .type('form')
        .send('type=document');

      expect(response.body.url).to.equal(`http://127.0.0.1:4243/verify/${response.body.id}`);
      await emulator.close();
    });

    it('accepts a session without options or return_url', async () => {
      const session = await fixture.stripe.identity.verificationSessions.create({ type: 'document' });

      expect(session.options).to.deep.equal({});
      expect(session.metadata).to.deep.equal({});
      expect(session.client_reference_id).to.equal(null);
    });

    it('sends Stripe response headers', async () => {
      const response = await request(fixture.emulator.app)
        .post('/v1/identity/verification_sessions')
        .set('Authorization', `Bearer ${PRACTICE_A.secretKey}`)
        .set('Stripe-Version', '2026-11-18.endive')
        .type('form')
        .send('type=document');

      expect(response.headers['request-id']).to.match(/^req_/);
      expect(response.headers['stripe-version']).to.equal('2026-11-18.endive');
      expect(response.headers['content-type']).to.match(/^application\/json/);
    });

    it('accepts the key as Basic user name', async () => {
      const response = await request(fixture.emulator.app)
        .post('/v1/identity/verification_sessions')
        .auth(PRACTICE_A.secretKey, '')
        .type('form')
        .send('type=document');

      expect(response.status).to.equal(200);
    });
  });

  describe('parameter validation', () => {
    async function postCreate(body: string) {
      return request(fixture.emulator.app)
        .post('/v1/identity/verification_sessions')
        .set('Authorization', `Bearer ${PRACTICE_A.secretKey}`)
        .type('form')
        .send(body);
    }

    it('rejects an unknown parameter', async () => {
      const error = await caught(() => createSession({ colour: 'blue' } as never));

      expect(error).to.be.instanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error.statusCode).to.equal(400);
      expect(error.code).to.equal('parameter_unknown');
      expect(error.param).to.equal('colour');
    });

    it('names a nested unknown parameter', async () => {
      const response = await postCreate('type=document&options[document][require_selfie]=true');

      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal('parameter_unknown');
      expect(response.body.error.param).to.equal('options[document][require_selfie]');
    });

    it('rejects an empty return_url', async () => {
      const response = await postCreate('type=document&return_url=');

      expect(response.status).to.equal(400);
      expect(response.body.error.type).to.equal('invalid_request_error');
      expect(response.body.error.code).to.equal('parameter_invalid_empty');
      expect(response.body.error.param).to.equal('return_url');
    });

    it('rejects a missing type', async () => {
      const response = await postCreate('metadata[patient_id]=12');

      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal('parameter_missing');
      expect(response.body.error.param).to.equal('type');
    });

    it('rejects an unsupported type', async () => {
      const response = await postCreate('type=passport');

      expect(response.status).to.equal(400);
      expect(response.body.error.param).to.equal('type');
      expect(response.body.error.message).to.include('document or id_number');
    });

    it('names the emulator when rejecting id_number', async () => {
      const response = await postCreate('type=id_number');

      expect(response.status).to.equal(400);
      expect(response.body.error.message).to.include('emulator');
    });

    it('names the emulator when rejecting verification_flow', async () => {
      const response = await postCreate('verification_flow=vf_123');

      expect(response.status).to.equal(400);
      expect(response.body.error.param).to.equal('verification_flow');
    });

    it('rejects an invalid boolean option', async () => {
      const response = await postCreate('type=document&options[document][require_matching_selfie]=yes');

      expect(response.status).to.equal(400);
      expect(response.body.error.param).to.equal('options[document][require_matching_selfie]');
    });

    it('rejects a return_url that is not http', async () => {
      const response = await postCreate('type=document&return_url=javascript:alert(1)');

      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal('url_invalid');
    });

    it('rejects a metadata key over 40 characters', async () => {
      const response = await postCreate(`type=document&metadata[${'k'.repeat(41)}]=1`);

      expect(response.status).to.equal(400);
      expect(response.body.error.param).to.equal(`metadata[${'k'.repeat(41)}]`);
    });

    it('drops metadata keys with empty values', async () => {
      const response = await postCreate('type=document&metadata[patient_id]=12&metadata[note]=');

      expect(response.status).to.equal(200);
      expect(response.body.metadata).to.deep.equal({ patient_id: '12' });
    });

    it('stores allowed document types', async () => {
      const session = await createSession({ options: { document: { allowed_types: ['passport', 'id_card'] } } });

      expect(session.options?.document?.allowed_types).to.deep.equal(['passport', 'id_card']);
    });

    it('rejects an unknown document type', async () => {
      const response = await postCreate('type=document&options[document][allowed_types][]=library_card');

      expect(response.status).to.equal(400);
      expect(response.body.error.param).to.equal('options[document][allowed_types]');
    });

    it('rejects a parameter sent twice', async () => {
      const response = await postCreate('type=document&type=document');

      expect(response.status).to.equal(400);
      expect(response.body.error.param).to.equal('type');
    });

    it('rejects a JSON body', async () => {
      const response = await request(fixture.emulator.app)
        .post('/v1/identity/verification_sessions')
        .set('Authorization', `Bearer ${PRACTICE_A.secretKey}`)
        .send({ type: 'document' });

      expect(response.status).to.equal(400);
      expect(response.body.error.message).to.include('application/x-www-form-urlencoded');
    });

    it('rejects a field that cannot be expanded', async () => {
      const session = await createSession();

      const error = await caught(() =>
        fixture.stripe.identity.verificationSessions.retrieve(session.id, { expand: ['options'] }),
      );

      expect(error.statusCode).to.equal(400);
      expect(error.param).to.equal('expand');
    });
  });

  describe('authentication', () => {
    it('rejects an unknown API key', async () => {
      const unknownKey = 'sk_test_51UnknownPracticeKey9999wxyz';
      const stripe = stripeClient(unknownKey, fixture.port);

      const error = await caught(() => stripe.identity.verificationSessions.create({ type: 'document' }));

      expect(error).to.be.instanceOf(Stripe.errors.StripeAuthenticationError);
      expect(error.statusCode).to.equal(401);
      expect(error.message).to.include('Invalid API Key provided: sk_test_');
      expect(error.message).to.include('*wxyz');
      expect(error.message).not.to.include('UnknownPractice');
    });

    it('masks all but the last four characters', async () => {
      const response = await request(fixture.emulator.app)
        .get('/v1/identity/verification_sessions/vs_123')
        .set('Authorization', 'Bearer sk_test_abcdefghijklmnopxyz1');

      expect(response.status).to.equal(401);
      expect(response.body).to.deep.equal({
        error: {
          type: 'invalid_request_error',
          message: `Invalid API Key provided: sk_test_${'*'.repeat(16)}xyz1`,
        },
      });
    });

    it('rejects a request without Authorization', async () => {
      const response = await request(fixture.emulator.app)
        .post('/v1/identity/verification_sessions')
        .type('form')
        .send('type=document');

      expect(response.status).to.equal(401);
      expect(response.body.error.type).to.equal('invalid_request_error');
      expect(response.body.error.message).to.include('did not provide an API key');
    });

    it('checks the key before routing', async () => {
      const response = await request(fixture.emulator.app).get('/v1/customers').set('Authorization', 'Bearer sk_test_x');

      expect(response.status).to.equal(401);
    });

    it('answers an unrecognized URL with 404', async () => {
      const response = await request(fixture.emulator.app)
        .get('/v1/customers')
        .set('Authorization', `Bearer ${PRACTICE_A.secretKey}`);

      expect(response.status).to.equal(404);
      expect(response.body.error.message).to.include('Unrecognized request URL (GET: /v1/customers)');
    });
  });

  describe('retrieve', () => {
    it('returns 404 for an unknown session', async () => {
      const error = await caught(() => fixture.stripe.identity.verificationSessions.retrieve('vs_doesNotExist000000000000'));

      expect(error).to.be.instanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error.statusCode).to.equal(404);
      expect(error.code).to.equal('resource_missing');
      expect(error.message).to.include("'vs_doesNotExist000000000000'");
    });

    it("hides another account's session", async () => {
      const session = await createSession();

      const error = await caught(() => fixture.stripeB.identity.verificationSessions.retrieve(session.id));

      expect(error.statusCode).to.equal(404);
      expect(error.code).to.equal('resource_missing');
    });

    it("refuses to cancel another account's session", async () => {
      const session = await createSession();

      const error = await caught(() => fixture.stripeB.identity.verificationSessions.cancel(session.id));

      expect(error.statusCode).to.equal(404);
      const unchanged = await fixture.stripe.identity.verificationSessions.retrieve(session.id);
      expect(unchanged.status).to.equal('requires_input');
    });

    it('leaves verified_outputs out without expand', async () => {
      const session = await createSession();
      await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);

      const retrieved = await fixture.stripe.identity.verificationSessions.retrieve(session.id);

      expect(retrieved.status).to.equal('verified');
      expect(retrieved).not.to.have.property('verified_outputs');
      expect(retrieved.last_verification_report).to.be.a('string').and.match(/^vr_/);
      expect(retrieved.url).to.equal(null);
      expect(retrieved.client_secret).to.equal(null);
    });

    it('expands verified_outputs', async () => {
      const session = await createSession();
      await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);

      const retrieved = await fixture.stripe.identity.verificationSessions.retrieve(session.id, {
        expand: ['verified_outputs'],
      });

      expect(retrieved.verified_outputs?.first_name).to.equal('Jenny Rose');
      expect(retrieved.verified_outputs?.last_name).to.equal('Rosen');
      expect(retrieved.verified_outputs?.dob).to.deep.equal({ day: 3, month: 2, year: 1990 });
    });

    it('expands last_verification_report', async () => {
      const session = await createSession();
      await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);

      const retrieved = await fixture.stripe.identity.verificationSessions.retrieve(session.id, {
        expand: ['last_verification_report', 'verified_outputs'],
      });
      const report = retrieved.last_verification_report as Stripe.Identity.VerificationReport;

      expect(report.object).to.equal('identity.verification_report');
      expect(report.verification_session).to.equal(session.id);
      expect(report.document?.status).to.equal('verified');
      expect(report.document?.first_name).to.equal('Jenny Rose');
      expect(report.selfie?.status).to.equal('verified');
    });

    it('accepts expand[] in the query string', async () => {
      const session = await createSession();
      await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);

      const response = await request(fixture.emulator.app)
        .get(`/v1/identity/verification_sessions/${session.id}?expand[]=verified_outputs`)
        .set('Authorization', `Bearer ${PRACTICE_A.secretKey}`);

      expect(response.status).to.equal(200);
      expect(response.body.verified_outputs.first_name).to.equal('Jenny Rose');
    });

    it('returns verified_outputs null before verification', async () => {
      const session = await createSession();

      const retrieved = await fixture.stripe.identity.verificationSessions.retrieve(session.id, {
        expand: ['verified_outputs'],
      });

      expect(retrieved.verified_outputs).to.equal(null);
    });

    it('retrieves a verification report', async () => {
      const session = await createSession();
      await fixture.emulator.completeSession(session.id, { kind: 'error', code: 'document_expired' });
      const retrieved = await fixture.stripe.identity.verificationSessions.retrieve(session.id);

      const report = await fixture.stripe.identity.verificationReports.retrieve(
        retrieved.last_verification_report as string,
      );

      expect(report.document?.status).to.equal('unverified');
      expect(report.document?.error?.code).to.equal('document_expired');
    });

    it("hides another account's report", async () => {
      const session = await createSession();
      await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
      const retrieved = await fixture.stripe.identity.verificationSessions.retrieve(session.id);

      const error = await caught(() =>
        fixture.stripeB.identity.verificationReports.retrieve(retrieved.last_verification_report as string),
      );

      expect(error.statusCode).to.equal(404);
    });
  });

  describe('cancel', () => {
    it('cancels a session in requires_input', async () => {
      const session = await createSession();

      const canceled = await fixture.stripe.identity.verificationSessions.cancel(session.id);

      expect(canceled.status).to.equal('canceled');
      expect(canceled.url).to.equal(null);
      expect(canceled.client_secret).to.equal(null);
    });

    it('rejects canceling a verified session', async () => {
      const session = await createSession();
      await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);

      const error = await caught(() => fixture.stripe.identity.verificationSessions.cancel(session.id));

      expect(error).to.be.instanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error.statusCode).to.equal(400);
      expect(error.message).to.include('requires_input');
    });

    it('rejects canceling a processing session', async () => {
      const session = await createSession();
      await fixture.emulator.completeSession(session.id, { kind: 'processing' });

      const error = await caught(() => fixture.stripe.identity.verificationSessions.cancel(session.id));

      expect(error.statusCode).to.equal(400);
    });
  });

  describe('redact', () => {
    it('redacts a verified session', async () => {
      const session = await createSession();
      await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);

      const redacting = await fixture.stripe.identity.verificationSessions.redact(session.id);
      await fixture.emulator.flushDeliveries();
      const redacted = await fixture.stripe.identity.verificationSessions.retrieve(session.id, {
        expand: ['verified_outputs'],
      });

      expect(redacting.redaction).to.deep.equal({ status: 'processing' });
      expect(redacted.redaction).to.deep.equal({ status: 'redacted' });
      expect(redacted.status).to.equal('verified');
      expect(redacted.metadata).to.deep.equal({});
      expect(redacted.client_reference_id).to.equal('[redacted]');
      expect(redacted.verified_outputs?.first_name).to.equal('[redacted]');
      expect(redacted.verified_outputs?.last_name).to.equal('[redacted]');
      expect(redacted.verified_outputs?.dob).to.equal(null);
    });

    it('redacts the verification report', async () => {
      const session = await createSession();
      await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
      await fixture.stripe.identity.verificationSessions.redact(session.id);

      const retrieved = await fixture.stripe.identity.verificationSessions.retrieve(session.id, {
        expand: ['last_verification_report'],
      });
      const report = retrieved.last_verification_report as Stripe.Identity.VerificationReport;

      expect(report.document?.first_name).to.equal('[redacted]');
      expect(report.document?.dob).to.equal(null);
      expect(report.document?.files).to.deep.equal([]);
    });

    it('cancels a session in requires_input', async () => {
      const session = await createSession();

      const redacted = await fixture.stripe.identity.verificationSessions.redact(session.id);

      expect(redacted.status).to.equal('canceled');
      expect(redacted.redaction).to.deep.equal({ status: 'processing' });
    });

    it('rejects a second redaction', async () => {
      const session = await createSession();
      await fixture.stripe.identity.verificationSessions.redact(session.id);

      const error = await caught(() => fixture.stripe.identity.verificationSessions.redact(session.id));

      expect(error.statusCode).to.equal(400);
      expect(error.message).to.include('already been redacted');
    });

    it('rejects redacting a canceled session', async () => {
      const session = await createSession();
      await fixture.stripe.identity.verificationSessions.cancel(session.id);

      const error = await caught(() => fixture.stripe.identity.verificationSessions.redact(session.id));

      expect(error.statusCode).to.equal(400);
    });
  });

  describe('idempotency', () => {
    it('replays a create with the same Idempotency-Key', async () => {
      const key = 'create-request-41';
      const original = await fixture.stripe.identity.verificationSessions.create(
        { type: 'document', metadata: { patient_id: '12' } },
        { idempotencyKey: key },
      );

      const replayed = await fixture.stripe.identity.verificationSessions.create(
        { type: 'document', metadata: { patient_id: '12' } },
        { idempotencyKey: key },
      );

      expect(replayed.id).to.equal(original.id);
      expect(replayed.lastResponse.headers['idempotent-replayed']).to.equal('true');
      const created = fixture.emulator.events.filter(
        (event) => event.type === 'identity.verification_session.created' && event.data.object.id === original.id,
      );
      expect(created).to.have.length(1);
    });

    it('rejects a reused key with other parameters', async () => {
      const key = 'create-request-42';
      await fixture.stripe.identity.verificationSessions.create({ type: 'document' }, { idempotencyKey: key });

      const error = await caught(() =>
        fixture.stripe.identity.verificationSessions.create(
          { type: 'document', metadata: { patient_id: '99' } },
          { idempotencyKey: key },
        ),
      );

      expect(error).to.be.instanceOf(Stripe.errors.StripeIdempotencyError);
      expect(error.statusCode).to.equal(400);
    });

    it('keeps keys apart per account', async () => {
      const key = 'create-request-43';
      const sessionA = await fixture.stripe.identity.verificationSessions.create({ type: 'document' }, { idempotencyKey: key });

      const sessionB = await fixture.stripeB.identity.verificationSessions.create(
        { type: 'document' },
        { idempotencyKey: key },
      );

      expect(sessionB.id).not.to.equal(sessionA.id);
    });

    it('frees a key after validation errors', async () => {
      const key = 'create-request-44';
      await caught(() =>
        fixture.stripe.identity.verificationSessions.create({ type: 'passport' as 'document' }, { idempotencyKey: key }),
      );

      const session = await fixture.stripe.identity.verificationSessions.create({ type: 'document' }, { idempotencyKey: key });

      expect(session.status).to.equal('requires_input');
    });

    it('replays a failed cancel', async () => {
      const session = await createSession();
      await fixture.emulator.completeSession(session.id, VERIFIED_JENNY);
      const key = 'cancel-request-45';
      const first = await caught(() => fixture.stripe.identity.verificationSessions.cancel(session.id, {}, { idempotencyKey: key }));

      const second = await caught(() =>
        fixture.stripe.identity.verificationSessions.cancel(session.id, {}, { idempotencyKey: key }),
      );

      expect(second.statusCode).to.equal(400);
      expect(second.message.replace(/^\[req_\w+\] /, '')).to.equal(first.message.replace(/^\[req_\w+\] /, ''));
      expect((second.headers as Record<string, string>)['idempotent-replayed']).to.equal('true');
    });
  });

  describe('practice B', () => {
    it('has its own sessions', async () => {
      const session = await fixture.stripeB.identity.verificationSessions.create({ type: 'document' });

      const retrieved = await fixture.stripeB.identity.verificationSessions.retrieve(session.id);
      const error = await caught(() => fixture.stripe.identity.verificationSessions.retrieve(session.id));

      expect(retrieved.id).to.equal(session.id);
      expect(error.statusCode).to.equal(404);
    });
  });
});
