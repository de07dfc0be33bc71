import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startTestSandbox, type TestSandbox } from '../support/sandbox.js';

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const syntheaPath = fileURLToPath(new URL('../../../shared/fixtures/fhir/synthea-sample-complete-patient.json', import.meta.url));

async function importBundle(databaseUrl: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'sandbox/cli/import-bundle.ts', ...args], {
      cwd: projectRoot,
      // The command reads DATABASE_URL; here it names this test file's own database.
      env: { ...process.env, DATABASE_URL: databaseUrl },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

describe('sandbox: import command', function () {
  let testSandbox: TestSandbox;

  before(async function () {
    testSandbox = await startTestSandbox();
  });

  after(async function () {
    await testSandbox.close();
  });

  it('imports the bundle and reports skipped entries', async function () {
    const result = await importBundle(testSandbox.database.url, syntheaPath, '--practice', 'harbour');

    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/Created patient \d+ in Harbour Street Surgery\./);
    expect(result.stdout).to.contain('imported 21 Condition');
    expect(result.stdout).to.contain('imported 26 Observation');
    expect(result.stdout).to.contain('skipped 30: Observation category vital-signs is not a lab result.');
  });

  it("refuses to add a bundle to another person's record", async function () {
    const siobhan = await testSandbox.sandbox.models.Patient.findOne({ where: { portalLogin: 'siobhan.obrien@example.test' } });
    const before = await testSandbox.sandbox.models.FhirResource.count({ where: { patientId: siobhan!.id } });

    const result = await importBundle(testSandbox.database.url, syntheaPath, '--practice', 'riverside', '--patient', String(siobhan!.id));

    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('not their record. Nothing was imported.');
    expect(await testSandbox.sandbox.models.FhirResource.count({ where: { patientId: siobhan!.id } })).to.equal(before);
  });

  it('names the known practices for an unknown one', async function () {
    const result = await importBundle(testSandbox.database.url, syntheaPath, '--practice', 'nowhere');

    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('No practice "nowhere"');
    expect(result.stderr).to.contain('riverside');
  });

  it('rejects a file that is not JSON', async function () {
    const result = await importBundle(testSandbox.database.url, fileURLToPath(new URL('../../README.md', import.meta.url)), '--practice', 'harbour');

    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('as JSON');
  });

  it('explains how to call it without arguments', async function () {
    const result = await importBundle(testSandbox.database.url);

    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('Usage: npm run sandbox:import');
  });
});
