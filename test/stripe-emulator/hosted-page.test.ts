import { expect } from 'chai';
import type Stripe from 'stripe';
import request from 'supertest';

import { type EmulatorFixture, startEmulator } from './helpers.js';

const RETURN_URL = 'http://127.0.0.1:3000/portal/clinical-record/return?attempt=1';

const HOLDERS = {
  '12': { givenNames: ['Jenny', 'Rose'], familyName: 'Rosen', birthDate: '1990-02-03' },
  '13': { givenNames: ['<script>alert(1)</script>'], familyName: "O'Brien & Sons", birthDate: '1985-11-30' },
};

/** Reads the value attribute of the input with the given id from the page. */
function inputValue(html: string, id: string): string | undefined {
  const input = new RegExp(`<input[^>]*\\sid="${id}"[^>]*>`).exec(html)?.[0];
  return input === undefined ? undefined : /\svalue="([^"]*)"/.exec(input)?.[1];
}

/** Reads the hidden client_secret from the page's form. */
function formSecret(html: string): string {
  return /name="client_secret" value="([^"]*)"/.exec(html)?.[1] ?? '';
}

describe('Stripe emulator hosted page', () => {
  let fixture: EmulatorFixture;

  beforeEach(async () => {
    fixture = await startEmulator({ holders: HOLDERS });
  });

  afterEach(async () => {
    await fixture.close();
  });

  async function createSession(params: Partial<Stripe.Identity.VerificationSessionCreateParams> = {}) {
    return fixture.stripe.identity.verificationSessions.create({
      type: 'document',
      options: { document: { require_matching_selfie: true } },
      metadata: { patient_id: '12' },
      return_url: RETURN_URL,
      ...params,
    });
  }

  async function openPage(sessionId: string) {
    return request(fixture.emulator.app).get(`/verify/${sessionId}`);
  }

  async function submit(sessionId: string, fields: Record<string, string>) {
    const page = await openPage(sessionId);
    return request(fixture.emulator.app)
      .post(`/verify/${sessionId}`)
      .type('form')
      .send({ client_secret: formSecret(page.text), ...fields });
  }

  async function retrieve(sessionId: string) {
    return fixture.stripe.identity.verificationSessions.retrieve(sessionId, { expand: ['verified_outputs'] });
  }

  describe('page', () => {
    it('says it is the sandbox stand-in', async () => {
      const session = await createSession();

      const page = await openPage(session.id);

      expect(page.status).to.equal(200);
      expect(page.headers['content-type']).to.match(/^text\/html/);
      expect(page.text).to.include('Sandbox page, not Stripe.');
      expect(page.text).to.include(session.id);
    });

    it('opens from the session url', async () => {
      const session = await createSession();

      const response = await fetch(session.url as string);

      expect(response.status).to.equal(200);
      expect(await response.text()).to.include('Identity document check');
    });

    it('labels every field', async () => {
      const session = await createSession();

      const page = await openPage(session.id);
      const ids = [...page.text.matchAll(/<input(?![^>]*type="hidden")[^>]*\sid="([^"]+)"/g)].map((match) => match[1]);

      expect(ids).to.include.members(['given_names', 'family_name', 'dob', 'outcome-verified', 'outcome-abandoned']);
      for (const id of ids) {
        expect(page.text, `label for ${id}`).to.include(`<label for="${id}">`);
      }
    });

    it('runs no scripts', async () => {
      const session = await createSession();

      const page = await openPage(session.id);

      expect(page.text).not.to.match(/<script|\son\w+=/i);
      expect(page.headers['content-security-policy']).to.include("default-src 'none'");
      expect(page.headers['content-security-policy']).to.include('form-action');
      expect(page.headers['content-security-policy']).to.include('http://127.0.0.1:3000');
    });

    it('serves its style sheet', async () => {
      const response = await request(fixture.emulator.app).get('/verify/assets/hosted-page.css');

      expect(response.status).to.equal(200);
      expect(response.headers['content-type']).to.match(/^text\/css/);
    });

    it('prefills the document holder from metadata', async () => {
      const session = await createSession();

      const page = await openPage(session.id);

      expect(fixture.holderLookups).to.deep.equal([{ patient_id: '12' }]);
      expect(inputValue(page.text, 'given_names')).to.equal('Jenny Rose');
      expect(inputValue(page.text, 'family_name')).to.equal('Rosen');
      expect(inputValue(page.text, 'dob')).to.equal('1990-02-03');
    });

    it('escapes prefilled text', async () => {
      const session = await createSession({ metadata: { patient_id: '13' } });

      const page = await openPage(session.id);

      expect(page.text).not.to.include('<script>alert(1)</script>');
      expect(inputValue(page.text, 'given_names')).to.equal('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(inputValue(page.text, 'family_name')).to.equal('O&#39;Brien &amp; Sons');
    });

    it('leaves fields empty for an unknown holder', async () => {
      const session = await createSession({ metadata: { patient_id: '404' } });

      const page = await openPage(session.id);

      expect(inputValue(page.text, 'given_names')).to.equal('');
      expect(inputValue(page.text, 'dob')).to.equal('');
    });

    it('leaves fields empty when the lookup fails', async () => {
      await fixture.close();
      fixture = await startEmulator({ holders: HOLDERS, lookupFails: true });
      const session = await createSession();

      const page = await openPage(session.id);

      expect(page.status).to.equal(200);
      expect(inputValue(page.text, 'given_names')).to.equal('');
    });

    it('offers selfie errors only with selfie', async () => {
      const withSelfie = await createSession();
      const withoutSelfie = await createSession({ options: {} });

      const selfiePage = await openPage(withSelfie.id);
      const documentPage = await openPage(withoutSelfie.id);

      expect(selfiePage.text).to.include('value="selfie_face_mismatch"');
      expect(documentPage.text).not.to.include('value="selfie_face_mismatch"');
      expect(documentPage.text).to.include('value="document_expired"');
    });

    it('answers 404 for an unknown session', async () => {
      const page = await openPage('vs_unknown00000000000000000');

      expect(page.status).to.equal(404);
      expect(page.text).to.include('Verification session not found');
    });

    it('answers 409 for a verified session', async () => {
      const session = await createSession();
      await fixture.emulator.completeSession(session.id, {
        kind: 'verified',
        firstName: 'Jenny',
        lastName: 'Rosen',
        dob: '1990-02-03',
      });

      const page = await openPage(session.id);

      expect(page.status).to.equal(409);
      expect(page.text).to.include('verified');
    });
  });

  describe('submission', () => {
    it('verifies and redirects to return_url', async () => {
      const session = await createSession();

      const response = await submit(session.id, {
        outcome: 'verified',
        given_names: 'Jenny Rose',
        family_name: 'Rosen',
        dob: '1990-02-03',
      });
      const verified = await retrieve(session.id);

      expect(response.status).to.equal(303);
      expect(response.headers.location).to.equal(RETURN_URL);
      expect(verified.status).to.equal('verified');
      expect(verified.verified_outputs?.first_name).to.equal('Jenny Rose');
      expect(verified.verified_outputs?.last_name).to.equal('Rosen');
      expect(verified.verified_outputs?.dob).to.deep.equal({ day: 3, month: 2, year: 1990 });
    });

    it('uses edited details as verified outputs', async () => {
      const session = await createSession();

      await submit(session.id, { outcome: 'verified', given_names: 'Jennifer', family_name: 'Rosen-Smith', dob: '1990-03-02' });
      const verified = await retrieve(session.id);

      expect(verified.verified_outputs?.first_name).to.equal('Jennifer');
      expect(verified.verified_outputs?.last_name).to.equal('Rosen-Smith');
      expect(verified.verified_outputs?.dob).to.deep.equal({ day: 2, month: 3, year: 1990 });
    });

    it('returns a failed check to requires_input', async () => {
      const session = await createSession();

      const response = await submit(session.id, { outcome: 'document_expired' });
      const failed = await retrieve(session.id);

      expect(response.status).to.equal(303);
      expect(failed.status).to.equal('requires_input');
      expect(failed.last_error?.code).to.equal('document_expired');
      expect(failed.last_error?.reason).to.be.a('string').and.not.equal('');
      expect(failed.verified_outputs).to.equal(null);
      expect(failed.url).to.equal(session.url);
      expect(failed.client_secret).to.be.a('string').and.not.equal(session.client_secret);
    });

    it('fails the selfie check', async () => {
      const session = await createSession();

      await submit(session.id, { outcome: 'selfie_face_mismatch' });
      const failed = await retrieve(session.id);

      expect(failed.last_error?.code).to.equal('selfie_face_mismatch');
    });

    it('accepts every offered error code', async () => {
      const codes = [
        'document_expired',
        'document_unverified_other',
        'document_type_not_supported',
        'selfie_face_mismatch',
        'selfie_unverified_other',
        'consent_declined',
        'under_supported_age',
        'device_not_supported',
      ];

      for (const code of codes) {
        const session = await createSession();
        await submit(session.id, { outcome: code });
        const failed = await retrieve(session.id);
        expect(failed.status, code).to.equal('requires_input');
        expect(failed.last_error?.code, code).to.equal(code);
      }
    });

    it('allows another attempt after a failure', async () => {
      const session = await createSession();
      await submit(session.id, { outcome: 'document_unverified_other' });

      await submit(session.id, { outcome: 'verified', given_names: 'Jenny', family_name: 'Rosen', dob: '1990-02-03' });
      const verified = await retrieve(session.id);

      expect(verified.status).to.equal('verified');
      expect(verified.last_error).to.equal(null);
    });

    it('sends only requires_input for consent_declined', async () => {
      const session = await createSession();

      await submit(session.id, { outcome: 'consent_declined' });
      await fixture.emulator.flushDeliveries();

      expect(fixture.receiver.calls.map((call) => call.event.type)).to.deep.equal([
        'identity.verification_session.requires_input',
      ]);
    });

    it('records abandoned without an event', async () => {
      const session = await createSession();

      const response = await submit(session.id, { outcome: 'abandoned' });
      await fixture.emulator.flushDeliveries();
      const abandoned = await retrieve(session.id);

      expect(response.status).to.equal(303);
      expect(abandoned.status).to.equal('requires_input');
      expect(abandoned.last_error?.code).to.equal('abandoned');
      expect(fixture.receiver.calls).to.have.length(0);
    });

    it('leaves a session in processing until completed', async () => {
      const session = await createSession();

      await submit(session.id, { outcome: 'processing' });
      const processing = await retrieve(session.id);
      await fixture.emulator.completeSession(session.id, {
        kind: 'verified',
        firstName: 'Jenny',
        lastName: 'Rosen',
        dob: '1990-02-03',
      });
      await fixture.emulator.flushDeliveries();
      const verified = await retrieve(session.id);

      expect(processing.status).to.equal('processing');
      expect(processing.url).to.equal(null);
      expect(verified.status).to.equal('verified');
      expect(fixture.receiver.calls.map((call) => call.event.type)).to.deep.equal([
        'identity.verification_session.processing',
        'identity.verification_session.verified',
      ]);
    });

    it('shows a result page without return_url', async () => {
      const session = await fixture.stripe.identity.verificationSessions.create({ type: 'document' });

      const response = await submit(session.id, { outcome: 'document_expired' });

      expect(response.status).to.equal(200);
      expect(response.text).to.include('Result submitted');
    });

    it('rejects missing details and keeps the input', async () => {
      const session = await createSession();

      const response = await submit(session.id, { outcome: 'verified', given_names: 'Jenny', family_name: '', dob: '1990-02-30' });
      const unchanged = await retrieve(session.id);

      expect(response.status).to.equal(400);
      expect(response.text).to.include('Enter the family name read from the document.');
      expect(response.text).to.include('Enter the date of birth as a real date');
      expect(response.text).to.include('aria-invalid="true"');
      expect(inputValue(response.text, 'given_names')).to.equal('Jenny');
      expect(unchanged.status).to.equal('requires_input');
    });

    it('rejects a future date of birth', async () => {
      const session = await createSession();

      const response = await submit(session.id, { outcome: 'verified', given_names: 'Jenny', family_name: 'Rosen', dob: '2999-01-01' });

      expect(response.status).to.equal(400);
      expect(response.text).to.include('cannot be in the future');
    });

    it('rejects an outcome it does not offer', async () => {
      const session = await createSession({ options: {} });

      const response = await submit(session.id, { outcome: 'selfie_face_mismatch' });

      expect(response.status).to.equal(400);
      expect(response.text).to.include('Choose one of the listed results.');
    });

    it('rejects a form from an earlier attempt', async () => {
      const session = await createSession();
      const oldPage = await openPage(session.id);
      await submit(session.id, { outcome: 'document_expired' });

      const response = await request(fixture.emulator.app)
        .post(`/verify/${session.id}`)
        .type('form')
        .send({ client_secret: formSecret(oldPage.text), outcome: 'verified', given_names: 'A', family_name: 'B', dob: '1990-01-01' });
      const unchanged = await retrieve(session.id);

      expect(response.status).to.equal(403);
      expect(unchanged.status).to.equal('requires_input');
    });

    it('rejects a submission to a canceled session', async () => {
      const session = await createSession();
      const page = await openPage(session.id);
      await fixture.stripe.identity.verificationSessions.cancel(session.id);

      const response = await request(fixture.emulator.app)
        .post(`/verify/${session.id}`)
        .type('form')
        .send({ client_secret: formSecret(page.text), outcome: 'document_expired' });

      expect(response.status).to.equal(409);
      expect(response.text).to.include('canceled');
    });
  });

  describe('completeSession', () => {
    it('rejects an unknown session id', async () => {
      let error: unknown;
      try {
        await fixture.emulator.completeSession('vs_unknown', { kind: 'processing' });
      } catch (thrown) {
        error = thrown;
      }

      expect(error).to.be.instanceOf(Error);
      expect((error as Error).message).to.include('vs_unknown');
    });

    it('rejects invalid verified details', async () => {
      const session = await createSession();
      let error: unknown;
      try {
        await fixture.emulator.completeSession(session.id, { kind: 'verified', firstName: '', lastName: 'Rosen', dob: '1990-02-03' });
      } catch (thrown) {
        error = thrown;
      }

      expect((error as Error).name).to.equal('OutcomeRejectedError');
      expect((error as Error).message).to.include('given names');
    });

    it('rejects consent_declined for a processing session', async () => {
      const session = await createSession();
      await fixture.emulator.completeSession(session.id, { kind: 'processing' });
      let error: unknown;
      try {
        await fixture.emulator.completeSession(session.id, { kind: 'error', code: 'consent_declined' });
      } catch (thrown) {
        error = thrown;
      }

      expect((error as Error).name).to.equal('OutcomeRejectedError');
    });
  });
});
