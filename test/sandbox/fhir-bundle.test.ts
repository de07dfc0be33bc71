import { readFileSync } from 'node:fs';

import { expect } from 'chai';

import type { FhirResource } from '../../plugin/host/contract.js';
import { parseBundle, type ParsedBundle } from '../../sandbox/fhir/bundle.js';

const SYNTHEA_BUNDLE_URL = new URL('../../../shared/fixtures/fhir/synthea-sample-complete-patient.json', import.meta.url);
const SYNTHEA_PATIENT_ID = 'd5582579-7193-4866-5560-a01e723b6552';

interface RawEntry {
  fullUrl?: string;
  resource: FhirResource;
}

function readSyntheaBundle(): { resourceType: string; type: string; entry: RawEntry[] } {
  return JSON.parse(readFileSync(SYNTHEA_BUNDLE_URL, 'utf8'));
}

function countRawEntries(entries: RawEntry[], resourceType: string): number {
  return entries.filter((entry) => entry.resource.resourceType === resourceType).length;
}

function isLaboratoryObservation(resource: FhirResource): boolean {
  const categories = (resource.category ?? []) as Array<{ coding?: Array<{ system?: string; code?: string }> }>;
  return categories.some((category) =>
    (category.coding ?? []).some(
      (coding) =>
        coding.system === 'http://terminology.hl7.org/CodeSystem/observation-category' && coding.code === 'laboratory',
    ),
  );
}

function countKept(parsed: ParsedBundle, resourceType: string): number {
  return parsed.resources.filter((resource) => resource.resourceType === resourceType).length;
}

const PATIENT_ID = '3f1c2a9e-0000-4000-8000-000000000001';

function patientResource(overrides: Record<string, unknown> = {}): FhirResource {
  return {
    resourceType: 'Patient',
    id: PATIENT_ID,
    name: [{ use: 'official', family: 'Haldane', given: ['Morag', 'Elspeth'] }],
    birthDate: '1961-04-30',
    ...overrides,
  };
}

/** Builds a collection bundle whose entries have `urn:uuid:<id>` fullUrls where the resource has an id. */
function bundleOf(...resources: Array<FhirResource | Record<string, unknown>>): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: resources.map((resource) =>
      typeof resource.id === 'string' ? { fullUrl: `urn:uuid:${resource.id}`, resource } : { resource },
    ),
  };
}

function condition(id: string, subjectReference: string): FhirResource {
  return {
    resourceType: 'Condition',
    id,
    code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertensive disorder' }] },
    subject: { reference: subjectReference },
  };
}

describe('parseBundle with the Synthea sample', () => {
  const raw = readSyntheaBundle();
  const parsed = parseBundle(raw);

  it('reports no problems', () => {
    expect(parsed.problems).to.deep.equal([]);
  });

  it('reads the Patient as written', () => {
    expect(parsed.patient).to.not.equal(null);
    expect(parsed.patient?.sourceId).to.equal(SYNTHEA_PATIENT_ID);
    expect(parsed.patient?.givenNames).to.deep.equal(['Lindsay928']);
    expect(parsed.patient?.familyName).to.equal('Gerlach374');
    expect(parsed.patient?.birthDate).to.equal('1950-10-24');
    expect(parsed.patient?.status).to.equal('active');
  });

  it('reads the Patient identifiers', () => {
    const identifiers = parsed.patient?.identifiers ?? [];
    expect(identifiers).to.have.length(5);
    expect(identifiers).to.deep.include({ system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-34-2070' });
  });

  it('keeps clinical resource counts', () => {
    const expected = {
      Condition: countRawEntries(raw.entry, 'Condition'),
      MedicationRequest: countRawEntries(raw.entry, 'MedicationRequest'),
      Medication: countRawEntries(raw.entry, 'Medication'),
      AllergyIntolerance: countRawEntries(raw.entry, 'AllergyIntolerance'),
      Immunization: countRawEntries(raw.entry, 'Immunization'),
      Observation: raw.entry.filter(
        (entry) => entry.resource.resourceType === 'Observation' && isLaboratoryObservation(entry.resource),
      ).length,
    };

    // The fixture's own counts, so that a changed fixture fails here and not in a later check.
    expect(expected).to.deep.equal({
      Condition: 21,
      MedicationRequest: 12,
      Medication: 4,
      AllergyIntolerance: 0,
      Immunization: 0,
      Observation: 26,
    });

    for (const [resourceType, count] of Object.entries(expected)) {
      expect(countKept(parsed, resourceType), resourceType).to.equal(count);
    }
    expect(parsed.resources).to.have.length(63);
  });

  it('assigns each kept resource its section', () => {
    const sectionByType: Record<string, string | null> = {
      Condition: 'problems',
      MedicationRequest: 'medications',
      Medication: null,
      Observation: 'labResults',
    };
    for (const resource of parsed.resources) {
      expect(resource.section, `${resource.resourceType}/${resource.sourceId}`).to.equal(
        sectionByType[resource.resourceType],
      );
    }
  });

  it('accounts for every entry', () => {
    expect(raw.entry).to.have.length(314);
    expect(1 + parsed.resources.length + parsed.skipped.length).to.equal(314);
  });

  it('skips other entries with a reason', () => {
    for (const entry of parsed.skipped) {
      expect(entry.reason, `${entry.resourceType}/${entry.sourceId}`).to.match(/\S.*\.$/);
    }

    const skippedTypes = new Set(parsed.skipped.map((entry) => entry.resourceType));
    const expectedSkippedTypes = new Set(
      raw.entry
        .map((entry) => entry.resource)
        .filter((resource) => {
          const kept = ['Patient', 'Condition', 'MedicationRequest', 'Medication'];
          return !kept.includes(resource.resourceType) && !(resource.resourceType === 'Observation' && isLaboratoryObservation(resource));
        })
        .map((resource) => resource.resourceType),
    );
    expect(skippedTypes).to.deep.equal(expectedSkippedTypes);
  });

  it('skips an Encounter as not clinical', () => {
    const encounters = parsed.skipped.filter((entry) => entry.resourceType === 'Encounter');
    expect(encounters).to.have.length(countRawEntries(raw.entry, 'Encounter'));
    expect(encounters[0].reason).to.equal('Encounter is not part of the clinical record shown to patients.');
  });

  it('skips vital-signs Observations', () => {
    const vitalSigns = parsed.skipped.filter((entry) => entry.reason === 'Observation category vital-signs is not a lab result.');
    expect(vitalSigns).to.have.length(30);
  });

  it('rewrites medication references', () => {
    const keptMedicationIds = new Set(
      parsed.resources.filter((resource) => resource.resourceType === 'Medication').map((resource) => resource.sourceId),
    );
    const references = parsed.resources
      .map((resource) => resource.resource.medicationReference as { reference?: string } | undefined)
      .filter((reference) => reference !== undefined)
      .map((reference) => reference.reference);

    expect(references).to.have.length(4);
    for (const reference of references) {
      expect(reference).to.match(/^Medication\/[0-9a-f-]+$/);
      expect(keptMedicationIds.has(String(reference).slice('Medication/'.length)), reference).to.equal(true);
    }
  });

  it('rewrites subjects to the Patient', () => {
    for (const resource of parsed.resources) {
      if (resource.resourceType === 'Medication') {
        continue;
      }
      const subject = resource.resource.subject as { reference?: string };
      expect(subject.reference, `${resource.resourceType}/${resource.sourceId}`).to.equal(`Patient/${SYNTHEA_PATIENT_ID}`);
    }
  });

  it('leaves no urn:uuid references', () => {
    const text = JSON.stringify(parsed.resources.map((resource) => resource.resource));
    expect(text).to.not.include('"reference":"urn:uuid:');
    expect(text).to.include(`"reference":"Patient/${SYNTHEA_PATIENT_ID}"`);
    expect(text).to.match(/"reference":"Encounter\/[0-9a-f-]+"/);
  });

  it('keeps each id as sourceId', () => {
    for (const resource of parsed.resources) {
      expect(resource.resource.id).to.equal(resource.sourceId);
    }
  });

  it('does not modify its input', () => {
    const before = readSyntheaBundle();
    const input = readSyntheaBundle();
    parseBundle(input);
    expect(input).to.deep.equal(before);
  });
});

describe('parseBundle patient', () => {
  it('reads a minimal collection bundle', () => {
    const parsed = parseBundle(bundleOf(patientResource()));

    expect(parsed.problems).to.deep.equal([]);
    expect(parsed.patient).to.deep.equal({
      sourceId: PATIENT_ID,
      givenNames: ['Morag', 'Elspeth'],
      familyName: 'Haldane',
      birthDate: '1961-04-30',
      status: 'active',
      identifiers: [],
    });
  });

  it('accepts every supported bundle type', () => {
    for (const type of ['transaction', 'batch', 'collection', 'searchset']) {
      const parsed = parseBundle({ ...bundleOf(patientResource()), type });
      expect(parsed.problems, type).to.deep.equal([]);
    }
  });

  it('maps deceased and active to status', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'active'],
      [{ active: true }, 'active'],
      [{ active: false }, 'inactive'],
      [{ deceasedBoolean: true }, 'deceased'],
      [{ deceasedBoolean: false }, 'active'],
      [{ deceasedDateTime: '2022-03-01' }, 'deceased'],
      [{ deceasedDateTime: '2022-03-01T04:10:00+00:00', active: true }, 'deceased'],
      [{ deceasedBoolean: true, active: false }, 'deceased'],
    ];
    for (const [overrides, status] of cases) {
      const parsed = parseBundle(bundleOf(patientResource(overrides)));
      expect(parsed.patient?.status, JSON.stringify(overrides)).to.equal(status);
    }
  });

  it('prefers the official name', () => {
    const parsed = parseBundle(
      bundleOf(
        patientResource({
          name: [
            { use: 'usual', family: 'Haldane', given: ['Mo'] },
            { use: 'official', family: 'Haldane', given: ['Morag', 'Elspeth', 'Ishbel'] },
          ],
        }),
      ),
    );
    expect(parsed.patient?.givenNames).to.deep.equal(['Morag', 'Elspeth', 'Ishbel']);
  });

  it('falls back to a current name', () => {
    const parsed = parseBundle(
      bundleOf(
        patientResource({
          name: [
            { text: 'Mo' },
            { use: 'maiden', family: 'Ross', given: ['Morag'] },
            { use: 'usual', family: 'Haldane', given: ['Morag'] },
          ],
        }),
      ),
    );
    expect(parsed.patient?.familyName).to.equal('Haldane');
  });

  it('keeps names exactly as written', () => {
    const parsed = parseBundle(
      bundleOf(patientResource({ name: [{ use: 'official', family: 'O’Brien-Ní Dhuibhir', given: ['Siobhán', 'Zoë', 'Łucja7'] }] })),
    );
    expect(parsed.patient?.familyName).to.equal('O’Brien-Ní Dhuibhir');
    expect(parsed.patient?.givenNames).to.deep.equal(['Siobhán', 'Zoë', 'Łucja7']);
  });

  it('accepts a Patient without given names', () => {
    const parsed = parseBundle(bundleOf(patientResource({ name: [{ use: 'official', family: 'Haldane' }] })));
    expect(parsed.problems).to.deep.equal([]);
    expect(parsed.patient?.givenNames).to.deep.equal([]);
  });

  it('accepts 29 February in a leap year', () => {
    const parsed = parseBundle(bundleOf(patientResource({ birthDate: '2000-02-29' })));
    expect(parsed.patient?.birthDate).to.equal('2000-02-29');
  });

  it('derives the Patient id from fullUrl', () => {
    const patient = patientResource();
    delete patient.id;
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: `urn:uuid:${PATIENT_ID}`, resource: patient, request: { method: 'POST', url: 'Patient' } },
        { fullUrl: 'urn:uuid:condition-1', resource: condition('condition-1', `urn:uuid:${PATIENT_ID}`) },
      ],
    };

    const parsed = parseBundle(bundle);

    expect(parsed.patient?.sourceId).to.equal(PATIENT_ID);
    expect(parsed.resources).to.have.length(1);
    expect((parsed.resources[0].resource.subject as { reference: string }).reference).to.equal(`Patient/${PATIENT_ID}`);
  });
});

describe('parseBundle problems', () => {
  const cases: Array<{ name: string; input: unknown; problem: RegExp }> = [
    { name: 'null', input: null, problem: /^The input is null, not a JSON object\./ },
    { name: 'an array', input: [], problem: /^The input is an array, not a JSON object\./ },
    { name: 'JSON text', input: '{"resourceType":"Bundle"}', problem: /^The input is a string, not a JSON object\./ },
    { name: 'a number', input: 42, problem: /^The input is a number, not a JSON object\./ },
    { name: 'undefined', input: undefined, problem: /^The input is undefined, not a JSON object\./ },
    { name: 'a Patient', input: patientResource(), problem: /resourceType is "Patient".*Bundle/ },
    { name: 'no resourceType', input: { type: 'collection', entry: [] }, problem: /resourceType is missing/ },
    { name: 'a document bundle', input: { ...bundleOf(patientResource()), type: 'document' }, problem: /Bundle type is "document"/ },
    { name: 'no bundle type', input: { resourceType: 'Bundle', entry: [] }, problem: /Bundle type is missing/ },
    { name: 'entry not an array', input: { resourceType: 'Bundle', type: 'collection', entry: {} }, problem: /entry element is not an array/ },
    { name: 'no entries', input: { resourceType: 'Bundle', type: 'collection' }, problem: /contains no Patient resource/ },
    { name: 'no Patient', input: bundleOf(condition('condition-1', `Patient/${PATIENT_ID}`)), problem: /contains no Patient resource/ },
    {
      name: 'two Patients',
      input: bundleOf(patientResource(), patientResource({ id: 'second-patient' })),
      problem: new RegExp(`contains 2 Patient resources \\(ids ${PATIENT_ID}, second-patient\\)\\. Import one patient per bundle\\.`),
    },
    { name: 'birth year only', input: bundleOf(patientResource({ birthDate: '1950' })), problem: /birthDate "1950" is not a full date/ },
    { name: 'birth month only', input: bundleOf(patientResource({ birthDate: '1950-10' })), problem: /birthDate "1950-10" is not a full date/ },
    { name: '30 February', input: bundleOf(patientResource({ birthDate: '1950-02-30' })), problem: /"1950-02-30" is not a calendar date/ },
    { name: '29 February 1900', input: bundleOf(patientResource({ birthDate: '1900-02-29' })), problem: /"1900-02-29" is not a calendar date/ },
    { name: 'month 13', input: bundleOf(patientResource({ birthDate: '1950-13-01' })), problem: /"1950-13-01" is not a calendar date/ },
    { name: 'UK date format', input: bundleOf(patientResource({ birthDate: '24/10/1950' })), problem: /birthDate "24\/10\/1950" is invalid/ },
    { name: 'timestamp', input: bundleOf(patientResource({ birthDate: '1950-10-24T00:00:00Z' })), problem: /is invalid\. Write the date of birth as YYYY-MM-DD/ },
    { name: 'no birthDate', input: bundleOf(patientResource({ birthDate: undefined })), problem: /has no birthDate/ },
    { name: 'numeric birthDate', input: bundleOf(patientResource({ birthDate: 19501024 })), problem: /birthDate is not a string/ },
    { name: 'no name', input: bundleOf(patientResource({ name: undefined })), problem: /no official name and no current name/ },
    { name: 'only an old name', input: bundleOf(patientResource({ name: [{ use: 'old', family: 'Ross' }] })), problem: /no official name/ },
    {
      name: 'official name without family',
      input: bundleOf(patientResource({ name: [{ use: 'official', given: ['Morag'] }] })),
      problem: /official name has no family name/,
    },
    {
      name: 'empty given name',
      input: bundleOf(patientResource({ name: [{ use: 'official', family: 'Haldane', given: ['Morag', ''] }] })),
      problem: /given names .* must be a list of non-empty strings/,
    },
    {
      name: 'invalid Patient id',
      input: bundleOf(patientResource({ id: 'patient one' })),
      problem: /Patient id "patient one" is invalid/,
    },
    {
      name: 'merged Patient',
      input: bundleOf(patientResource({ link: [{ type: 'replaced-by', other: { reference: 'Patient/survivor' } }] })),
      problem: /link of type replaced-by/,
    },
  ];

  for (const testCase of cases) {
    it(`rejects ${testCase.name}`, () => {
      const parsed = parseBundle(testCase.input);

      expect(parsed.problems).to.have.length.greaterThan(0);
      expect(parsed.problems.join('\n')).to.match(testCase.problem);
      expect(parsed.patient).to.equal(null);
      expect(parsed.resources).to.deep.equal([]);
      expect(parsed.skipped).to.deep.equal([]);
    });
  }

  it('lists every Patient problem at once', () => {
    const parsed = parseBundle(bundleOf(patientResource({ birthDate: '1950', name: [{ use: 'official', given: ['Morag'] }] })));
    expect(parsed.problems).to.have.length(2);
  });
});

describe('parseBundle entries', () => {
  const patient = patientResource();
  const subject = { reference: `urn:uuid:${PATIENT_ID}` };

  it('keeps each clinical resource type', () => {
    const medication: FhirResource = { resourceType: 'Medication', id: 'med-1', code: { text: 'Amlodipine 5 mg tablets' } };
    const parsed = parseBundle(
      bundleOf(
        patient,
        medication,
        condition('condition-1', `Patient/${PATIENT_ID}`),
        { resourceType: 'MedicationRequest', id: 'mr-1', status: 'active', intent: 'order', subject, medicationReference: { reference: 'urn:uuid:med-1' } },
        { resourceType: 'MedicationStatement', id: 'ms-1', status: 'active', subject, medicationCodeableConcept: { text: 'Paracetamol' } },
        { resourceType: 'AllergyIntolerance', id: 'ai-1', patient: subject, code: { text: 'Penicillin' } },
        { resourceType: 'Immunization', id: 'im-1', status: 'completed', patient: subject, vaccineCode: { text: 'Influenza' } },
        {
          resourceType: 'Observation',
          id: 'obs-1',
          status: 'final',
          subject,
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
          code: { text: 'Sodium' },
        },
      ),
    );

    expect(parsed.problems).to.deep.equal([]);
    expect(parsed.skipped).to.deep.equal([]);
    expect(parsed.resources.map((resource) => [resource.resourceType, resource.section])).to.deep.equal([
      ['Medication', null],
      ['Condition', 'problems'],
      ['MedicationRequest', 'medications'],
      ['MedicationStatement', 'medications'],
      ['AllergyIntolerance', 'allergies'],
      ['Immunization', 'immunisations'],
      ['Observation', 'labResults'],
    ]);
    const request = parsed.resources.find((resource) => resource.resourceType === 'MedicationRequest');
    expect(request?.resource.medicationReference).to.deep.equal({ reference: 'Medication/med-1' });
  });

  it('rewrites urn references to the resource id', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:aaaa-patient', resource: patient },
        { fullUrl: 'urn:oid:1.2.826.0.1.99', resource: { resourceType: 'Medication', id: 'stored-med', code: { text: 'Sertraline' } } },
        {
          fullUrl: 'urn:uuid:bbbb-request',
          resource: {
            resourceType: 'MedicationRequest',
            id: 'mr-2',
            status: 'active',
            intent: 'order',
            subject: { reference: 'urn:uuid:aaaa-patient' },
            medicationReference: { reference: 'urn:oid:1.2.826.0.1.99' },
            reasonReference: [{ reference: 'urn:uuid:not-in-bundle' }],
            requester: { reference: 'Practitioner?identifier=http://example.test|123' },
          },
        },
      ],
    };

    const parsed = parseBundle(bundle);
    const request = parsed.resources.find((resource) => resource.resourceType === 'MedicationRequest')?.resource;

    expect(request?.subject).to.deep.equal({ reference: `Patient/${PATIENT_ID}` });
    expect(request?.medicationReference).to.deep.equal({ reference: 'Medication/stored-med' });
    expect(request?.reasonReference).to.deep.equal([{ reference: 'urn:uuid:not-in-bundle' }]);
    expect(request?.requester).to.deep.equal({ reference: 'Practitioner?identifier=http://example.test|123' });
  });

  it('accepts the Patient absolute fullUrl', () => {
    const fullUrl = `https://ehr.example.test/fhir/Patient/${PATIENT_ID}`;
    const bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [
        { fullUrl, resource: patient },
        { fullUrl: 'https://ehr.example.test/fhir/Condition/c-1', resource: condition('c-1', fullUrl) },
        { resource: condition('c-2', `Patient/${PATIENT_ID}/_history/3`) },
      ],
    };

    const parsed = parseBundle(bundle);

    expect(parsed.skipped).to.deep.equal([]);
    expect(parsed.resources).to.have.length(2);
    expect((parsed.resources[0].resource.subject as { reference: string }).reference).to.equal(fullUrl);
  });

  it('derives a resource id from fullUrl', () => {
    const unsaved = condition('ignored', `Patient/${PATIENT_ID}`);
    delete unsaved.id;
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: `urn:uuid:${PATIENT_ID}`, resource: patient },
        { fullUrl: 'urn:uuid:5e0c5a63-0000-4000-8000-00000000000c', resource: unsaved },
        { fullUrl: 'https://ehr.example.test/fhir/Condition/c-77/_history/2', resource: { ...unsaved } },
      ],
    };

    const parsed = parseBundle(bundle);

    expect(parsed.resources.map((resource) => resource.sourceId)).to.deep.equal([
      '5e0c5a63-0000-4000-8000-00000000000c',
      'c-77',
    ]);
    expect(parsed.resources[0].resource.id).to.equal('5e0c5a63-0000-4000-8000-00000000000c');
  });

  it('skips a resource of another patient', () => {
    const parsed = parseBundle(bundleOf(patient, condition('condition-1', 'Patient/someone-else')));

    expect(parsed.resources).to.deep.equal([]);
    expect(parsed.skipped).to.deep.equal([
      {
        resourceType: 'Condition',
        sourceId: 'condition-1',
        reason: `Condition subject "Patient/someone-else" is not the bundle's patient, Patient/${PATIENT_ID}.`,
      },
    ]);
  });

  it('skips an allergy of another patient', () => {
    const allergy = { resourceType: 'AllergyIntolerance', id: 'ai-9', patient: { reference: 'Patient/someone-else' } };
    const parsed = parseBundle(bundleOf(patient, allergy));

    expect(parsed.skipped[0].reason).to.equal(
      `AllergyIntolerance patient "Patient/someone-else" is not the bundle's patient, Patient/${PATIENT_ID}.`,
    );
  });

  it('skips a resource without subject', () => {
    const orphan = condition('condition-1', 'unused');
    delete orphan.subject;
    const parsed = parseBundle(bundleOf(patient, orphan));

    expect(parsed.skipped[0].reason).to.equal('Condition has no subject reference, so it cannot be tied to the patient.');
  });

  it('skips a resource without resourceType', () => {
    const parsed = parseBundle(bundleOf(patient, { id: 'mystery', subject }));

    expect(parsed.skipped).to.deep.equal([
      { resourceType: '', sourceId: 'mystery', reason: 'Bundle entry 1 has a resource without a resourceType.' },
    ]);
  });

  it('skips an entry without resource', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: patient }, { request: { method: 'DELETE', url: 'Condition/old' } }, 'not an entry'],
    };
    const parsed = parseBundle(bundle);

    expect(parsed.skipped.map((entry) => entry.reason)).to.deep.equal([
      'Bundle entry 1 has no resource.',
      'Bundle entry 2 has no resource.',
    ]);
  });

  it('skips a duplicate id', () => {
    const first = condition('condition-1', `Patient/${PATIENT_ID}`);
    const second = { ...condition('condition-1', `Patient/${PATIENT_ID}`), note: [{ text: 'second copy' }] };
    const parsed = parseBundle({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: patient }, { resource: first }, { resource: second }],
    });

    expect(parsed.resources).to.have.length(1);
    expect(parsed.resources[0].resource.note).to.equal(undefined);
    expect(parsed.skipped).to.deep.equal([
      {
        resourceType: 'Condition',
        sourceId: 'condition-1',
        reason: 'Condition/condition-1 appears more than once in the bundle, so only its first entry was imported.',
      },
    ]);
  });

  it('keeps equal ids of different types', () => {
    const parsed = parseBundle(
      bundleOf(patient, condition('shared-id', `Patient/${PATIENT_ID}`), { resourceType: 'Medication', id: 'shared-id' }),
    );
    expect(parsed.resources).to.have.length(2);
  });

  it('skips a resource without id', () => {
    const parsed = parseBundle({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: patient }, { resource: { resourceType: 'Medication', code: { text: 'Aspirin' } } }],
    });

    expect(parsed.skipped[0].reason).to.equal('Medication has no id, and its entry has no fullUrl to derive one from.');
  });

  it('skips non-laboratory Observations', () => {
    const observation = (id: string, category: unknown): FhirResource => ({
      resourceType: 'Observation',
      id,
      status: 'final',
      subject,
      code: { text: 'Reading' },
      ...(category === undefined ? {} : { category }),
    });
    const vitalSigns = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }];
    const wrongSystem = [{ coding: [{ system: 'http://example.test/categories', code: 'laboratory' }] }];

    const parsed = parseBundle(
      bundleOf(patient, observation('o-1', vitalSigns), observation('o-2', undefined), observation('o-3', wrongSystem)),
    );

    expect(parsed.resources).to.deep.equal([]);
    expect(parsed.skipped.map((entry) => entry.reason)).to.deep.equal([
      'Observation category vital-signs is not a lab result.',
      'Observation has no category code, so it is not a lab result.',
      'Observation category http://example.test/categories|laboratory is not a lab result.',
    ]);
  });

  it('skips other resource types', () => {
    const parsed = parseBundle(
      bundleOf(
        patient,
        { resourceType: 'Encounter', id: 'enc-1', subject },
        { resourceType: 'MedicationAdministration', id: 'ma-1', subject },
        { resourceType: 'Procedure', id: 'proc-1', subject },
      ),
    );

    expect(parsed.skipped.map((entry) => entry.reason)).to.deep.equal([
      'Encounter is not part of the clinical record shown to patients.',
      'MedicationAdministration is not part of the clinical record shown to patients.',
      'Procedure is not part of the clinical record shown to patients.',
    ]);
  });
});
