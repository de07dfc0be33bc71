import { expect } from 'chai';
import request from 'supertest';
import { csrfTokenFrom, signIn, startTestSandbox, type TestSandbox } from '../support/sandbox.js';

const settingsPath = '/admin/settings/patient-portal/clinical-record-access';

describe('settings: Clinical Record Access', function () {
  let testSandbox: TestSandbox;
  let riversideId: string;
  let harbourId: string;

  before(async function () {
    testSandbox = await startTestSandbox();
    const practices = await testSandbox.sandbox.models.Practice.findAll();
    riversideId = String(practices.find((practice) => practice.demoKey === 'riverside')!.id);
    harbourId = String(practices.find((practice) => practice.demoKey === 'harbour')!.id);
  });

  after(async function () {
    await testSandbox.close();
  });

  const settingsOf = (practiceId: string) => testSandbox.sandbox.hostApi.database.sequelize.models.CraPracticeSettings!.findByPk(practiceId);

  async function submitSettings(email: string, fields: Record<string, string>) {
    const agent = await signIn(testSandbox, 'admin', email);
    const page = await agent.get(settingsPath).expect(200);
    const version = /name="version" value="(\d+)"/.exec(page.text)?.[1];
    return agent.post(`${settingsPath}/settings`).type('form').send({ _csrf: csrfTokenFrom(page.text), version, ...fields });
  }

  it('lists the section under Settings > Patient Portal', async function () {
    const agent = await signIn(testSandbox, 'admin', 'manager@riverside.example.test');

    const portalSettings = await agent.get('/admin/settings/patient-portal').expect(200);
    expect(portalSettings.text).to.contain(`href="${settingsPath}"`);
    expect(portalSettings.text).to.contain('Clinical Record Access');

    const section = await agent.get(settingsPath).expect(200);
    expect(section.text).to.contain('Enable clinical record access');
    expect(section.text).to.contain('Auto-approve verified patients');
    expect(section.headers['cache-control']).to.equal('no-store');
  });

  it('sends a signed-out visitor to sign in', async function () {
    const response = await request(testSandbox.sandbox.app).get(settingsPath).expect(303);
    expect(response.headers.location).to.match(/^\/admin\/sign-in\?next=/);
  });

  it('saves both toggles and keeps them across a restart', async function () {
    const response = await submitSettings('manager@riverside.example.test', { enabled: 'on', autoApprove: 'on' });
    expect(response.status).to.equal(303);

    await testSandbox.restart();

    const agent = await signIn(testSandbox, 'admin', 'manager@riverside.example.test');
    const page = await agent.get(settingsPath).expect(200);
    expect(page.text).to.match(/id="cra-enabled"[^>]* checked/);
    expect(page.text).to.match(/id="cra-auto-approve"[^>]* checked/);
    const row = await settingsOf(riversideId);
    expect(row!.get('enabled')).to.equal(true);
  });

  it('records each change in the audit trail', async function () {
    await submitSettings('manager@riverside.example.test', { enabled: 'on' });

    const events = await testSandbox.sandbox.hostApi.database.sequelize.models.CraAuditEvent!.findAll({
      where: { practiceId: riversideId, action: 'settings.changed' },
      order: [['id', 'ASC']],
    });
    const staff = await testSandbox.sandbox.models.Staff.findOne({ where: { email: 'manager@riverside.example.test' } });
    const last = events[events.length - 1]!;
    expect(last.get('actorType')).to.equal('staff');
    expect(last.get('actorId')).to.equal(String(staff!.id));
    expect(JSON.parse(last.get('details') as string)).to.deep.equal({ autoApprove: { from: true, to: false } });
    expect((last.get('occurredAt') as Date).toISOString()).to.equal(testSandbox.clock.now().toISOString());
  });

  it('refuses to enable without Stripe configuration', async function () {
    const response = await submitSettings('manager@harbour.example.test', { enabled: 'on' });

    expect(response.status).to.equal(422);
    expect(response.text).to.contain('Stripe Identity is not set up for this practice');
    const row = await settingsOf(harbourId);
    expect(row!.get('enabled')).to.equal(false);
  });

  it('returns 403 to a receptionist who submits a change', async function () {
    const before = await settingsOf(riversideId);
    const agent = await signIn(testSandbox, 'admin', 'reception@riverside.example.test');
    const page = await agent.get(settingsPath).expect(200);
    expect(page.text).to.contain('Your role lets you see these settings but not change them');

    const response = await agent
      .post(`${settingsPath}/settings`)
      .type('form')
      .send({ _csrf: csrfTokenFrom(page.text), version: String(before!.get('version')), autoApprove: 'on' });

    expect(response.status).to.equal(403);
    const after = await settingsOf(riversideId);
    expect(after!.get('version')).to.equal(before!.get('version'));
  });

  it('rejects a change without a CSRF token', async function () {
    const before = await settingsOf(riversideId);
    const agent = await signIn(testSandbox, 'admin', 'manager@riverside.example.test');

    const response = await agent.post(`${settingsPath}/settings`).type('form').send({ version: String(before!.get('version')), autoApprove: 'on' });

    expect(response.status).to.equal(403);
    const after = await settingsOf(riversideId);
    expect(after!.get('version')).to.equal(before!.get('version'));
  });

  it('rejects a change made on a stale page', async function () {
    const agent = await signIn(testSandbox, 'admin', 'manager@riverside.example.test');
    const stalePage = await agent.get(settingsPath).expect(200);
    await submitSettings('manager@riverside.example.test', { autoApprove: 'on' });
    const before = await settingsOf(riversideId);

    const staleVersion = /name="version" value="(\d+)"/.exec(stalePage.text)![1]!;
    const response = await agent.post(`${settingsPath}/settings`).type('form').send({ _csrf: csrfTokenFrom(stalePage.text), version: staleVersion });

    expect(response.status).to.equal(409);
    expect(response.text).to.contain('Someone else changed these settings');
    const after = await settingsOf(riversideId);
    expect(after!.get('version')).to.equal(before!.get('version'));
    expect(after!.get('autoApprove')).to.equal(true);
  });

  it('rejects a form with unknown or malformed fields', async function () {
    const cases: Array<Record<string, string>> = [
      { enabled: 'yes' },
      { practiceId: riversideId },
      { version: 'one' },
      { version: '-4' },
      { autoApprove: 'on\u0000' },
    ];
    for (const fields of cases) {
      const before = await settingsOf(riversideId);
      const agent = await signIn(testSandbox, 'admin', 'manager@riverside.example.test');
      const page = await agent.get(settingsPath).expect(200);
      const version = /name="version" value="(\d+)"/.exec(page.text)![1]!;

      const response = await agent.post(`${settingsPath}/settings`).type('form').send({ _csrf: csrfTokenFrom(page.text), version, ...fields });

      expect(response.status, JSON.stringify(fields)).to.equal(400);
      expect(response.text).to.contain('Nothing was saved');
      const after = await settingsOf(riversideId);
      expect(after!.get('version'), JSON.stringify(fields)).to.equal(before!.get('version'));
    }
  });

  it('never shows or changes another practice\'s settings', async function () {
    const riversideBefore = await settingsOf(riversideId);
    const agent = await signIn(testSandbox, 'admin', 'manager@harbour.example.test');

    const page = await agent.get(`${settingsPath}?practiceId=${riversideId}`).expect(200);
    expect(page.text).to.contain('Stripe Identity is not set up for this practice');
    expect(page.text).not.to.match(/id="cra-enabled"[^>]* checked/);

    const version = /name="version" value="(\d+)"/.exec(page.text)![1]!;
    const response = await agent
      .post(`${settingsPath}/settings?practiceId=${riversideId}`)
      .type('form')
      .send({ _csrf: csrfTokenFrom(page.text), version, practiceId: riversideId, autoApprove: 'on' });
    expect(response.status).to.equal(400);

    const riversideAfter = await settingsOf(riversideId);
    expect(riversideAfter!.get('version')).to.equal(riversideBefore!.get('version'));
    expect(riversideAfter!.get('autoApprove')).to.equal(riversideBefore!.get('autoApprove'));
  });
});
