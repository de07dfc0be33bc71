import { expect } from 'chai';
import { createHash } from 'node:crypto';
import type { Agent } from 'supertest';
import {
  accessRequestOf,
  completeIdentityCheck,
  csrfTokenFrom,
  enableClinicalAccess,
  enrolAuthenticator,
  patientIdOf,
  pluginOf,
  recordPath,
  requestAccess,
  signIn,
  staffPath,
  startJourneySandbox,
  type JourneySandbox,
} from '../support/journey.js';

/** Values that no form of the plugin accepts, each named for the failure message. */
const malformedValues: Array<[string, string]> = [
  ['empty', ''],
  ['whitespace', '   '],
  ['control characters', 'abc\u0000\u0007def'],
  ['a line break', 'one\r\ntwo'],
  ['SQL injection', "' OR 1=1 --"],
  ['markup', '<script>alert(1)</script>'],
  ['Cyrillic lookalikes', 'аррrоvе'],
  ['full-width digits', '１２３４５６７'],
  ['right-to-left override', '\u202eevorppa'],
  ['a very long value', 'x'.repeat(5000)],
  ['a negative number', '-1'],
  ['a fraction', '1.5'],
  ['an exponent', '1e9'],
  ['a huge number', '99999999999999999999999'],
];

interface FormRoute {
  name: string;
  agent: () => Agent;
  /** A page whose form carries a CSRF token for this session. */
  page: () => string;
  action: () => string;
  /** A valid submission, which each case breaks in one field. */
  valid: () => Record<string, string>;
  fields: string[];
}

describe('adversarial: malformed input on every form', function () {
  let journey: JourneySandbox;
  let manager: Agent;
  let patient: Agent;
  let challenger: Agent;
  let pendingRequestId: number;
  let harbourManager: Agent;

  before(async function () {
    journey = await startJourneySandbox();
    await enableClinicalAccess(journey, { autoApprove: true });

    patient = await signIn(journey, 'portal', 'siobhan.obrien@example.test');
    const sessionId = await requestAccess(patient);
    await completeIdentityCheck(journey, sessionId, { kind: 'verified', firstName: 'Siobhán', lastName: 'O’Brien', dob: '1984-03-17' });
    await enrolAuthenticator(journey, patient);
    // A new portal session has no clinical access yet, so it gets the code challenge.
    challenger = await signIn(journey, 'portal', 'siobhan.obrien@example.test');

    const declan = await signIn(journey, 'portal', 'declan.obrien@example.test');
    await requestAccess(declan);
    pendingRequestId = Number((await accessRequestOf(journey, await patientIdOf(journey, 'declan.obrien@example.test')))!.id);

    manager = await signIn(journey, 'admin', 'manager@riverside.example.test');
    harbourManager = await signIn(journey, 'admin', 'manager@harbour.example.test');
  });

  after(async function () {
    await journey.stop();
  });

  /** Digest of every plugin table that contains state, so any change shows. */
  async function stateFingerprint(): Promise<string> {
    const { models } = pluginOf(journey);
    const tables = await Promise.all([
      models.PracticeSettings.findAll({ order: [['practiceId', 'ASC']], raw: true }),
      models.AccessRequest.findAll({ order: [['id', 'ASC']], raw: true }),
      models.IdentityVerification.findAll({ order: [['id', 'ASC']], raw: true }),
      models.MfaFactor.findAll({ order: [['id', 'ASC']], raw: true }),
      models.RecoveryCode.findAll({ order: [['id', 'ASC']], raw: true }),
      models.RequestNameToken.findAll({ order: [['id', 'ASC']], raw: true }),
    ]);
    return createHash('sha256').update(JSON.stringify(tables)).digest('hex');
  }

  const routes: FormRoute[] = [
    {
      name: 'settings',
      agent: () => manager,
      page: () => `${staffPath}/`,
      action: () => `${staffPath}/settings`,
      valid: () => ({ version: '2', enabled: 'on', autoApprove: 'on' }),
      fields: ['version', 'enabled', 'autoApprove'],
    },
    {
      name: 'decision',
      agent: () => manager,
      page: () => `${staffPath}/access/${pendingRequestId}`,
      action: () => `${staffPath}/access/${pendingRequestId}/decision`,
      valid: () => ({ version: '99', decision: 'approve', reason: 'ok' }),
      fields: ['version', 'decision', 'reason'],
    },
    {
      name: 'list decision',
      agent: () => manager,
      page: () => `${staffPath}/access`,
      action: () => `${staffPath}/access/decision`,
      valid: () => ({ rowDecision: `deny:${pendingRequestId}:99`, confirmed: 'yes', reason: 'ok', listStatus: 'pending', listQ: 'declan', listOrder: 'newest' }),
      fields: ['rowDecision', 'confirmed', 'reason', 'listStatus', 'listOrder'],
    },
    {
      name: 'in-person check',
      agent: () => manager,
      page: () => `${staffPath}/access/${pendingRequestId}`,
      action: () => `${staffPath}/access/${pendingRequestId}/verify-in-person`,
      valid: () => ({ version: '1', document: 'passport', confirmed: 'on' }),
      fields: ['version', 'document', 'confirmed'],
    },
    {
      name: 'authenticator reset',
      agent: () => manager,
      page: () => `${staffPath}/access/${pendingRequestId}`,
      action: () => `${staffPath}/access/${pendingRequestId}/reset-mfa`,
      valid: () => ({ reason: 'Lost phone' }),
      fields: ['reason'],
    },
    {
      name: 'challenge',
      agent: () => challenger,
      page: () => `${recordPath}/`,
      action: () => `${recordPath}/challenge`,
      valid: () => ({ code: '123456' }),
      fields: ['code'],
    },
  ];

  for (const route of routes) {
    for (const field of route.fields) {
      it(`rejects malformed ${field} on ${route.name}`, async function () {
        for (const [label, value] of malformedValues) {
          // The reset form's reason is free text: only values no reason may have are malformed there.
          if (route.name === 'authenticator reset' && !['empty', 'whitespace', 'control characters', 'a line break', 'a very long value'].includes(label)) {
            continue;
          }
          if (field === 'reason' && (route.name === 'decision' || route.name === 'list decision') && !['control characters', 'a line break', 'a very long value'].includes(label)) {
            continue;
          }
          const before = await stateFingerprint();
          const page = await route.agent().get(route.page());
          const fields = { ...route.valid(), [field]: value };

          const response = await route.agent().post(route.action()).type('form').send({ _csrf: csrfTokenFrom(page.text), ...fields });

          expect(response.status, `${route.name} ${field} = ${label}`).to.be.within(400, 499);
          expect(response.text, `${route.name} ${field} = ${label}: message`).to.match(/Nothing (was|has been) (saved|changed|recorded|reset)|not right|Enter the code|numbers only|6 numbers|recovery code|incomplete|too long/i);
          expect(await stateFingerprint(), `${route.name} ${field} = ${label}: state`).to.equal(before);
        }
      });
    }

    it(`rejects unknown and repeated fields on ${route.name}`, async function () {
      const cases: Array<[string, string]> = [
        ['an unknown field', 'practiceId=1'],
        ['a repeated field', `${route.fields[0]}=1&${route.fields[0]}=2`],
        ['an array field', `${route.fields[0]}[]=1`],
        ['an object field', `${route.fields[0]}[a]=1`],
      ];
      for (const [label, extra] of cases) {
        const before = await stateFingerprint();
        const page = await route.agent().get(route.page());
        const base = new URLSearchParams({ _csrf: csrfTokenFrom(page.text), ...route.valid() });
        for (const key of new URLSearchParams(extra).keys()) {
          base.delete(key.replace(/\[.*$/, ''));
        }

        const response = await route.agent().post(route.action()).type('form').send(`${base.toString()}&${extra}`);

        expect(response.status, `${route.name}: ${label}`).to.be.within(400, 499);
        expect(await stateFingerprint(), `${route.name}: ${label}: state`).to.equal(before);
      }
    });

    it(`rejects a missing or forged CSRF token on ${route.name}`, async function () {
      const before = await stateFingerprint();

      const missing = await route.agent().post(route.action()).type('form').send(route.valid());
      const forged = await route.agent().post(route.action()).type('form').send({ _csrf: 'forged', ...route.valid() });

      expect(missing.status).to.equal(403);
      expect(forged.status).to.equal(403);
      expect(missing.text).to.contain('Nothing was changed');
      expect(await stateFingerprint()).to.equal(before);
    });

    it(`rejects a body over the size limit on ${route.name}`, async function () {
      const before = await stateFingerprint();
      const page = await route.agent().get(route.page());

      const response = await route.agent().post(route.action()).type('form').send({ _csrf: csrfTokenFrom(page.text), ...route.valid(), padding: 'p'.repeat(70 * 1024) });

      expect(response.status).to.equal(413);
      expect(response.text).to.contain('Nothing was changed');
      expect(await stateFingerprint()).to.equal(before);
    });
  }

  it('answers 404 for other practices\' and unknown ids', async function () {
    const csrfToken = csrfTokenFrom((await harbourManager.get(`${staffPath}/`)).text);
    const before = await stateFingerprint();
    const ids = [String(pendingRequestId), '0', '-1', '1e3', '99999999', '1;DROP TABLE cra_access_requests', '%00', '١٢', 'abc'];

    for (const id of ids) {
      const page = await harbourManager.get(`${staffPath}/access/${encodeURIComponent(id)}`);
      expect(page.status, `GET ${id}`).to.equal(404);
      for (const action of ['decision', 'verify-in-person', 'reset-mfa']) {
        const response = await harbourManager
          .post(`${staffPath}/access/${encodeURIComponent(id)}/${action}`)
          .type('form')
          .send({ _csrf: csrfToken, version: '1', decision: 'approve', document: 'passport', confirmed: 'on', reason: 'x'.repeat(10) });
        expect(response.status, `POST ${action} ${id}`).to.equal(404);
      }
    }
    expect(await stateFingerprint()).to.equal(before);
  });

  it('answers 4xx for malformed list queries', async function () {
    const queries = ['status=nope', 'status[]=pending', 'order=sideways', 'page=garbage', 'page=a1.', `q=${'x'.repeat(200)}`, 'q=%00', 'status=pending&status=denied'];

    for (const query of queries) {
      const response = await manager.get(`${staffPath}/access?${query}`);
      expect(response.status, query).to.be.within(400, 499);
      expect(response.text, query).to.contain('is not valid');
    }
  });

  it('answers 404 for unknown record sections', async function () {
    for (const slug of ['unknown', '__proto__', 'constructor', 'PROBLEMS', 'problems%00', '..%2f..%2fetc']) {
      const response = await patient.get(`${recordPath}/section/${slug}`);
      expect(response.status, slug).to.equal(404);
    }
  });

  it('rejects malformed sign-in forms', async function () {
    const cases: Array<Record<string, string>> = [
      {},
      { email: '', password: '' },
      { email: 'not-an-email', password: 'x' },
      { email: 'a@b.c', password: '' },
      { email: `${'a'.repeat(300)}@example.test`, password: 'x' },
      { email: "' OR 1=1 --@x.test", password: 'x' },
      { email: 'manager@riverside.example.test', password: 'p'.repeat(500) },
    ];
    for (const area of ['admin', 'portal']) {
      for (const fields of cases) {
        const agent = (await import('supertest')).default.agent(journey.sandbox.app);
        const page = await agent.get(`/${area}/sign-in`);
        const response = await agent.post(`/${area}/sign-in`).type('form').send({ _csrf: csrfTokenFrom(page.text), ...fields });
        expect(response.status, `${area} ${JSON.stringify(fields).slice(0, 80)}`).to.be.within(400, 499);
        expect(response.text).to.match(/Enter|too long|incorrect/);
      }
    }
  });
});
