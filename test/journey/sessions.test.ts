import { expect } from 'chai';
import request from 'supertest';
import type { Agent } from 'supertest';
import { demoPassword } from '../../sandbox/demo/practices.js';
import {
  authenticatorCode,
  completeIdentityCheck,
  csrfTokenFrom,
  enableClinicalAccess,
  enrolAuthenticator,
  recordPath,
  requestAccess,
  sessionCookie,
  signIn,
  startJourneySandbox,
  type JourneySandbox,
} from '../support/journey.js';

const portalLogin = 'siobhan.obrien@example.test';
const minute = 60 * 1000;

/** Posts a code to the challenge form of a fresh page and returns the response. */
async function answerChallenge(agent: Agent, code: string) {
  const page = await agent.get(`${recordPath}/`).expect(200);
  expect(page.text, 'challenge page').to.contain('Enter your code');
  return agent.post(`${recordPath}/challenge`).type('form').send({ _csrf: csrfTokenFrom(page.text), code });
}

describe('journey: clinical sessions and codes', function () {
  let journey: JourneySandbox;
  let patient: Agent;
  let otpauthUri: string;
  let recoveryCodes: string[];

  before(async function () {
    journey = await startJourneySandbox();
    await enableClinicalAccess(journey, { autoApprove: true });
    patient = await signIn(journey, 'portal', portalLogin);
    const sessionId = await requestAccess(patient);
    await completeIdentityCheck(journey, sessionId, { kind: 'verified', firstName: 'Siobhan', lastName: "O'Brien", dob: '1984-03-17' });
    ({ otpauthUri, recoveryCodes } = await enrolAuthenticator(journey, patient));
  });

  after(async function () {
    await journey.stop();
  });

  it('opens the record at once when auto-approved', async function () {
    const page = await patient.get(`${recordPath}/`).expect(200);

    expect(page.text).to.contain(`${recordPath}/section/problems`);
    const request = await journey.sandbox.hostApi.database.sequelize.models.CraAccessRequest!.findOne();
    expect(request!.get('status')).to.equal('approved');
  });

  it('sends no-store and a CSP allowing the QR image', async function () {
    const page = await patient.get(`${recordPath}/section/allergies`).expect(200);

    expect(page.headers['cache-control']).to.equal('no-store');
    expect(page.headers['content-security-policy']).to.match(/img-src 'self' data:/);
    expect(page.headers['content-security-policy']).to.match(/script-src 'self'/);
  });

  it('ends clinical access after 15 idle minutes', async function () {
    journey.clock.advance(15 * minute);

    const page = await patient.get(`${recordPath}/section/problems`);

    expect(page.status).to.equal(303);
    const landing = await patient.get(`${recordPath}/`).expect(200);
    expect(landing.text).to.contain('because you had not used it for a while');
  });

  it('accepts a current code with a new session id', async function () {
    const before = sessionCookie(patient);

    const response = await answerChallenge(patient, await authenticatorCode(otpauthUri, journey.clock));

    expect(response.status, response.text).to.equal(303);
    expect(sessionCookie(patient)).not.to.equal(before);
    await patient.get(`${recordPath}/section/problems`).expect(200);
  });

  it('refuses a code for a step already used', async function () {
    const code = await authenticatorCode(otpauthUri, journey.clock);
    const other = await signIn(journey, 'portal', portalLogin);

    const response = await answerChallenge(other, code);

    expect(response.status).to.equal(400);
    expect(response.text).to.contain('That code is not right');
    await other.get(`${recordPath}/section/problems`).expect(303);
  });

  it('accepts a recovery code once', async function () {
    const first = await signIn(journey, 'portal', portalLogin);
    const accepted = await answerChallenge(first, recoveryCodes[0]!);
    expect(accepted.status, accepted.text).to.equal(303);
    expect(accepted.headers.location).to.contain('notice=recoveryCodeUsed');

    const second = await signIn(journey, 'portal', portalLogin);
    const refused = await answerChallenge(second, recoveryCodes[0]!);

    expect(refused.status).to.equal(400);
    expect(refused.text).to.contain('That recovery code is not right, or it has been used already');
  });

  it('tells the patient a recovery code was used', async function () {
    const notifications = await journey.sandbox.models.Notification.findAll({ where: { subject: 'A recovery code was used' } });

    expect(notifications).to.have.length(1);
    expect(notifications[0]!.body).to.contain('9 recovery codes left');
  });

  it('offers new recovery codes after one is used', async function () {
    const agent = await signIn(journey, 'portal', portalLogin);
    journey.clock.advance(minute);
    await answerChallenge(agent, await authenticatorCode(otpauthUri, journey.clock));

    const overview = await agent.get(`${recordPath}/?notice=recoveryCodeUsed`).expect(200);
    const regenerate = await agent.post(`${recordPath}/recovery-codes/regenerate`).type('form').send({ _csrf: csrfTokenFrom(overview.text) });
    expect(regenerate.status).to.equal(303);
    const codesPage = await agent.get(`${recordPath}/recovery-codes`).expect(200);
    const newCodes = [...codesPage.text.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((match) => match[1]!);
    await agent.post(`${recordPath}/recovery-codes/confirm`).type('form').send({ _csrf: csrfTokenFrom(codesPage.text) }).expect(303);

    expect(newCodes).to.have.length(10);
    const retired = await signIn(journey, 'portal', portalLogin);
    const old = await answerChallenge(retired, recoveryCodes[1]!);
    expect(old.status, 'an old code after regeneration').to.equal(400);
    const fresh = await answerChallenge(retired, newCodes[0]!);
    expect(fresh.status, 'a new code').to.equal(303);
  });

  it('ends clinical access 12 hours after MFA', async function () {
    const agent = await signIn(journey, 'portal', portalLogin);
    journey.clock.advance(minute);
    await answerChallenge(agent, await authenticatorCode(otpauthUri, journey.clock));

    for (let elapsed = 0; elapsed < 12 * 60; elapsed += 10) {
      journey.clock.advance(10 * minute);
      await agent.get(`${recordPath}/`).expect(200);
    }
    const page = await agent.get(`${recordPath}/`).expect(200);

    expect(page.text).to.contain('because you had it open for a long time');
  });

  it('tells the patient at once when a lock starts', async function () {
    const agent = await signIn(journey, 'portal', portalLogin);
    const wrong = (await authenticatorCode(otpauthUri, journey.clock)) === '000000' ? '111111' : '000000';

    const statuses: number[] = [];
    let last = '';
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const response = await answerChallenge(agent, wrong);
      statuses.push(response.status);
      last = response.text;
    }

    expect(statuses).to.deep.equal([400, 400, 400, 400, 429]);
    expect(last).to.contain('Too many codes were not right');
    journey.clock.advance(2 * minute);
  });

  it('returns to the requested section after the code', async function () {
    const agent = await signIn(journey, 'portal', portalLogin);
    journey.clock.advance(minute);

    const requested = await agent.get(`${recordPath}/section/lab-results`).expect(303);
    const challenge = await agent.get(requested.headers.location!).expect(200);
    const code = await authenticatorCode(otpauthUri, journey.clock);
    const accepted = await agent.post(`${recordPath}/challenge`).type('form').send({ _csrf: csrfTokenFrom(challenge.text), code, next: 'lab-results' });

    expect(requested.headers.location).to.equal(`${recordPath}/?next=lab-results`);
    expect(challenge.text).to.contain('<input type="hidden" name="next" value="lab-results">');
    expect(accepted.status, accepted.text).to.equal(303);
    expect(accepted.headers.location).to.equal(`${recordPath}/section/lab-results`);
    await agent.get(accepted.headers.location!).expect(200);
  });

  it('rejects a challenge naming another destination', async function () {
    const agent = await signIn(journey, 'portal', portalLogin);
    journey.clock.advance(minute);

    const page = await agent.get(`${recordPath}/?next=${encodeURIComponent('https://example.org/')}`).expect(200);
    const code = await authenticatorCode(otpauthUri, journey.clock);
    const response = await agent.post(`${recordPath}/challenge`).type('form').send({ _csrf: csrfTokenFrom(page.text), code, next: '//example.org' });

    expect(page.text).to.contain('Enter your code');
    expect(page.text).to.not.contain('name="next"');
    expect(response.status).to.equal(400);
    expect(response.headers.location).to.equal(undefined);
    await agent.get(`${recordPath}/section/problems`).expect(303);
  });

  it('changes the session id at sign-in', async function () {
    const agent = request.agent(journey.sandbox.app);
    const signInPage = await agent.get('/portal/sign-in').expect(200);
    const before = sessionCookie(agent);

    await agent.post('/portal/sign-in').type('form').send({ _csrf: csrfTokenFrom(signInPage.text), email: portalLogin, password: demoPassword }).expect(303);

    expect(before, 'session before sign-in').to.be.a('string');
    expect(sessionCookie(agent)).to.be.a('string');
    expect(sessionCookie(agent)).not.to.equal(before);
  });

  it('hides the record once the practice disables it', async function () {
    const agent = await signIn(journey, 'portal', portalLogin);
    journey.clock.advance(minute);
    await answerChallenge(agent, await authenticatorCode(otpauthUri, journey.clock));
    await agent.get(`${recordPath}/section/medications`).expect(200);

    const manager = await signIn(journey, 'admin', 'manager@riverside.example.test');
    const settings = await manager.get('/admin/settings/patient-portal/clinical-record-access').expect(200);
    const version = /name="version" value="(\d+)"/.exec(settings.text)![1]!;
    await manager.post('/admin/settings/patient-portal/clinical-record-access/settings').type('form').send({ _csrf: csrfTokenFrom(settings.text), version }).expect(303);

    const section = await agent.get(`${recordPath}/section/medications`).expect(303);
    const landing = await agent.get(section.headers.location!).expect(200);
    expect(landing.text).to.contain('does not offer online access to clinical records');
  });
});
