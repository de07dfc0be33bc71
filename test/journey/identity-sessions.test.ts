import { expect } from 'chai';
import type { Agent } from 'supertest';
import {
  accessRequestOf,
  csrfTokenFrom,
  enableClinicalAccess,
  patientIdOf,
  pluginOf,
  recordPath,
  signIn,
  startJourneySandbox,
  type JourneySandbox,
} from '../support/journey.js';

/** Verification sessions the emulator created, counted from its events. */
function sessionsCreated(journey: JourneySandbox): number {
  return journey.emulator.events.filter((event) => event.type === 'identity.verification_session.created').length;
}

describe('journey: starting identity checks', function () {
  let journey: JourneySandbox;

  before(async function () {
    journey = await startJourneySandbox();
    await enableClinicalAccess(journey, { autoApprove: false });
  });

  after(async function () {
    await journey.stop();
  });

  it('creates one session for three tabs at once', async function () {
    const patient = await signIn(journey, 'portal', 'oliver.bennett@example.test');
    const page = await patient.get(`${recordPath}/`).expect(200);
    const before = sessionsCreated(journey);

    const responses = await Promise.all(
      [1, 2, 3].map(() => patient.post(`${recordPath}/request`).type('form').send({ _csrf: csrfTokenFrom(page.text) })),
    );

    expect(responses.map((response) => response.status)).to.deep.equal([303, 303, 303]);
    expect(sessionsCreated(journey) - before).to.equal(1);
    const patientId = await patientIdOf(journey, 'oliver.bennett@example.test');
    const started = await pluginOf(journey).models.IdentityVerification.count({ where: { patientId } });
    expect(started).to.equal(1);
  });

  it('starts anew when Stripe no longer has the session', async function () {
    const patient: Agent = await signIn(journey, 'portal', 'priya.raghunathan@example.test');
    const page = await patient.get(`${recordPath}/`).expect(200);
    await patient.post(`${recordPath}/request`).type('form').send({ _csrf: csrfTokenFrom(page.text) }).expect(303);
    const patientId = await patientIdOf(journey, 'priya.raghunathan@example.test');
    const request = await accessRequestOf(journey, patientId);
    // As after the emulator restarts: the plugin's session id is unknown at Stripe.
    await pluginOf(journey).models.IdentityVerification.update({ stripeSessionId: 'vs_forgotten' }, { where: { id: request!.currentVerificationId! } });

    const pending = await patient.get(`${recordPath}/`).expect(200);
    const response = await patient.post(`${recordPath}/identity/start`).type('form').send({ _csrf: csrfTokenFrom(pending.text) });

    expect(response.status, response.text).to.equal(303);
    expect(response.headers.location).to.match(/\/verify\/vs_/);
    const forgotten = await pluginOf(journey).models.IdentityVerification.findOne({ where: { stripeSessionId: 'vs_forgotten' } });
    expect(forgotten!.outcome).to.equal('canceled');
    expect(forgotten!.failureCode).to.equal('session_missing');
  });
});
