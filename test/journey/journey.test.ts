import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import type { Agent } from 'supertest';
import { parseBundle } from '../../sandbox/fhir/bundle.js';
import { storeParsedBundle } from '../../sandbox/fhir/store.js';
import { hashPassword } from '../../sandbox/passwords.js';
import { demoPassword } from '../../sandbox/demo/practices.js';
import {
  accessRequestOf,
  authenticatorCode,
  completeIdentityCheck,
  csrfTokenFrom,
  enableClinicalAccess,
  enrolAuthenticator,
  patientIdOf,
  recordPath,
  requestAccess,
  sessionCookie,
  signIn,
  staffDecide,
  staffPath,
  startJourneySandbox,
  type JourneySandbox,
} from '../support/journey.js';

const syntheaUrl = new URL('../../../shared/fixtures/fhir/synthea-sample-complete-patient.json', import.meta.url);
const portalLogin = 'lindsay.gerlach@example.test';

/** Counts the items a section page lists. */
function itemCount(html: string): number {
  return [...html.matchAll(/data-record-item="/g)].length;
}

describe('journey: request to record, approved by staff', function () {
  let journey: JourneySandbox;
  let patient: Agent;
  let otpauthUri: string;
  let recoveryCodes: string[];

  before(async function () {
    journey = await startJourneySandbox();
    const practice = await journey.sandbox.models.Practice.findOne({ where: { demoKey: 'riverside' } });
    const bundle = JSON.parse(await readFile(syntheaUrl, 'utf8')) as unknown;
    await storeParsedBundle(journey.sandbox.models, practice!.id, parseBundle(bundle), { portalLogin, passwordHash: await hashPassword(demoPassword) });
    await enableClinicalAccess(journey, { autoApprove: false });
    patient = await signIn(journey, 'portal', portalLogin);
  });

  after(async function () {
    await journey.stop();
  });

  it('offers to request access', async function () {
    const page = await patient.get(`${recordPath}/`).expect(200);

    expect(page.text).to.contain('See your clinical record');
    expect(page.text).to.contain('Stripe');
    expect(page.headers['cache-control']).to.equal('no-store');
  });

  it('sends the patient to Stripe and back', async function () {
    const sessionId = await requestAccess(patient);

    await completeIdentityCheck(journey, sessionId, { kind: 'verified', firstName: 'Lindsay928', lastName: 'Gerlach374', dob: '1950-10-24' });
    const back = await patient.get(`${recordPath}/identity/return`).expect(303);

    expect(back.headers.location).to.equal(`${recordPath}/`);
  });

  it('enrols the authenticator from the QR code', async function () {
    ({ otpauthUri, recoveryCodes } = await enrolAuthenticator(journey, patient));

    expect(otpauthUri).to.match(/^otpauth:\/\/totp\/Riverside%20Medical%20Centre:lindsay\.gerlach%40example\.test\?/);
    expect(new URL(otpauthUri).searchParams.get('issuer')).to.equal('Riverside Medical Centre');
    expect(new URL(otpauthUri).searchParams.get('digits')).to.equal('6');
  });

  it('keeps only hashes of saved recovery codes', async function () {
    const rows = await journey.sandbox.hostApi.database.sequelize.models.CraRecoveryCode!.findAll();
    const stored = JSON.stringify(rows.map((row) => row.toJSON()));

    expect(rows).to.have.length(10);
    for (const code of recoveryCodes) {
      expect(stored).not.to.contain(code);
      expect(stored).not.to.contain(code.replaceAll('-', ''));
    }
  });

  it('waits for staff while auto-approve is off', async function () {
    const page = await patient.get(`${recordPath}/`).expect(200);

    expect(page.text).to.contain('Waiting for the practice to approve');
    expect(itemCount(page.text)).to.equal(0);
    const section = await patient.get(`${recordPath}/section/problems`).expect(303);
    expect(section.headers.location).to.equal(`${recordPath}/`);
  });

  it('tells staff a request is pending', async function () {
    const notifications = await journey.sandbox.models.Notification.findAll({ where: { recipientType: 'staff' } });

    expect(notifications).to.have.length(1);
    expect(notifications[0]!.subject).to.contain('waiting for clinical record access');
  });

  it('lists the request as pending for staff', async function () {
    const manager = await signIn(journey, 'admin', 'manager@riverside.example.test');

    const list = await manager.get(`${staffPath}/access?status=pending`).expect(200);

    expect(list.text).to.contain('Lindsay928 Gerlach374');
    expect(list.text).to.match(/Pending <span class="cra-count">\(1\)<\/span>/);
  });

  it('lets a manager approve the request', async function () {
    const request = await accessRequestOf(journey, await patientIdOf(journey, portalLogin));

    const response = await staffDecide(journey, request!.id, 'approve');

    expect(response.status, response.text).to.equal(303);
    const notifications = await journey.sandbox.models.Notification.findAll({ where: { recipientType: 'patient' } });
    expect(notifications.map((notification) => notification.subject)).to.deep.equal(['Your clinical record is ready to view']);
  });

  it('asks for a code once the session has idled', async function () {
    journey.clock.advance(16 * 60 * 1000);

    const page = await patient.get(`${recordPath}/`).expect(200);

    expect(page.text).to.contain('Enter your code');
    expect(page.text).to.contain('autocomplete="one-time-code"');
    expect(page.text).to.contain('inputmode="numeric"');
  });

  it('opens the record with a new session id', async function () {
    const page = await patient.get(`${recordPath}/`).expect(200);
    const sessionBefore = sessionCookie(patient);
    const code = await authenticatorCode(otpauthUri, journey.clock);

    const response = await patient.post(`${recordPath}/challenge`).type('form').send({ _csrf: csrfTokenFrom(page.text), code });

    expect(response.status, response.text).to.equal(303);
    expect(sessionCookie(patient)).to.be.a('string');
    expect(sessionCookie(patient)).not.to.equal(sessionBefore);
    const overview = await patient.get(`${recordPath}/`).expect(200);
    expect(overview.text).to.contain(`${recordPath}/section/lab-results`);
  });

  it('shows each section with the bundle counts', async function () {
    const expected: Record<string, number> = { problems: 21, medications: 12, 'lab-results': 26, immunisations: 0, allergies: 0 };

    for (const [slug, count] of Object.entries(expected)) {
      const page = await patient.get(`${recordPath}/section/${slug}`).expect(200);
      expect(itemCount(page.text), slug).to.equal(count);
      expect(page.headers['cache-control'], slug).to.equal('no-store');
    }
  });

  it('audits every section view', async function () {
    const views = await journey.sandbox.hostApi.database.sequelize.models.CraAuditEvent!.findAll({ where: { action: 'record.viewed' } });
    const sections = views.map((view) => JSON.parse(view.get('details') as string).section);

    expect(sections).to.include.members(['problems', 'medications', 'labResults', 'immunisations', 'allergies']);
  });

  it('shows nothing on the next request after revocation', async function () {
    const request = await accessRequestOf(journey, await patientIdOf(journey, portalLogin));
    const revocation = await staffDecide(journey, request!.id, 'revoke', { reason: 'Test of revocation' });
    expect(revocation.status, revocation.text).to.equal(303);

    const section = await patient.get(`${recordPath}/section/problems`).expect(303);
    const landing = await patient.get(section.headers.location!).expect(200);

    expect(landing.text).to.contain('Your access has been stopped');
    expect(itemCount(landing.text)).to.equal(0);
    expect(landing.text).not.to.contain('Hypertension');
  });
});
