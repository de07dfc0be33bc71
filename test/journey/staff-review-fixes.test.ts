import { expect } from 'chai';
import {
  accessRequestOf,
  enableClinicalAccess,
  patientIdOf,
  pluginOf,
  signIn,
  staffDecide,
  staffPath,
  startJourneySandbox,
  type JourneySandbox,
} from '../support/journey.js';

describe('staff: search and free text', function () {
  let journey: JourneySandbox;
  let practiceId: string;

  before(async function () {
    journey = await startJourneySandbox();
    await enableClinicalAccess(journey, { autoApprove: false });
    const practice = await journey.sandbox.models.Practice.findOne({ where: { demoKey: 'riverside' } });
    practiceId = String(practice!.id);
    for (const login of ['siobhan.obrien@example.test', 'declan.obrien@example.test']) {
      const patient = await pluginOf(journey).host.patients.get(practiceId, await patientIdOf(journey, login));
      await pluginOf(journey).access.create(practiceId, patient!);
    }
  });

  after(async function () {
    await journey.stop();
  });

  it('finds names with apostrophes typed without them', async function () {
    const manager = await signIn(journey, 'admin', 'manager@riverside.example.test');

    for (const search of ['obrien', "o'brien", 'O’Brien', 'brien']) {
      const page = await manager.get(`${staffPath}/access?q=${encodeURIComponent(search)}`).expect(200);
      expect(page.text, search).to.contain('Siobhán O’Brien');
      expect(page.text, search).to.contain("Declan O&#x27;Brien");
    }
  });

  it('accepts a tab pasted into the reason', async function () {
    const request = await accessRequestOf(journey, await patientIdOf(journey, 'declan.obrien@example.test'));
    await pluginOf(journey).access.transition(request!, {
      from: ['identity_pending'],
      to: 'pending',
      actor: { type: 'system', id: null },
      action: 'test.moved',
    });

    const response = await staffDecide(journey, request!.id, 'deny', { reason: 'Not\tregistered', message: 'Please\tcall us' });

    expect(response.status, response.text).to.equal(303);
    const denied = await accessRequestOf(journey, await patientIdOf(journey, 'declan.obrien@example.test'));
    expect(denied!.decisionReason).to.equal('Not registered');
  });
});
