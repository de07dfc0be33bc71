import { expect } from 'chai';
import type { AccessStatus } from '../../plugin/db/models.js';
import { ACCESS_STATUSES } from '../../plugin/access/access-service.js';
import { pluginOf, startTestSandbox, type TestSandbox } from '../support/sandbox.js';

describe('access: counts per status', function () {
  let testSandbox: TestSandbox;
  let practiceId: string;

  before(async function () {
    testSandbox = await startTestSandbox();
    const practice = await testSandbox.sandbox.models.Practice.findOne({ where: { demoKey: 'riverside' } });
    practiceId = String(practice!.id);
  });

  after(async function () {
    await testSandbox.close();
  });

  /** Counts from the table the list reads, and from the requests themselves. */
  async function countsBothWays(): Promise<{ kept: Record<string, number>; actual: Record<string, number> }> {
    const { models } = pluginOf(testSandbox);
    const kept: Record<string, number> = {};
    const actual: Record<string, number> = {};
    for (const status of ACCESS_STATUSES) {
      kept[status] = Number((await models.StatusCount.findOne({ where: { practiceId, status } }))?.total ?? 0);
      actual[status] = await models.AccessRequest.count({ where: { practiceId, status } });
    }
    return { kept, actual };
  }

  it('follows creation and every transition', async function () {
    const plugin = pluginOf(testSandbox);
    const patients = await testSandbox.sandbox.models.Patient.findAll({ where: { practiceId: Number(practiceId), status: 'active' }, limit: 6 });
    const path: AccessStatus[] = ['mfa_pending', 'pending', 'approved', 'revoked', 'approved'];

    for (const [index, row] of patients.entries()) {
      const patient = (await plugin.host.patients.get(practiceId, String(row.id)))!;
      let request = await plugin.access.create(practiceId, patient);
      for (const to of path.slice(0, index)) {
        const result = await plugin.access.transition(request, { from: [request.status], to, actor: { type: 'system', id: null }, action: 'test.moved' });
        expect(result.applied, `${request.status} to ${to}`).to.equal(true);
        request = (result as { request: typeof request }).request;
      }
    }

    const { kept, actual } = await countsBothWays();
    expect(kept).to.deep.equal(actual);
    expect(actual.identity_pending).to.equal(1);
    expect(actual.approved).to.equal(2);
  });

  it('changes nothing for a transition that does not apply', async function () {
    const plugin = pluginOf(testSandbox);
    const before = await countsBothWays();
    const request = (await plugin.models.AccessRequest.findOne({ where: { practiceId, status: 'identity_pending' } }))!;

    const result = await plugin.access.transition(request, { from: ['pending'], to: 'approved', actor: { type: 'system', id: null }, action: 'test.moved' });

    expect(result.applied).to.equal(false);
    expect(await countsBothWays()).to.deep.equal(before);
  });

  it('moves one count for two concurrent transitions', async function () {
    const plugin = pluginOf(testSandbox);
    const request = (await plugin.models.AccessRequest.findOne({ where: { practiceId, status: 'identity_pending' } }))!;

    const results = await Promise.all(
      (['identity_failed', 'identity_mismatch'] as const).map((to) =>
        plugin.access.transition(request, { from: ['identity_pending'], to, actor: { type: 'system', id: null }, action: 'test.moved' }),
      ),
    );

    expect(results.filter((result) => result.applied)).to.have.length(1);
    const { kept, actual } = await countsBothWays();
    expect(kept).to.deep.equal(actual);
  });

  it('moves counts for opposite transitions at once', async function () {
    const plugin = pluginOf(testSandbox);
    const patients = await testSandbox.sandbox.models.Patient.findAll({ where: { practiceId: Number(practiceId), status: 'active' }, offset: 6, limit: 2 });
    const requests = [];
    for (const row of patients) {
      let request = await plugin.access.create(practiceId, (await plugin.host.patients.get(practiceId, String(row.id)))!);
      for (const to of ['mfa_pending', 'pending', 'approved'] as const) {
        const moved = await plugin.access.transition(request, { from: [request.status], to, actor: { type: 'system', id: null }, action: 'test.moved' });
        request = (moved as { request: typeof request }).request;
      }
      requests.push(request);
    }
    let [first, second] = requests as [(typeof requests)[number], (typeof requests)[number]];
    first = ((await plugin.access.transition(first, { from: ['approved'], to: 'revoked', actor: { type: 'system', id: null }, action: 'test.moved' })) as { request: typeof first }).request;

    // Each round moves one request from approved to revoked and the other back, so the two
    // transactions change the same two count rows in opposite directions.
    for (let round = 0; round < 20; round += 1) {
      const results = await Promise.all(
        [first, second].map((request) =>
          plugin.access.transition(request, { from: [request.status], to: request.status === 'approved' ? 'revoked' : 'approved', actor: { type: 'system', id: null }, action: 'test.moved' }),
        ),
      );
      expect(results.every((result) => result.applied), `round ${round}`).to.equal(true);
      [first, second] = results.map((result) => (result as { request: typeof first }).request) as [typeof first, typeof second];
    }

    const { kept, actual } = await countsBothWays();
    expect(kept).to.deep.equal(actual);
  });
});
