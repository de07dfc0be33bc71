import { expect } from 'chai';

import type { FhirResource } from '../../plugin/host/contract.js';
import { demoPatientBundle, demoPatientResource, demoPatients, type DemoPatient } from '../../sandbox/demo/patients.js';
import { parseBundle } from '../../sandbox/fhir/bundle.js';

/** FHIR R4 `dateTime`: a year, year-month, date, or date and time with a time zone. */
const FHIR_DATE_TIME =
  /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$/;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const DATE_ELEMENTS = new Set([
  'onsetDateTime',
  'abatementDateTime',
  'recordedDate',
  'authoredOn',
  'occurrenceDateTime',
  'effectiveDateTime',
  'issued',
  'dateAsserted',
  'start',
  'end',
]);

const allResources = demoPatients.flatMap((patient) => patient.resources);

function ofType(resourceType: string, resources: FhirResource[] = allResources): FhirResource[] {
  return resources.filter((resource) => resource.resourceType === resourceType);
}

function statusCode(concept: unknown): string | undefined {
  return (concept as { coding?: Array<{ code?: string }> } | undefined)?.coding?.[0]?.code;
}

function codings(concept: unknown): Array<{ system?: string; code?: string }> {
  return (concept as { coding?: Array<{ system?: string; code?: string }> } | undefined)?.coding ?? [];
}

/** Collects every value of a date element, at any depth, as [element, value] pairs. */
function dateValues(value: unknown, found: Array<[string, string]> = []): Array<[string, string]> {
  if (Array.isArray(value)) {
    value.forEach((item) => dateValues(item, found));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, element] of Object.entries(value)) {
      if (DATE_ELEMENTS.has(key) && typeof element === 'string') {
        found.push([key, element]);
      } else {
        dateValues(element, found);
      }
    }
  }
  return found;
}

const allDates = allResources.flatMap((resource) => dateValues(resource).map(([, value]) => value));

function patientByName(givenName: string): DemoPatient | undefined {
  return demoPatients.find((patient) => patient.givenNames.includes(givenName));
}

describe('demo patients set', () => {
  it('has twelve Riverside patients', () => {
    expect(demoPatients.filter((patient) => patient.practiceKey === 'riverside')).to.have.length(12);
  });

  it('has three Harbour patients', () => {
    expect(demoPatients.filter((patient) => patient.practiceKey === 'harbour')).to.have.length(3);
  });

  it('has unique keys', () => {
    const keys = demoPatients.map((patient) => patient.key);
    expect(new Set(keys).size).to.equal(keys.length);
    for (const key of keys) {
      expect(key, key).to.match(FHIR_ID);
    }
  });

  it('has unique portal logins', () => {
    const logins = demoPatients.map((patient) => patient.portalLogin);
    expect(new Set(logins).size).to.equal(logins.length);
    for (const login of logins) {
      expect(login, login).to.match(/^[a-z0-9.-]+@example\.test$/);
    }
  });

  it('has full birth dates', () => {
    for (const patient of demoPatients) {
      expect(patient.birthDate, patient.key).to.match(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it('sets deceasedDate only when deceased', () => {
    for (const patient of demoPatients) {
      expect(patient.deceasedDate !== undefined, patient.key).to.equal(patient.status === 'deceased');
    }
  });
});

describe('demo patients resources', () => {
  it('have unique valid ids', () => {
    const ids = allResources.map((resource) => resource.id);
    for (const id of ids) {
      expect(id).to.be.a('string');
      expect(id).to.match(FHIR_ID);
    }
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it('reference their own patient', () => {
    for (const patient of demoPatients) {
      for (const resource of patient.resources) {
        if (resource.resourceType === 'Medication') {
          continue;
        }
        const element = ['AllergyIntolerance', 'Immunization'].includes(resource.resourceType) ? 'patient' : 'subject';
        expect(resource[element], String(resource.id)).to.deep.equal({ reference: `Patient/${patient.key}` });
      }
    }
  });

  it('resolve every medicationReference', () => {
    for (const patient of demoPatients) {
      const medicationIds = new Set(ofType('Medication', patient.resources).map((medication) => medication.id));
      for (const resource of patient.resources) {
        const reference = (resource.medicationReference as { reference?: string } | undefined)?.reference;
        if (reference === undefined) {
          continue;
        }
        expect(reference, String(resource.id)).to.match(/^Medication\//);
        expect(medicationIds.has(reference.slice('Medication/'.length)), reference).to.equal(true);
      }
    }
  });

  it('reference every Medication', () => {
    const referenced = new Set(
      allResources.map((resource) => (resource.medicationReference as { reference?: string } | undefined)?.reference),
    );
    for (const medication of ofType('Medication')) {
      expect(referenced.has(`Medication/${String(medication.id)}`), String(medication.id)).to.equal(true);
    }
  });

  it('use valid FHIR dates', () => {
    for (const resource of allResources) {
      for (const [element, value] of dateValues(resource)) {
        expect(value, `${String(resource.id)} ${element}`).to.match(FHIR_DATE_TIME);
        if (element === 'issued') {
          expect(value, `${String(resource.id)} issued is an instant`).to.include('T');
        }
      }
    }
  });

  it('give dosage text to every medicine', () => {
    for (const request of ofType('MedicationRequest')) {
      const dosage = request.dosageInstruction as Array<{ text?: string }>;
      expect(dosage[0].text, String(request.id)).to.be.a('string').and.not.equal('');
    }
    for (const statement of ofType('MedicationStatement')) {
      const dosage = statement.dosage as Array<{ text?: string }>;
      expect(dosage[0].text, String(statement.id)).to.be.a('string').and.not.equal('');
    }
  });

  it('keep clinicalStatus rules for conditions', () => {
    for (const condition of ofType('Condition')) {
      const enteredInError = statusCode(condition.verificationStatus) === 'entered-in-error';
      expect(condition.clinicalStatus === undefined, String(condition.id)).to.equal(enteredInError);
      if (condition.abatementDateTime !== undefined) {
        expect(['inactive', 'resolved', 'remission'], String(condition.id)).to.include(statusCode(condition.clinicalStatus));
      }
    }
  });

  it('keep clinicalStatus rules for allergies', () => {
    for (const allergy of ofType('AllergyIntolerance')) {
      const enteredInError = statusCode(allergy.verificationStatus) === 'entered-in-error';
      expect(allergy.clinicalStatus === undefined, String(allergy.id)).to.equal(enteredInError);
    }
  });

  it('give a unit to every quantity', () => {
    for (const observation of ofType('Observation')) {
      const quantity = observation.valueQuantity as { unit?: string; system?: string; code?: string } | undefined;
      if (quantity === undefined) {
        continue;
      }
      expect(quantity.unit, String(observation.id)).to.be.a('string').and.not.equal('');
      expect(quantity.system, String(observation.id)).to.equal('http://unitsofmeasure.org');
      expect(quantity.code, String(observation.id)).to.be.a('string').and.not.equal('');
    }
  });

  it('give no value with dataAbsentReason', () => {
    for (const observation of ofType('Observation')) {
      if (observation.dataAbsentReason === undefined) {
        continue;
      }
      const values = Object.keys(observation).filter((key) => key.startsWith('value'));
      expect(values, String(observation.id)).to.deep.equal([]);
    }
  });

  it('give a reason to every not-done', () => {
    for (const immunization of ofType('Immunization')) {
      if (immunization.status === 'not-done') {
        expect(immunization.statusReason, String(immunization.id)).to.not.equal(undefined);
      }
    }
  });
});

describe('demo patients edge cases', () => {
  const conditionsWith = (element: 'clinicalStatus' | 'verificationStatus', code: string) =>
    ofType('Condition').filter((condition) => statusCode(condition[element]) === code);
  const observationsWithStatus = (status: string) =>
    ofType('Observation').filter((observation) => observation.status === status);
  const observationsFlagged = (code: string) =>
    ofType('Observation').filter((observation) => codings((observation.interpretation as unknown[] | undefined)?.[0]).some((coding) => coding.code === code));

  it('include names with diacritics', () => {
    expect(patientByName('Zoë')).to.not.equal(undefined);
    expect(patientByName('José')).to.not.equal(undefined);
    expect(patientByName('Łucja')).to.not.equal(undefined);
    expect(demoPatients.some((patient) => /[āēīōū]/.test(patient.familyName))).to.equal(true);
  });

  it('include both apostrophes', () => {
    const curly = demoPatients.filter((patient) => patient.familyName.includes('\u2019'));
    const straight = demoPatients.filter((patient) => patient.familyName.includes("'"));
    expect(curly.map((patient) => patient.familyName)).to.include('O\u2019Brien');
    expect(straight.map((patient) => patient.familyName)).to.include("O'Brien");
  });

  it('include a hyphenated family name', () => {
    expect(demoPatients.some((patient) => /\p{L}-\p{L}/u.test(patient.familyName))).to.equal(true);
  });

  it('include a family name with a space', () => {
    expect(demoPatients.some((patient) => patient.familyName.includes(' '))).to.equal(true);
  });

  it('include three given names', () => {
    const mary = patientByName('Mary');
    expect(mary?.givenNames).to.deep.equal(['Mary', 'Anne', 'Louise']);
  });

  it('include no known allergy', () => {
    const noKnownAllergy = ofType('AllergyIntolerance').filter((allergy) =>
      codings(allergy.code).some((coding) => coding.system === 'http://snomed.info/sct' && coding.code === '716186003'),
    );
    expect(noKnownAllergy).to.have.length.greaterThan(0);
  });

  it('include no allergy information', () => {
    const withoutAllergyInformation = demoPatients.filter(
      (patient) => ofType('AllergyIntolerance', patient.resources).length === 0,
    );
    expect(withoutAllergyInformation.map((patient) => patient.key)).to.include('declan-obrien');
  });

  it('include active and resolved problems', () => {
    expect(conditionsWith('clinicalStatus', 'active')).to.have.length.greaterThan(0);
    expect(conditionsWith('clinicalStatus', 'resolved')).to.have.length.greaterThan(0);
  });

  it('include uncertain condition statuses', () => {
    for (const code of ['refuted', 'entered-in-error', 'provisional', 'unconfirmed']) {
      expect(conditionsWith('verificationStatus', code), code).to.have.length.greaterThan(0);
    }
  });

  it('include current and stopped medicines', () => {
    const requests = ofType('MedicationRequest');
    expect(requests.filter((request) => request.status === 'active')).to.have.length.greaterThan(0);
    const stopped = requests.filter((request) => request.status === 'stopped');
    expect(stopped).to.have.length.greaterThan(0);
    expect(stopped.every((request) => request.statusReason !== undefined)).to.equal(true);
    expect(requests.filter((request) => request.status === 'completed')).to.have.length.greaterThan(0);
    expect(ofType('MedicationStatement')).to.have.length.greaterThan(0);
  });

  it('include medicines by reference', () => {
    const byReference = allResources.filter((resource) => resource.medicationReference !== undefined);
    const statuses = new Set(byReference.map((resource) => resource.status));
    expect(statuses).to.include('active');
    expect(statuses).to.include('stopped');
  });

  it('include allergies with reactions', () => {
    const allergies = ofType('AllergyIntolerance');
    const withReaction = allergies.filter((allergy) => Array.isArray(allergy.reaction) && allergy.reaction.length > 0);
    expect(withReaction).to.have.length.greaterThan(0);
    const criticalities = new Set(allergies.map((allergy) => allergy.criticality));
    expect(criticalities).to.include('high');
    expect(criticalities).to.include('low');
    expect(criticalities).to.include('unable-to-assess');
  });

  it('include unusual allergy statuses', () => {
    const allergies = ofType('AllergyIntolerance');
    const verification = new Set(allergies.map((allergy) => statusCode(allergy.verificationStatus)));
    const clinical = new Set(allergies.map((allergy) => statusCode(allergy.clinicalStatus)));
    expect(verification).to.include('refuted');
    expect(verification).to.include('unconfirmed');
    expect(clinical).to.include('resolved');
    expect(allergies.some((allergy) => allergy.type === 'intolerance')).to.equal(true);
  });

  it('include a not-done immunisation', () => {
    const statuses = new Set(ofType('Immunization').map((immunization) => immunization.status));
    expect(statuses).to.include('completed');
    expect(statuses).to.include('not-done');
  });

  it('include an immunisation dated by text', () => {
    expect(ofType('Immunization').some((immunization) => typeof immunization.occurrenceString === 'string')).to.equal(true);
  });

  it('include reference ranges', () => {
    const withRange = ofType('Observation').filter((observation) => Array.isArray(observation.referenceRange));
    expect(withRange).to.have.length.greaterThan(0);
  });

  it('include comparators', () => {
    const comparators = new Set(
      ofType('Observation').map((observation) => (observation.valueQuantity as { comparator?: string } | undefined)?.comparator),
    );
    expect(comparators).to.include('<');
    expect(comparators).to.include('>');
  });

  it('include high and low results', () => {
    expect(observationsFlagged('H')).to.have.length.greaterThan(0);
    expect(observationsFlagged('L')).to.have.length.greaterThan(0);
  });

  it('include unusual result statuses', () => {
    for (const status of ['preliminary', 'cancelled', 'amended']) {
      expect(observationsWithStatus(status), status).to.have.length.greaterThan(0);
    }
    expect(observationsWithStatus('cancelled').every((observation) => observation.dataAbsentReason !== undefined)).to.equal(true);
  });

  it('include a result given as text', () => {
    expect(ofType('Observation').some((observation) => typeof observation.valueString === 'string')).to.equal(true);
  });

  it('include year, month and day precision', () => {
    expect(allDates.some((date) => /^\d{4}$/.test(date)), 'year').to.equal(true);
    expect(allDates.some((date) => /^\d{4}-\d{2}$/.test(date)), 'month').to.equal(true);
    expect(allDates.some((date) => /^\d{4}-\d{2}-\d{2}$/.test(date)), 'day').to.equal(true);
  });

  it('include New Zealand time near midnight', () => {
    const nearMidnight = allDates.filter((date) => /T(23:[0-5]\d|00:[0-5]\d):\d{2}(\.\d+)?\+13:00$/.test(date));
    expect(nearMidnight).to.have.length.greaterThan(0);
  });

  it('include 120 lab results', () => {
    const longest = Math.max(...demoPatients.map((patient) => ofType('Observation', patient.resources).length));
    expect(longest).to.be.at.least(120);
  });

  it('include an inactive patient', () => {
    expect(demoPatients.filter((patient) => patient.status === 'inactive')).to.have.length(1);
  });

  it('include a deceased patient', () => {
    expect(demoPatients.filter((patient) => patient.status === 'deceased')).to.have.length(1);
  });
});

describe('demoPatientBundle', () => {
  for (const patient of demoPatients) {
    it(`parses ${patient.key} cleanly`, () => {
      const parsed = parseBundle(demoPatientBundle(patient));

      expect(parsed.problems).to.deep.equal([]);
      expect(parsed.skipped).to.deep.equal([]);
      expect(parsed.patient?.sourceId).to.equal(patient.key);
      expect(parsed.patient?.givenNames).to.deep.equal(patient.givenNames);
      expect(parsed.patient?.familyName).to.equal(patient.familyName);
      expect(parsed.patient?.birthDate).to.equal(patient.birthDate);
      expect(parsed.patient?.status).to.equal(patient.status);
      expect(parsed.resources.map((resource) => resource.resource)).to.deep.equal(patient.resources);
    });
  }

  it('puts the Patient first', () => {
    const bundle = demoPatientBundle(demoPatients[0]);
    expect(bundle.type).to.equal('collection');
    expect(bundle.entry[0].resource).to.deep.equal(demoPatientResource(demoPatients[0]));
    expect(bundle.entry).to.have.length(demoPatients[0].resources.length + 1);
  });

  it('marks the deceased Patient', () => {
    const edith = demoPatients.find((patient) => patient.status === 'deceased');
    const resource = demoPatientResource(edith as DemoPatient);
    expect(resource.deceasedDateTime).to.equal('2023-11-02');
  });

  it('marks the inactive Patient', () => {
    const gareth = demoPatients.find((patient) => patient.status === 'inactive');
    const resource = demoPatientResource(gareth as DemoPatient);
    expect(resource.active).to.equal(false);
  });

  it('assigns lab results to labResults', () => {
    const mary = demoPatients.find((patient) => patient.key === 'mary-pemberton') as DemoPatient;
    const parsed = parseBundle(demoPatientBundle(mary));
    expect(parsed.resources.filter((resource) => resource.section === 'labResults')).to.have.length(120);
  });
});
