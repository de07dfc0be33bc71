import { expect } from 'chai';
import sinon, { type SinonSpy } from 'sinon';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { QueryTypes, type QueryInterface } from 'sequelize';
import type { AccessStatus } from '../../plugin/db/models.js';
import { listAccessRequests, type AccessListPage, type ListCursor } from '../../plugin/staff/access-list.js';
import { toHostPatient } from '../../sandbox/host-api.js';
import { pluginOf, startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { searchIndexDrift } from '../support/search-index.js';
import { rebuildSearchIndex } from '../../plugin/access/search-index.js';

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Patients with requests, oldest request first. */
const people = [
  { key: 'hubert', givenNames: ['Hubert'], familyName: 'Wolfeschlegelsteinhausenbergerdorff', birthDate: '1950-02-03' },
  { key: 'hilda', givenNames: ['Hilda'], familyName: 'Wolfeschlegelsteinhausenberger', birthDate: '1952-04-05' },
  { key: 'ana', givenNames: ['Ana', 'María'], familyName: 'Núñez de la Peña', birthDate: '1990-06-07' },
  { key: 'mariam', givenNames: ['Mariam'], familyName: 'Peñalver', birthDate: '1991-08-09' },
  { key: 'wolfgang', givenNames: ['Wolfgang'], familyName: 'Abend', birthDate: '1960-10-11' },
  { key: 'lucja', givenNames: ['Łucja'], familyName: 'Søndergaard-Straße', birthDate: '1970-12-13' },
  { key: 'eve', givenNames: ['Eve'], familyName: 'Qqqqqqqqqqqqqqqqqqqq\u{1F600}x', birthDate: '1971-01-14' },
] as const;

describe('staff list: name search', function () {
  let testSandbox: TestSandbox;
  let practiceId: string;
  const keyOfRequest = new Map<number, string>();
  const requestOfKey = new Map<string, number>();

  before(async function () {
    testSandbox = await startTestSandbox();
    const plugin = pluginOf(testSandbox);
    const practice = await testSandbox.sandbox.models.Practice.findOne({ where: { demoKey: 'harbour' } });
    practiceId = String(practice!.id);
    for (const person of people) {
      testSandbox.clock.advance(60_000);
      const patient = await testSandbox.sandbox.models.Patient.create({
        practiceId: practice!.id,
        demoKey: null,
        givenNames: JSON.stringify(person.givenNames),
        familyName: person.familyName,
        birthDate: person.birthDate,
        status: 'active',
        mergedIntoId: null,
        sourceSystemId: `name-search-${person.key}`,
        portalLogin: null,
        passwordHash: null,
      });
      const request = await plugin.access.create(practiceId, toHostPatient(patient));
      keyOfRequest.set(Number(request.id), person.key);
      requestOfKey.set(person.key, Number(request.id));
    }
  });

  after(async function () {
    await testSandbox.close();
  });

  function search(text: string, options: { status?: AccessStatus | 'all'; order?: 'newest' | 'oldest'; cursor?: ListCursor | null; pageSize?: number } = {}): Promise<AccessListPage> {
    const plugin = pluginOf(testSandbox);
    return listAccessRequests(
      { sequelize: testSandbox.sandbox.sequelize, models: plugin.models },
      { practiceId, status: options.status ?? 'all', search: text, order: options.order ?? 'newest', cursor: options.cursor ?? null, ...(options.pageSize ? { pageSize: options.pageSize } : {}) },
    );
  }

  const keysOf = (page: AccessListPage) => page.rows.map((row) => keyOfRequest.get(Number(row.id)) ?? `other request ${row.id}`);

  it('finds a word longer than the stored prefixes by the whole word', async function () {
    expect(keysOf(await search('wolfeschlegelsteinhausenbergerd'))).to.deep.equal(['hubert']);
    expect(keysOf(await search('Wolfeschlegelsteinhausenberger'))).to.deep.equal(['hilda', 'hubert']);
    expect(keysOf(await search('wolfeschlegelsteinhausenbergerx'))).to.deep.equal([]);
    expect(keysOf(await search('h wolfeschlegelsteinhausenbergerd'))).to.deep.equal(['hubert']);
  });

  it('reads %, _ and ! as breaks between words', async function () {
    expect(keysOf(await search('wolfeschlegelsteinhausenb'))).to.deep.equal(['hilda', 'hubert']);
    expect(keysOf(await search('wolfeschlegelsteinhausenb%'))).to.deep.equal(['hilda', 'hubert']);
    expect(keysOf(await search('wolfeschlegelsteinhausenb_rger'))).to.deep.equal([]);
    expect(keysOf(await search('wolfeschlegelsteinhausenb!hil'))).to.deep.equal(['hilda']);
  });

  it('finds letters such as ł, ø and ß typed plainly', async function () {
    expect(keysOf(await search('lucja'))).to.deep.equal(['lucja']);
    expect(keysOf(await search('Łuc'))).to.deep.equal(['lucja']);
    expect(keysOf(await search('sondergaard strasse'))).to.deep.equal(['lucja']);
    expect(keysOf(await search('SØNDERGAARD'))).to.deep.equal(['lucja']);
  });

  it('reads commas and brackets as breaks between words', async function () {
    expect(keysOf(await search('Núñez'))).to.deep.equal(['ana']);
    expect(keysOf(await search('nunez, maria'))).to.deep.equal(['ana']);
    expect(keysOf(await search('(nunez)'))).to.deep.equal(['ana']);
  });

  it('compares the rest of a long word character for character', async function () {
    expect(keysOf(await search('qqqqqqqqqqqqqqqqqqqq\u{1F600}'))).to.deep.equal(['eve']);
    expect(keysOf(await search('qqqqqqqqqqqqqqqqqqqq\u{1F40D}'))).to.deep.equal([]);
    expect(keysOf(await search('QQQQQQQQQQQQQQQQQQQQ\u{1F600}X'))).to.deep.equal(['eve']);
  });

  it('needs every word, whichever is longest', async function () {
    expect(keysOf(await search('maria pena'))).to.deep.equal(['mariam', 'ana']);
    expect(keysOf(await search('nunez maria'))).to.deep.equal(['ana']);
    expect(keysOf(await search('pen mari'))).to.deep.equal(['mariam', 'ana']);
    expect(keysOf(await search('núñez peñalver'))).to.deep.equal([]);
    expect(keysOf(await search('wolf h'))).to.deep.equal(['hilda', 'hubert']);
  });

  it('returns dates and page positions a cursor can use', async function () {
    const page = await search('wolf', { pageSize: 1 });

    expect(page.rows[0]!.lastChangedAt).to.be.an.instanceOf(Date);
    expect(page.next).to.deep.equal({ lastChangedAt: page.rows[0]!.lastChangedAt, id: Number(page.rows[0]!.id), direction: 'after' });
  });

  it('moves a request to the top of a search when its status changes', async function () {
    const plugin = pluginOf(testSandbox);
    const hubert = (await plugin.access.findById(practiceId, requestOfKey.get('hubert')!))!;
    testSandbox.clock.advance(60_000);

    const result = await plugin.access.transition(hubert, { from: ['identity_pending'], to: 'identity_failed', actor: { type: 'system', id: null }, action: 'test.moved' });

    expect(result.applied).to.equal(true);
    expect(keysOf(await search('wolf'))).to.deep.equal(['hubert', 'wolfgang', 'hilda']);
    expect(keysOf(await search('wolf', { order: 'oldest' }))).to.deep.equal(['hilda', 'wolfgang', 'hubert']);
  });

  it('finds a request only under the status it has now', async function () {
    expect(keysOf(await search('wolf', { status: 'identity_failed' }))).to.deep.equal(['hubert']);
    expect(keysOf(await search('wolf', { status: 'identity_pending' }))).to.deep.equal(['wolfgang', 'hilda']);
    expect(keysOf(await search('wolf', { status: 'approved' }))).to.deep.equal([]);
  });

  for (const order of ['newest', 'oldest'] as const) {
    for (const status of ['all', 'identity_pending'] as const) {
      it(`walks ${order}-first ${status} pages both ways`, async function () {
        const whole = keysOf(await search('w', { order, status }));
        const forward: string[][] = [];
        let page = await search('w', { order, status, pageSize: 1 });
        forward.push(keysOf(page));
        while (page.next) {
          page = await search('w', { order, status, pageSize: 1, cursor: page.next });
          forward.push(keysOf(page));
          expect(forward.length, 'pages walked').to.be.at.most(whole.length);
        }
        const backward: string[][] = [];
        while (page.previous) {
          page = await search('w', { order, status, pageSize: 1, cursor: page.previous });
          backward.push(keysOf(page));
        }

        expect(whole.length).to.be.at.least(2);
        expect(forward.flat()).to.deep.equal(whole);
        expect(backward.flat()).to.deep.equal(whole.slice(0, -1).reverse());
      });
    }
  }

  it('creates ten requests at once', async function () {
    const plugin = pluginOf(testSandbox);
    const patients = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        testSandbox.sandbox.models.Patient.create({
          practiceId: Number(practiceId),
          demoKey: null,
          givenNames: JSON.stringify(['Tamsin']),
          familyName: 'Okoro',
          birthDate: '1985-01-01',
          status: 'active',
          mergedIntoId: null,
          sourceSystemId: `name-search-at-once-${index}`,
          portalLogin: null,
          passwordHash: null,
        }),
      ),
    );

    const requests = await Promise.all(patients.map((patient) => plugin.access.create(practiceId, toHostPatient(patient))));

    expect(new Set(requests.map((request) => Number(request.id))).size).to.equal(10);
    expect((await search('okoro tamsin')).rows).to.have.length(10);
  });

  it('keeps the index in step with the requests', async function () {
    expect(await searchIndexDrift(pluginOf(testSandbox).models, practiceId)).to.deep.equal([]);
  });

  /** Runs the migration that creates and fills the prefix table again, on the test database. */
  async function runPrefixMigration(): Promise<void> {
    const migration = (await import('../../migrations/20261204230000-create-request-name-prefixes.js')) as {
      up(parameters: { context: QueryInterface }): Promise<void>;
    };
    await migration.up({ context: testSandbox.sandbox.sequelize.getQueryInterface() });
  }

  it('fills the same index when its migration runs', async function () {
    const { sequelize } = testSandbox.sandbox;
    const snapshot = () =>
      sequelize.query('SELECT request_id, prefix, practice_id, status, last_changed_at FROM cra_request_name_prefixes ORDER BY request_id, prefix', { type: QueryTypes.SELECT });
    const writtenByService = await snapshot();

    await runPrefixMigration();

    expect(writtenByService.length).to.be.greaterThan(50);
    expect(await snapshot()).to.deep.equal(writtenByService);
    expect(keysOf(await search('wolfeschlegelsteinhausenbergerd'))).to.deep.equal(['hubert']);
  });

  it('writes the rows again with the new folding when its migration runs', async function () {
    const { sequelize } = testSandbox.sandbox;
    const plugin = pluginOf(testSandbox);
    const lucja = requestOfKey.get('lucja')!;
    // The rows as the old folding wrote them, which kept ł, ø and ß.
    await plugin.models.RequestNameToken.update({ token: 'łucja' }, { where: { requestId: lucja, token: 'lucja' } });
    await plugin.models.RequestNamePrefix.destroy({ where: { requestId: lucja } });
    expect(keysOf(await search('lucja'))).to.deep.equal([]);

    await runPrefixMigration();

    expect(keysOf(await search('lucja'))).to.deep.equal(['lucja']);
    expect(await searchIndexDrift(plugin.models, practiceId)).to.deep.equal([]);
  });

  it('rebuilds the index while statuses change', async function () {
    const plugin = pluginOf(testSandbox);
    const requests = await plugin.models.AccessRequest.findAll({ where: { practiceId, status: 'identity_pending' }, order: [['id', 'ASC']] });
    testSandbox.clock.advance(60_000);

    // Batches of 2 give the status changes many chances to fall between a batch's read and its write.
    const [rebuilt, ...results] = await Promise.all([
      rebuildSearchIndex(testSandbox.sandbox.sequelize, 2),
      ...requests.map((request) =>
        plugin.access.transition(request, { from: ['identity_pending'], to: 'identity_failed', actor: { type: 'system', id: null }, action: 'test.moved' }),
      ),
    ]);

    expect(requests.length).to.be.greaterThan(5);
    expect(rebuilt).to.be.greaterThan(requests.length);
    expect(results.every((result) => result.applied)).to.equal(true);
    expect(await searchIndexDrift(plugin.models, practiceId)).to.deep.equal([]);
    expect((await search('okoro', { status: 'identity_pending' })).rows).to.have.length(0);
    expect((await search('okoro', { status: 'identity_failed' })).rows).to.have.length(10);
  });

  it('repairs missing rows through the sandbox command', async function () {
    const plugin = pluginOf(testSandbox);
    const mariam = requestOfKey.get('mariam')!;
    // A request written by code from before the prefix rows has none.
    await plugin.models.RequestNamePrefix.destroy({ where: { requestId: mariam } });
    expect(keysOf(await search('peñalver'))).to.deep.equal([]);

    const { stdout } = await run('npx', ['tsx', 'sandbox/cli/rebuild-search-index.ts'], {
      cwd: projectRoot,
      // The command reads DATABASE_URL; here it names this test file's own database.
      env: { ...process.env, DATABASE_URL: testSandbox.database.url },
    });

    expect(stdout).to.match(/wrote the name search rows of \d+ access requests again/);
    expect(keysOf(await search('peñalver'))).to.deep.equal(['mariam']);
    expect(await searchIndexDrift(plugin.models, practiceId)).to.deep.equal([]);
  });

  describe('with several words', function () {
    let bo: number;
    let querySpy: SinonSpy;

    before(async function () {
      const patient = await testSandbox.sandbox.models.Patient.create({
        practiceId: Number(practiceId),
        demoKey: null,
        givenNames: JSON.stringify(['Bo']),
        familyName: 'Okoro',
        birthDate: '1999-09-09',
        status: 'active',
        mergedIntoId: null,
        sourceSystemId: 'name-search-bo-okoro',
        portalLogin: null,
        passwordHash: null,
      });
      bo = Number((await pluginOf(testSandbox).access.create(practiceId, toHostPatient(patient))).id);
    });

    beforeEach(function () {
      querySpy = sinon.spy(testSandbox.sandbox.sequelize, 'query');
    });

    afterEach(function () {
      querySpy.restore();
    });

    /** Returns the prefix whose rows the page query read in order. */
    function leadingPrefix(): unknown {
      const pageQuery = querySpy.getCalls().find((call) => String(call.args[0]).includes('JOIN cra_access_requests r'));
      return (pageQuery?.args[1] as { replacements?: Record<string, unknown> } | undefined)?.replacements?.leading;
    }

    it('leads with the rarer word, not the longer', async function () {
      const page = await search('okoro bo');

      expect(page.rows.map((row) => Number(row.id))).to.deep.equal([bo]);
      expect(leadingPrefix()).to.equal('bo');
    });

    it('leads with the longer of two equally common words', async function () {
      const page = await search('tam tamsin');

      expect(page.rows).to.have.length(10);
      expect(leadingPrefix()).to.equal('tamsin');
    });

    it('counts the words within the status filter', async function () {
      // The ten Tamsin Okoros moved to identity_failed above, so among identity_pending
      // requests "okoro" and "bo" have one row each, and the longer word leads.
      const page = await search('okoro bo', { status: 'identity_pending' });

      expect(page.rows.map((row) => Number(row.id))).to.deep.equal([bo]);
      expect(leadingPrefix()).to.equal('okoro');
    });
  });
});
