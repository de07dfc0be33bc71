import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { parseBundle } from '../../sandbox/fhir/bundle.js';
import { storeParsedBundle } from '../../sandbox/fhir/store.js';
import type { ClinicalSection, FhirResource } from '../../plugin/host/contract.js';
import { startTestSandbox, type TestSandbox } from '../support/sandbox.js';

const syntheaUrl = new URL('../../../shared/fixtures/fhir/synthea-sample-complete-patient.json', import.meta.url);

interface BundleJson {
  entry: Array<{ resource: FhirResource & { category?: Array<{ coding?: Array<{ code?: string }> }> } }>;
}

describe('sandbox: importing a FHIR bundle', function () {
  let testSandbox: TestSandbox;
  let bundle: BundleJson;
  let practiceId: string;
  let patientId: string;

  before(async function () {
    testSandbox = await startTestSandbox();
    bundle = JSON.parse(await readFile(syntheaUrl, 'utf8')) as BundleJson;
    const practice = await testSandbox.sandbox.models.Practice.findOne({ where: { demoKey: 'harbour' } });
    practiceId = String(practice!.id);

    const report = await storeParsedBundle(testSandbox.sandbox.models, practice!.id, parseBundle(bundle));
    patientId = String(report.patientId);
  });

  after(async function () {
    await testSandbox.close();
  });

  const countInBundle = (resourceType: string) => bundle.entry.filter((entry) => entry.resource.resourceType === resourceType).length;

  async function listAll(section: ClinicalSection) {
    const entries = [];
    let cursor: string | null = null;
    do {
      const page = await testSandbox.sandbox.hostApi.clinicalRecords.list(practiceId, patientId, section, { cursor, limit: 10 });
      entries.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return entries;
  }

  it('creates the patient from the bundle', async function () {
    const patient = await testSandbox.sandbox.hostApi.patients.get(practiceId, patientId);

    expect(patient).to.deep.include({ givenNames: ['Lindsay928'], familyName: 'Gerlach374', birthDate: '1950-10-24', status: 'active' });
  });

  it('serves every Condition as a problem', async function () {
    const problems = await listAll('problems');

    expect(problems).to.have.length(countInBundle('Condition'));
    expect(problems.length).to.equal(21);
  });

  it('serves medications with references resolved', async function () {
    const medications = await listAll('medications');
    const byReference = medications.filter((entry) => entry.resource.medicationReference !== undefined);

    expect(medications).to.have.length(countInBundle('MedicationRequest') + countInBundle('MedicationStatement'));
    expect(byReference).to.have.length(4);
    for (const entry of byReference) {
      const reference = (entry.resource.medicationReference as { reference: string }).reference;
      expect(entry.medication?.resourceType, reference).to.equal('Medication');
      expect(`Medication/${entry.medication!.id}`).to.equal(reference);
    }
  });

  it('serves only laboratory observations as lab results', async function () {
    const laboratoryInBundle = bundle.entry.filter(
      (entry) =>
        entry.resource.resourceType === 'Observation' &&
        entry.resource.category?.some((category) => category.coding?.some((coding) => coding.code === 'laboratory')),
    ).length;

    const labResults = await listAll('labResults');

    expect(labResults).to.have.length(laboratoryInBundle);
    expect(laboratoryInBundle).to.equal(26);
  });

  it('reports sections the bundle lacks as empty', async function () {
    expect(countInBundle('AllergyIntolerance')).to.equal(0);
    expect(countInBundle('Immunization')).to.equal(0);

    expect(await listAll('allergies')).to.deep.equal([]);
    expect(await listAll('immunisations')).to.deep.equal([]);
  });

  it('updates in place when the same bundle is imported again', async function () {
    const practice = Number(practiceId);
    const report = await storeParsedBundle(testSandbox.sandbox.models, practice, parseBundle(bundle));

    expect(report.createdPatient).to.equal(false);
    expect(String(report.patientId)).to.equal(patientId);
    expect(await listAll('problems')).to.have.length(21);
  });

  it('returns nothing for a patient of another practice', async function () {
    const other = await testSandbox.sandbox.models.Practice.findOne({ where: { demoKey: 'riverside' } });

    const page = await testSandbox.sandbox.hostApi.clinicalRecords.list(String(other!.id), patientId, 'problems', { cursor: null, limit: 50 });

    expect(page.entries).to.deep.equal([]);
    expect(await testSandbox.sandbox.hostApi.patients.get(String(other!.id), patientId)).to.equal(null);
  });
});
