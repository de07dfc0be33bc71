/**
 * Builders of handcrafted FHIR R4 resources for the clinical record tests. Each returns a
 * well-formed resource with the elements a test does not care about filled in, and takes
 * overrides for the ones it does.
 */
import type { ClinicalRecordEntry, FhirResource } from '../../plugin/host/contract.js';

export const SNOMED = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';

export function concept(text: string, code = '000000', system = SNOMED): Record<string, unknown> {
  return { coding: [{ system, code, display: text }], text };
}

export function statusConcept(system: string, code: string): Record<string, unknown> {
  return { coding: [{ system, code }] };
}

export function entry(resource: FhirResource, medication?: FhirResource): ClinicalRecordEntry {
  return medication === undefined ? { resource } : { resource, medication };
}

export function condition(overrides: Record<string, unknown> = {}): FhirResource {
  return {
    resourceType: 'Condition',
    id: 'condition-1',
    clinicalStatus: statusConcept('http://terminology.hl7.org/CodeSystem/condition-clinical', 'active'),
    verificationStatus: statusConcept('http://terminology.hl7.org/CodeSystem/condition-ver-status', 'confirmed'),
    code: concept('Hypertension', '38341003'),
    onsetDateTime: '2015-03-02',
    ...overrides,
  };
}

export function conditionVerification(code: string): Record<string, unknown> {
  return statusConcept('http://terminology.hl7.org/CodeSystem/condition-ver-status', code);
}

export function conditionClinical(code: string): Record<string, unknown> {
  return statusConcept('http://terminology.hl7.org/CodeSystem/condition-clinical', code);
}

export function allergy(overrides: Record<string, unknown> = {}): FhirResource {
  return {
    resourceType: 'AllergyIntolerance',
    id: 'allergy-1',
    clinicalStatus: statusConcept('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'active'),
    verificationStatus: allergyVerification('confirmed'),
    type: 'allergy',
    category: ['medication'],
    criticality: 'high',
    code: concept('Penicillin', '764146007'),
    reaction: [{ manifestation: [concept('Hives', '247472004')], severity: 'moderate' }],
    recordedDate: '2019-06-01',
    ...overrides,
  };
}

export function allergyVerification(code: string): Record<string, unknown> {
  return statusConcept('http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code);
}

export function allergyClinical(code: string): Record<string, unknown> {
  return statusConcept('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code);
}

/** Builds an AllergyIntolerance recording that the patient has no known allergy of one kind. */
export function noKnownAllergy(code: string, text: string, overrides: Record<string, unknown> = {}): FhirResource {
  return allergy({
    id: `no-known-${code}`,
    type: undefined,
    category: undefined,
    criticality: undefined,
    reaction: undefined,
    code: concept(text, code),
    ...overrides,
  });
}

export function medicationRequest(overrides: Record<string, unknown> = {}): FhirResource {
  return {
    resourceType: 'MedicationRequest',
    id: 'medication-request-1',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: concept('Amlodipine 5 mg tablets', '319283006'),
    authoredOn: '2020-02-10T09:30:00+00:00',
    dosageInstruction: [{ text: 'One tablet each morning' }],
    ...overrides,
  };
}

export function medicationStatement(overrides: Record<string, unknown> = {}): FhirResource {
  return {
    resourceType: 'MedicationStatement',
    id: 'medication-statement-1',
    status: 'active',
    medicationCodeableConcept: concept('Ibuprofen 200 mg tablets', '329652003'),
    effectiveDateTime: '2021-01-05',
    dosage: [{ text: 'One or two tablets up to three times a day when needed' }],
    ...overrides,
  };
}

export function medication(id: string, text: string): FhirResource {
  return { resourceType: 'Medication', id, code: concept(text, '1234567', 'http://www.nlm.nih.gov/research/umls/rxnorm') };
}

export function immunization(overrides: Record<string, unknown> = {}): FhirResource {
  return {
    resourceType: 'Immunization',
    id: 'immunization-1',
    status: 'completed',
    vaccineCode: concept('Influenza vaccine', '46233009'),
    occurrenceDateTime: '2022-10-03',
    ...overrides,
  };
}

export const LABORATORY_CATEGORY = [
  statusConcept('http://terminology.hl7.org/CodeSystem/observation-category', 'laboratory'),
];

export function labObservation(overrides: Record<string, unknown> = {}): FhirResource {
  return {
    resourceType: 'Observation',
    id: 'observation-1',
    status: 'final',
    category: LABORATORY_CATEGORY,
    code: concept('Potassium', '2823-3', LOINC),
    effectiveDateTime: '2023-04-11T08:15:00+01:00',
    valueQuantity: { value: 4.2, unit: 'mmol/L', system: UCUM, code: 'mmol/L' },
    referenceRange: [
      {
        low: { value: 3.5, unit: 'mmol/L', system: UCUM, code: 'mmol/L' },
        high: { value: 5.3, unit: 'mmol/L', system: UCUM, code: 'mmol/L' },
      },
    ],
    ...overrides,
  };
}

export function interpretation(code: string): Array<Record<string, unknown>> {
  return [statusConcept('http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code)];
}
