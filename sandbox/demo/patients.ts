/**
 * Demo patients of the sandbox's two practices, Riverside and Harbour, with their clinical
 * records as FHIR R4 resources. The people are fictitious and so are their birth dates.
 *
 * The records are plausible UK primary-care records, chosen to exercise edge cases. Names have
 * diacritics, curly and straight apostrophes, hyphens and particles. Records contain refuted,
 * entered-in-error and provisional items, dates of year or month precision, and a result taken
 * in New Zealand just after midnight. One record is long enough to need paging.
 *
 * Codes are real SNOMED CT and LOINC codes where the code is well known. Everything else,
 * including every medicine and vaccine, is coded by text only, so no code here is a guess.
 */
import type { FhirResource } from '../../plugin/host/contract.js';

export type DemoPracticeKey = 'riverside' | 'harbour';

/** A demo patient and the resources of their record, ready for the seeder. */
export interface DemoPatient {
  /** Stable key. It is also the Patient id, so resources reference `Patient/<key>`. */
  key: string;
  practiceKey: DemoPracticeKey;
  givenNames: string[];
  familyName: string;
  /** Calendar date `YYYY-MM-DD`. */
  birthDate: string;
  status: 'active' | 'inactive' | 'deceased';
  /** Date of death `YYYY-MM-DD`, present only for a deceased patient. */
  deceasedDate?: string;
  /** Sign-in name in the patient portal. */
  portalLogin: string;
  /**
   * FHIR R4 resources with ids unique across all demo patients. Each one except a Medication
   * references `Patient/<key>`, and each `medicationReference` is `Medication/<id>` of a
   * Medication in the same list.
   */
  resources: FhirResource[];
}

/** Base URL of the demo bundles' `fullUrl`s. It names no real server. */
export const DEMO_FHIR_BASE_URL = 'https://sandbox.example.test/fhir';

// ---------------------------------------------------------------------------------------------
// Code systems and coded values
// ---------------------------------------------------------------------------------------------

const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';
const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
const ALLERGY_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';
const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const OBSERVATION_INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const DATA_ABSENT_REASON = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

interface Coding {
  system: string;
  code: string;
  display?: string;
}

interface CodeableConcept {
  coding?: Coding[];
  text: string;
}

function snomed(code: string, display: string, text = display): CodeableConcept {
  return { coding: [{ system: SNOMED, code, display }], text };
}

function loinc(code: string, display: string, text: string): CodeableConcept {
  return { coding: [{ system: LOINC, code, display }], text };
}

function textOnly(text: string): CodeableConcept {
  return { text };
}

function coded(system: string, code: string, display?: string): CodeableConcept {
  const coding: Coding = display === undefined ? { system, code } : { system, code, display };
  return { coding: [coding], text: display ?? code };
}

const INTERPRETATION_DISPLAY = { H: 'High', L: 'Low', N: 'Normal', A: 'Abnormal' } as const;
type InterpretationCode = keyof typeof INTERPRETATION_DISPLAY;

// ---------------------------------------------------------------------------------------------
// Laboratory tests
// ---------------------------------------------------------------------------------------------

/** A laboratory test with its unit and the adult reference range the demo laboratory uses. */
interface LabTest {
  code: CodeableConcept;
  /** Unit as the report prints it. */
  unit: string;
  /** The same unit in UCUM. */
  ucum: string;
  low?: number;
  high?: number;
}

const LAB_TESTS = {
  haemoglobin: {
    code: loinc('718-7', 'Hemoglobin [Mass/volume] in Blood', 'Haemoglobin'),
    unit: 'g/L',
    ucum: 'g/L',
    low: 115,
    high: 165,
  },
  meanCellVolume: {
    code: loinc('787-2', 'MCV [Entitic volume] by Automated count', 'Mean cell volume'),
    unit: 'fL',
    ucum: 'fL',
    low: 80,
    high: 100,
  },
  whiteCells: {
    code: loinc('6690-2', 'Leukocytes [#/volume] in Blood by Automated count', 'White cell count'),
    unit: '×10⁹/L',
    ucum: '10*9/L',
    low: 4.0,
    high: 11.0,
  },
  platelets: {
    code: loinc('777-3', 'Platelets [#/volume] in Blood by Automated count', 'Platelets'),
    unit: '×10⁹/L',
    ucum: '10*9/L',
    low: 150,
    high: 400,
  },
  sodium: {
    code: loinc('2951-2', 'Sodium [Moles/volume] in Serum or Plasma', 'Sodium'),
    unit: 'mmol/L',
    ucum: 'mmol/L',
    low: 135,
    high: 145,
  },
  potassium: {
    code: loinc('2823-3', 'Potassium [Moles/volume] in Serum or Plasma', 'Potassium'),
    unit: 'mmol/L',
    ucum: 'mmol/L',
    low: 3.5,
    high: 5.3,
  },
  creatinineFemale: {
    code: loinc('14682-9', 'Creatinine [Moles/volume] in Serum or Plasma', 'Creatinine'),
    unit: 'µmol/L',
    ucum: 'umol/L',
    low: 45,
    high: 84,
  },
  creatinineMale: {
    code: loinc('14682-9', 'Creatinine [Moles/volume] in Serum or Plasma', 'Creatinine'),
    unit: 'µmol/L',
    ucum: 'umol/L',
    low: 59,
    high: 104,
  },
  egfr: {
    code: loinc(
      '62238-1',
      'Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI)',
      'eGFR (CKD-EPI)',
    ),
    unit: 'mL/min/1.73m²',
    ucum: 'mL/min/{1.73_m2}',
    low: 60,
  },
  hba1c: {
    code: loinc('59261-8', 'Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol', 'HbA1c'),
    unit: 'mmol/mol',
    ucum: 'mmol/mol',
    high: 41,
  },
  cholesterol: {
    code: loinc('14647-2', 'Cholesterol [Moles/volume] in Serum or Plasma', 'Total cholesterol'),
    unit: 'mmol/L',
    ucum: 'mmol/L',
    high: 5.0,
  },
  crp: {
    code: loinc('1988-5', 'C reactive protein [Mass/volume] in Serum or Plasma', 'C-reactive protein'),
    unit: 'mg/L',
    ucum: 'mg/L',
    high: 5,
  },
  tsh: {
    code: loinc('3016-3', 'Thyrotropin [Units/volume] in Serum or Plasma', 'TSH'),
    unit: 'mU/L',
    ucum: 'm[IU]/L',
    low: 0.27,
    high: 4.2,
  },
  freeT4: {
    code: loinc('14920-3', 'Thyroxine (T4) free [Moles/volume] in Serum or Plasma', 'Free T4'),
    unit: 'pmol/L',
    ucum: 'pmol/L',
    low: 12,
    high: 22,
  },
  ferritin: {
    code: loinc('2276-4', 'Ferritin [Mass/volume] in Serum or Plasma', 'Ferritin'),
    unit: 'µg/L',
    ucum: 'ug/L',
    low: 13,
    high: 150,
  },
  alt: {
    code: loinc('1742-6', 'Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma', 'ALT'),
    unit: 'U/L',
    ucum: 'U/L',
    low: 10,
    high: 50,
  },
  alkalinePhosphatase: {
    code: loinc('6768-6', 'Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma', 'Alkaline phosphatase'),
    unit: 'U/L',
    ucum: 'U/L',
    low: 30,
    high: 130,
  },
  psa: {
    code: loinc('2857-1', 'Prostate specific Ag [Mass/volume] in Serum or Plasma', 'PSA'),
    unit: 'µg/L',
    ucum: 'ug/L',
    high: 3.0,
  },
  ntProBnp: {
    code: loinc('33762-6', 'Natriuretic peptide.B prohormone N-Terminal [Mass/volume] in Serum or Plasma', 'NT-proBNP'),
    unit: 'ng/L',
    ucum: 'ng/L',
    high: 400,
  },
  urate: { code: textOnly('Serum urate'), unit: 'µmol/L', ucum: 'umol/L', low: 200, high: 430 },
  adjustedCalcium: { code: textOnly('Adjusted calcium'), unit: 'mmol/L', ucum: 'mmol/L', low: 2.2, high: 2.6 },
  vitaminD: { code: textOnly('25-hydroxyvitamin D'), unit: 'nmol/L', ucum: 'nmol/L', low: 50 },
  tissueTransglutaminase: { code: textOnly('Tissue transglutaminase IgA antibody'), unit: 'U/mL', ucum: 'U/mL', high: 7 },
  dDimer: { code: textOnly('D-dimer'), unit: 'µg/L FEU', ucum: 'ug/L{FEU}', high: 500 },
  // Reported as text, so it has no unit.
  urineCulture: { code: textOnly('Urine culture'), unit: '', ucum: '' },
} satisfies Record<string, LabTest>;

// ---------------------------------------------------------------------------------------------
// Resource builders
// ---------------------------------------------------------------------------------------------

type ConditionClinicalStatus = 'active' | 'recurrence' | 'relapse' | 'inactive' | 'remission' | 'resolved';
type ConditionVerificationStatus = 'unconfirmed' | 'provisional' | 'differential' | 'confirmed' | 'refuted' | 'entered-in-error';

interface ConditionInput {
  code: CodeableConcept;
  /** Left out for entered-in-error, because FHIR R4 forbids a clinical status there. */
  clinicalStatus?: ConditionClinicalStatus;
  verificationStatus: ConditionVerificationStatus;
  category?: 'problem-list-item' | 'encounter-diagnosis';
  onset?: string;
  abatement?: string;
  recordedDate: string;
  note?: string;
}

/** A medicine given inline by text, or a Medication resource of the same record. */
type MedicineInput = string | FhirResource;

interface MedicationRequestInput {
  medication: MedicineInput;
  status: 'active' | 'on-hold' | 'cancelled' | 'completed' | 'entered-in-error' | 'stopped';
  authoredOn: string;
  dosage: string;
  statusReason?: string;
  courseOfTherapy?: 'continuous' | 'acute';
}

interface MedicationStatementInput {
  medication: MedicineInput;
  status: 'active' | 'completed' | 'entered-in-error' | 'intended' | 'stopped' | 'on-hold' | 'unknown' | 'not-taken';
  effective: { start: string; end?: string };
  dateAsserted: string;
  dosage: string;
  note?: string;
}

interface AllergyReactionInput {
  manifestations: CodeableConcept[];
  severity?: 'mild' | 'moderate' | 'severe';
  description?: string;
}

interface AllergyInput {
  code: CodeableConcept;
  /** Left out for entered-in-error, because FHIR R4 forbids a clinical status there. */
  clinicalStatus?: 'active' | 'inactive' | 'resolved';
  verificationStatus: 'unconfirmed' | 'confirmed' | 'refuted' | 'entered-in-error';
  type?: 'allergy' | 'intolerance';
  category?: Array<'food' | 'medication' | 'environment' | 'biologic'>;
  criticality?: 'low' | 'high' | 'unable-to-assess';
  onset?: string;
  recordedDate: string;
  reactions?: AllergyReactionInput[];
  note?: string;
}

interface ImmunizationInput {
  vaccine: string;
  status: 'completed' | 'entered-in-error' | 'not-done';
  /** A FHIR dateTime, or free text when the date was never recorded. */
  occurrence: string | { text: string };
  doseNumber?: number;
  /** Reason code from v3 ActReason for a not-done immunisation, with the text shown. */
  statusReason?: { code: 'IMMUNE' | 'MEDPREC' | 'OSTOCK' | 'PATOBJ'; text: string };
  note?: string;
}

/** A numeric result, with a comparator when the laboratory reports a bound such as "<5". */
type LabValue = number | { comparator: '<' | '<=' | '>=' | '>'; value: number };

interface LabResultInput {
  test: LabTest;
  effective: string;
  issued?: string;
  status?: 'registered' | 'preliminary' | 'final' | 'amended' | 'corrected' | 'cancelled' | 'entered-in-error';
  value?: LabValue;
  valueText?: string;
  /** Overrides the interpretation derived from the reference range. */
  interpretation?: InterpretationCode;
  /** Reason the result has no value, from the FHIR data-absent-reason code system. */
  dataAbsentReason?: 'not-performed' | 'error' | 'unknown';
  note?: string;
}

/** Builds the resources of one patient's record, with ids prefixed by the patient's key. */
class RecordBuilder {
  readonly resources: FhirResource[] = [];

  constructor(private readonly patientKey: string) {}

  condition(suffix: string, input: ConditionInput): FhirResource {
    return this.add({
      resourceType: 'Condition',
      id: this.id(suffix),
      ...(input.clinicalStatus === undefined
        ? {}
        : { clinicalStatus: coded(CONDITION_CLINICAL, input.clinicalStatus) }),
      verificationStatus: coded(CONDITION_VERIFICATION, input.verificationStatus),
      category: [coded(CONDITION_CATEGORY, input.category ?? 'problem-list-item')],
      code: input.code,
      subject: this.subject(),
      ...(input.onset === undefined ? {} : { onsetDateTime: input.onset }),
      ...(input.abatement === undefined ? {} : { abatementDateTime: input.abatement }),
      recordedDate: input.recordedDate,
      ...notes(input.note),
    });
  }

  medication(suffix: string, text: string, form?: string): FhirResource {
    return this.add({
      resourceType: 'Medication',
      id: this.id(suffix),
      code: textOnly(text),
      ...(form === undefined ? {} : { form: textOnly(form) }),
    });
  }

  medicationRequest(suffix: string, input: MedicationRequestInput): FhirResource {
    return this.add({
      resourceType: 'MedicationRequest',
      id: this.id(suffix),
      status: input.status,
      ...(input.statusReason === undefined ? {} : { statusReason: textOnly(input.statusReason) }),
      intent: 'order',
      ...medicine(input.medication),
      subject: this.subject(),
      authoredOn: input.authoredOn,
      ...(input.courseOfTherapy === undefined
        ? {}
        : {
            courseOfTherapyType: coded(
              'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy',
              input.courseOfTherapy,
            ),
          }),
      dosageInstruction: [{ text: input.dosage }],
    });
  }

  medicationStatement(suffix: string, input: MedicationStatementInput): FhirResource {
    return this.add({
      resourceType: 'MedicationStatement',
      id: this.id(suffix),
      status: input.status,
      ...medicine(input.medication),
      subject: this.subject(),
      effectivePeriod: input.effective,
      dateAsserted: input.dateAsserted,
      dosage: [{ text: input.dosage }],
      ...notes(input.note),
    });
  }

  allergy(suffix: string, input: AllergyInput): FhirResource {
    return this.add({
      resourceType: 'AllergyIntolerance',
      id: this.id(suffix),
      ...(input.clinicalStatus === undefined ? {} : { clinicalStatus: coded(ALLERGY_CLINICAL, input.clinicalStatus) }),
      verificationStatus: coded(ALLERGY_VERIFICATION, input.verificationStatus),
      ...(input.type === undefined ? {} : { type: input.type }),
      ...(input.category === undefined ? {} : { category: input.category }),
      ...(input.criticality === undefined ? {} : { criticality: input.criticality }),
      code: input.code,
      patient: this.subject(),
      ...(input.onset === undefined ? {} : { onsetDateTime: input.onset }),
      recordedDate: input.recordedDate,
      ...(input.reactions === undefined
        ? {}
        : {
            reaction: input.reactions.map((reaction) => ({
              manifestation: reaction.manifestations,
              ...(reaction.severity === undefined ? {} : { severity: reaction.severity }),
              ...(reaction.description === undefined ? {} : { description: reaction.description }),
            })),
          }),
      ...notes(input.note),
    });
  }

  immunization(suffix: string, input: ImmunizationInput): FhirResource {
    return this.add({
      resourceType: 'Immunization',
      id: this.id(suffix),
      status: input.status,
      ...(input.statusReason === undefined
        ? {}
        : {
            statusReason: {
              coding: [{ system: ACT_REASON, code: input.statusReason.code }],
              text: input.statusReason.text,
            },
          }),
      vaccineCode: textOnly(input.vaccine),
      patient: this.subject(),
      ...(typeof input.occurrence === 'string'
        ? { occurrenceDateTime: input.occurrence }
        : { occurrenceString: input.occurrence.text }),
      primarySource: true,
      ...(input.doseNumber === undefined ? {} : { protocolApplied: [{ doseNumberPositiveInt: input.doseNumber }] }),
      ...notes(input.note),
    });
  }

  labResult(suffix: string, input: LabResultInput): FhirResource {
    const test = input.test;
    const interpretation = input.interpretation ?? interpretationFromRange(test, input.value);

    return this.add({
      resourceType: 'Observation',
      id: this.id(suffix),
      status: input.status ?? 'final',
      category: [coded(OBSERVATION_CATEGORY, 'laboratory', 'Laboratory')],
      code: test.code,
      subject: this.subject(),
      effectiveDateTime: input.effective,
      ...(input.issued === undefined ? {} : { issued: input.issued }),
      ...(input.value === undefined ? {} : { valueQuantity: quantity(input.value, test) }),
      ...(input.valueText === undefined ? {} : { valueString: input.valueText }),
      ...(input.dataAbsentReason === undefined
        ? {}
        : { dataAbsentReason: coded(DATA_ABSENT_REASON, input.dataAbsentReason) }),
      ...(interpretation === undefined
        ? {}
        : { interpretation: [coded(OBSERVATION_INTERPRETATION, interpretation, INTERPRETATION_DISPLAY[interpretation])] }),
      ...referenceRange(test),
      ...notes(input.note),
    });
  }

  private add(resource: FhirResource): FhirResource {
    this.resources.push(resource);
    return resource;
  }

  private id(suffix: string): string {
    return `${this.patientKey}-${suffix}`;
  }

  private subject(): { reference: string } {
    return { reference: `Patient/${this.patientKey}` };
  }
}

function medicine(input: MedicineInput): Record<string, unknown> {
  if (typeof input === 'string') {
    return { medicationCodeableConcept: textOnly(input) };
  }
  return { medicationReference: { reference: `Medication/${input.id}` } };
}

function notes(text: string | undefined): Record<string, unknown> {
  return text === undefined ? {} : { note: [{ text }] };
}

function quantity(value: LabValue, test: LabTest): Record<string, unknown> {
  const base = { unit: test.unit, system: UCUM, code: test.ucum };
  if (typeof value === 'number') {
    return { value, ...base };
  }
  return { value: value.value, comparator: value.comparator, ...base };
}

function referenceRange(test: LabTest): Record<string, unknown> {
  if (test.low === undefined && test.high === undefined) {
    return {};
  }
  const bound = (value: number) => ({ value, unit: test.unit, system: UCUM, code: test.ucum });
  return {
    referenceRange: [
      {
        ...(test.low === undefined ? {} : { low: bound(test.low) }),
        ...(test.high === undefined ? {} : { high: bound(test.high) }),
      },
    ],
  };
}

/** Flags a value outside the test's reference range as H or L, as the demo laboratory would. */
function interpretationFromRange(test: LabTest, value: LabValue | undefined): InterpretationCode | undefined {
  if (value === undefined) {
    return undefined;
  }
  const number = typeof value === 'number' ? value : value.value;
  if (test.high !== undefined && number > test.high) {
    return 'H';
  }
  if (test.low !== undefined && number < test.low) {
    return 'L';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Riverside practice
// ---------------------------------------------------------------------------------------------

/** Builds Siobhán O’Brien, whose family name has a curly apostrophe (U+2019). */
function siobhanOBrien(): DemoPatient {
  const record = new RecordBuilder('siobhan-obrien');

  record.condition('condition-asthma', {
    code: snomed('195967001', 'Asthma'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '1990',
    recordedDate: '2003-05-14',
  });
  record.condition('condition-rhinitis', {
    code: snomed('61582004', 'Allergic rhinitis', 'Hay fever'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2002-04',
    recordedDate: '2003-05-14',
  });
  record.condition('condition-wrist-fracture', {
    code: textOnly('Fracture of distal radius, left'),
    clinicalStatus: 'resolved',
    verificationStatus: 'confirmed',
    onset: '2016-01-09',
    abatement: '2016-03-01',
    recordedDate: '2016-01-11',
  });

  record.medicationRequest('rx-salbutamol', {
    medication: 'Salbutamol 100 micrograms/dose pressurised inhaler',
    status: 'active',
    authoredOn: '2024-02-05',
    dosage: 'Inhale 1 to 2 puffs when required for wheeze or breathlessness, up to 4 times a day.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-beclometasone', {
    medication: 'Beclometasone 100 micrograms/dose pressurised inhaler',
    status: 'active',
    authoredOn: '2024-02-05',
    dosage: 'Inhale 2 puffs twice a day. Rinse your mouth with water after each use.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-cetirizine', {
    medication: 'Cetirizine 10 mg tablets',
    status: 'completed',
    authoredOn: '2023-05-02',
    dosage: 'Take one tablet once a day during the hay fever season.',
    courseOfTherapy: 'acute',
  });

  record.allergy('allergy-penicillin', {
    code: snomed('91936005', 'Allergy to penicillin'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    type: 'allergy',
    category: ['medication'],
    criticality: 'high',
    onset: '2009-07',
    recordedDate: '2009-07-20',
    reactions: [
      {
        manifestations: [snomed('126485001', 'Urticaria', 'Hives'), textOnly('Swelling of the lips')],
        severity: 'moderate',
        description: 'Hives and swollen lips two days into a course of amoxicillin.',
      },
    ],
  });

  record.immunization('imm-bcg', { vaccine: 'BCG vaccine', status: 'completed', occurrence: '1997' });
  record.immunization('imm-covid-1', {
    vaccine: 'COVID-19 mRNA vaccine (Comirnaty)',
    status: 'completed',
    occurrence: '2021-04-22T10:05:00+01:00',
    doseNumber: 1,
  });
  record.immunization('imm-flu-2024', {
    vaccine: 'Influenza vaccine, inactivated, quadrivalent',
    status: 'completed',
    occurrence: '2024-10-08T16:40:00+01:00',
  });

  const bloodTaken = '2024-02-05T09:20:00+00:00';
  const reported = '2024-02-05T15:02:00+00:00';
  record.labResult('lab-haemoglobin-2024', { test: LAB_TESTS.haemoglobin, effective: bloodTaken, issued: reported, value: 128 });
  record.labResult('lab-white-cells-2024', { test: LAB_TESTS.whiteCells, effective: bloodTaken, issued: reported, value: 7.9 });
  record.labResult('lab-platelets-2024', { test: LAB_TESTS.platelets, effective: bloodTaken, issued: reported, value: 265 });

  return {
    key: 'siobhan-obrien',
    practiceKey: 'riverside',
    givenNames: ['Siobhán'],
    familyName: 'O’Brien',
    birthDate: '1984-03-17',
    status: 'active',
    portalLogin: 'siobhan.obrien@example.test',
    resources: record.resources,
  };
}

/** Builds Declan O'Brien, whose family name has a straight apostrophe (U+0027), with no allergy information at all. */
function declanOBrien(): DemoPatient {
  const record = new RecordBuilder('declan-obrien');

  record.condition('condition-hypertension', {
    code: snomed('59621000', 'Essential hypertension'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2019-06',
    recordedDate: '2019-06-20',
  });
  record.condition('condition-back-pain', {
    code: snomed('279039007', 'Low back pain'),
    clinicalStatus: 'resolved',
    verificationStatus: 'confirmed',
    onset: '2022-02-14',
    abatement: '2022-04',
    recordedDate: '2022-02-14',
  });

  const ramipril = record.medication('medication-ramipril', 'Ramipril 2.5 mg capsules', 'Capsule');
  const amlodipine = record.medication('medication-amlodipine', 'Amlodipine 5 mg tablets', 'Tablet');
  record.medicationRequest('rx-ramipril', {
    medication: ramipril,
    status: 'stopped',
    statusReason: 'Persistent dry cough',
    authoredOn: '2019-07-01',
    dosage: 'Take one capsule once a day.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-amlodipine', {
    medication: amlodipine,
    status: 'active',
    authoredOn: '2019-09-12',
    dosage: 'Take one tablet once a day.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-naproxen', {
    medication: 'Naproxen 500 mg tablets',
    status: 'completed',
    authoredOn: '2022-02-14',
    dosage: 'Take one tablet twice a day with food for 7 days.',
    courseOfTherapy: 'acute',
  });

  const first = '2019-06-20T08:50:00+01:00';
  record.labResult('lab-sodium-2019', { test: LAB_TESTS.sodium, effective: first, value: 139 });
  record.labResult('lab-potassium-2019', { test: LAB_TESTS.potassium, effective: first, value: 4.3 });
  record.labResult('lab-creatinine-2019', { test: LAB_TESTS.creatinineMale, effective: first, value: 84 });
  record.labResult('lab-egfr-2019', { test: LAB_TESTS.egfr, effective: first, value: { comparator: '>', value: 90 } });
  record.labResult('lab-cholesterol-2019', { test: LAB_TESTS.cholesterol, effective: first, value: 5.8 });

  const second = '2024-06-11T09:15:00+01:00';
  record.labResult('lab-sodium-2024', { test: LAB_TESTS.sodium, effective: second, value: 140 });
  record.labResult('lab-potassium-2024', { test: LAB_TESTS.potassium, effective: second, value: 4.6 });
  record.labResult('lab-creatinine-2024', { test: LAB_TESTS.creatinineMale, effective: second, value: 91 });
  record.labResult('lab-egfr-2024', { test: LAB_TESTS.egfr, effective: second, value: { comparator: '>', value: 90 } });

  return {
    key: 'declan-obrien',
    practiceKey: 'riverside',
    givenNames: ['Declan'],
    familyName: "O'Brien",
    birthDate: '1981-11-02',
    status: 'active',
    portalLogin: 'declan.obrien@example.test',
    resources: record.resources,
  };
}

/** Builds Zoë Ashworth-Clarke, with "no known allergy" recorded and no lab results. */
function zoeAshworthClarke(): DemoPatient {
  const record = new RecordBuilder('zoe-ashworth-clarke');

  record.condition('condition-migraine', {
    code: snomed('37796009', 'Migraine'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2010',
    recordedDate: '2011-03-08',
  });
  record.condition('condition-ankle-sprain', {
    code: textOnly('Sprain of right ankle'),
    clinicalStatus: 'resolved',
    verificationStatus: 'confirmed',
    onset: '2021-08-30',
    abatement: '2021-10-04',
    recordedDate: '2021-08-31',
  });

  record.medicationRequest('rx-sumatriptan', {
    medication: 'Sumatriptan 50 mg tablets',
    status: 'active',
    authoredOn: '2023-11-20',
    dosage:
      'Take one tablet when a migraine starts. If it comes back, take a second tablet after at least 2 hours. No more than 2 tablets in 24 hours.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-propranolol', {
    medication: 'Propranolol 40 mg tablets',
    status: 'stopped',
    statusReason: 'Migraines less frequent, prevention no longer needed',
    authoredOn: '2018-01-15',
    dosage: 'Take one tablet twice a day.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-contraceptive', {
    medication: 'Levonorgestrel 150 microgram / ethinylestradiol 30 microgram tablets',
    status: 'active',
    authoredOn: '2024-04-02',
    dosage: 'Take one tablet daily for 21 days, then have 7 tablet-free days.',
    courseOfTherapy: 'continuous',
  });

  record.allergy('allergy-none-known', {
    code: snomed('716186003', 'No known allergy'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    recordedDate: '2021-01-12',
  });

  record.immunization('imm-hpv-1', { vaccine: 'HPV vaccine (Cervarix)', status: 'completed', occurrence: '2008-11-04', doseNumber: 1 });
  record.immunization('imm-hpv-2', { vaccine: 'HPV vaccine (Cervarix)', status: 'completed', occurrence: '2009-01-06', doseNumber: 2 });
  record.immunization('imm-hpv-3', { vaccine: 'HPV vaccine (Cervarix)', status: 'completed', occurrence: '2009-05-12', doseNumber: 3 });
  record.immunization('imm-covid-1', {
    vaccine: 'COVID-19 vaccine (Vaxzevria)',
    status: 'completed',
    occurrence: '2021-05-30T11:25:00+01:00',
    doseNumber: 1,
  });

  return {
    key: 'zoe-ashworth-clarke',
    practiceKey: 'riverside',
    givenNames: ['Zoë'],
    familyName: 'Ashworth-Clarke',
    birthDate: '1992-07-08',
    status: 'active',
    portalLogin: 'zoe.ashworth-clarke@example.test',
    resources: record.resources,
  };
}

/** Creatinine of Mary Pemberton, twice a year from January 2013 to July 2024, in µmol/L. */
const PEMBERTON_CREATININE = [55, 57, 58, 60, 63, 66, 70, 74, 79, 84, 90, 96, 103, 108, 112, 118, 121, 125, 128, 130, 134, 131, 136, 139];
const PEMBERTON_HBA1C = [53, 55, 58, 61, 57, 54, 52, 56, 59, 63, 66, 60, 57, 55, 53, 58, 62, 59, 56, 54, 57, 60, 58, 55];
const PEMBERTON_POTASSIUM = [4.2, 4.4, 4.1, 4.6, 4.3, 4.5, 4.8, 4.4, 4.7, 5.0, 4.6, 4.9, 5.6, 4.8, 5.1, 4.7, 3.4, 4.9, 5.2, 4.8, 5.0, 5.3, 4.9, 5.1];
const PEMBERTON_SODIUM = [139, 140, 138, 141, 137, 139, 140, 136, 138, 139, 137, 138, 133, 137, 139, 140, 138, 136, 139, 137, 138, 135, 137, 138];

/**
 * Returns the eGFR in mL/min/1.73m² by the 2009 CKD-EPI creatinine equation for a woman,
 * without the ethnicity coefficient, rounded to a whole number.
 */
function ckdEpiEgfrFemale(creatinineMicromolesPerLitre: number, ageYears: number): number {
  const creatinineMilligramsPerDecilitre = creatinineMicromolesPerLitre / 88.4;
  const exponent = creatinineMilligramsPerDecilitre <= 0.7 ? -0.329 : -1.209;
  return Math.round(144 * (creatinineMilligramsPerDecilitre / 0.7) ** exponent * 0.993 ** ageYears);
}

/** Builds Mary Anne Louise Pemberton, with 120 lab results: five tests every six months for twelve years. */
function maryPemberton(): DemoPatient {
  const record = new RecordBuilder('mary-pemberton');

  record.condition('condition-diabetes', {
    code: snomed('44054006', 'Diabetes mellitus type 2', 'Type 2 diabetes'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2011-03',
    recordedDate: '2011-03-29',
  });
  record.condition('condition-hypertension', {
    code: snomed('59621000', 'Essential hypertension'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2005',
    recordedDate: '2006-02-02',
  });
  record.condition('condition-ckd', {
    code: snomed('709044004', 'Chronic kidney disease'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2019-08-20',
    recordedDate: '2019-08-20',
    note: 'Stage G3b A2.',
  });
  record.condition('condition-atrial-fibrillation', {
    code: snomed('49436004', 'Atrial fibrillation'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2020-02-11',
    recordedDate: '2020-02-11',
  });
  record.condition('condition-osteoarthritis', {
    code: snomed('396275006', 'Osteoarthritis'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2014-06',
    recordedDate: '2014-06-17',
    note: 'Both knees.',
  });
  record.condition('condition-cataract', {
    code: textOnly('Cataract, right eye'),
    clinicalStatus: 'resolved',
    verificationStatus: 'confirmed',
    onset: '2017',
    abatement: '2018-05-09',
    recordedDate: '2017-10-03',
    note: 'Resolved after cataract surgery.',
  });

  const metformin = record.medication('medication-metformin', 'Metformin 500 mg tablets', 'Tablet');
  const warfarin = record.medication('medication-warfarin', 'Warfarin 1 mg tablets', 'Tablet');
  const apixaban = record.medication('medication-apixaban', 'Apixaban 2.5 mg tablets', 'Tablet');
  record.medicationRequest('rx-metformin', {
    medication: metformin,
    status: 'active',
    authoredOn: '2024-03-04',
    dosage: 'Take two tablets twice a day with breakfast and evening meal.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-gliclazide', {
    medication: 'Gliclazide 80 mg tablets',
    status: 'stopped',
    statusReason: 'Episodes of hypoglycaemia',
    authoredOn: '2016-09-12',
    dosage: 'Take one tablet once a day with breakfast.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-warfarin', {
    medication: warfarin,
    status: 'stopped',
    statusReason: 'Switched to apixaban',
    authoredOn: '2020-02-11',
    dosage: 'Take as directed by the anticoagulation clinic. Record each dose in your yellow book.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-apixaban', {
    medication: apixaban,
    status: 'active',
    authoredOn: '2020-09-28',
    dosage: 'Take one tablet twice a day, morning and evening.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-ramipril', {
    medication: 'Ramipril 5 mg capsules',
    status: 'active',
    authoredOn: '2024-03-04',
    dosage: 'Take one capsule once a day.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-atorvastatin', {
    medication: 'Atorvastatin 20 mg tablets',
    status: 'active',
    authoredOn: '2024-03-04',
    dosage: 'Take one tablet at night.',
    courseOfTherapy: 'continuous',
  });

  record.allergy('intolerance-codeine', {
    code: textOnly('Codeine'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    type: 'intolerance',
    category: ['medication'],
    criticality: 'low',
    onset: '2014-07',
    recordedDate: '2014-07-02',
    reactions: [{ manifestations: [snomed('422587007', 'Nausea'), snomed('422400008', 'Vomiting')], severity: 'mild' }],
  });

  record.immunization('imm-pneumococcal', {
    vaccine: 'Pneumococcal polysaccharide vaccine (PPV23)',
    status: 'completed',
    occurrence: '2013-11-05',
  });
  record.immunization('imm-shingles', { vaccine: 'Shingles vaccine (Zostavax)', status: 'completed', occurrence: '2018-01-16' });
  for (const date of ['2019-10-04', '2020-10-05', '2021-10-06', '2022-10-07', '2023-10-02', '2024-10-03']) {
    record.immunization(`imm-flu-${date.slice(0, 4)}`, {
      vaccine: 'Influenza vaccine, inactivated, adjuvanted',
      status: 'completed',
      occurrence: date,
    });
  }

  for (let index = 0; index < PEMBERTON_CREATININE.length; index += 1) {
    const year = 2013 + Math.floor(index / 2);
    const inJanuary = index % 2 === 0;
    const date = inJanuary ? `${year}-01-15` : `${year}-07-15`;
    const offset = inJanuary ? '+00:00' : '+01:00';
    const effective = `${date}T09:10:00${offset}`;
    const issued = `${date}T15:30:00${offset}`;
    // Born 30 December 1947, so she is (year - 1948) on every test date, in January and July.
    const age = year - 1948;
    const creatinine = PEMBERTON_CREATININE[index];
    const egfr = ckdEpiEgfrFemale(creatinine, age);

    record.labResult(`lab-${date}-hba1c`, { test: LAB_TESTS.hba1c, effective, issued, value: PEMBERTON_HBA1C[index] });
    record.labResult(`lab-${date}-creatinine`, { test: LAB_TESTS.creatinineFemale, effective, issued, value: creatinine });
    record.labResult(`lab-${date}-egfr`, {
      test: LAB_TESTS.egfr,
      effective,
      issued,
      value: egfr > 90 ? { comparator: '>', value: 90 } : egfr,
    });
    record.labResult(`lab-${date}-potassium`, { test: LAB_TESTS.potassium, effective, issued, value: PEMBERTON_POTASSIUM[index] });
    record.labResult(`lab-${date}-sodium`, { test: LAB_TESTS.sodium, effective, issued, value: PEMBERTON_SODIUM[index] });
  }

  return {
    key: 'mary-pemberton',
    practiceKey: 'riverside',
    givenNames: ['Mary', 'Anne', 'Louise'],
    familyName: 'Pemberton',
    birthDate: '1947-12-30',
    status: 'active',
    portalLogin: 'mary.pemberton@example.test',
    resources: record.resources,
  };
}

/** Builds José Martínez García, whose family name has a space, with recurrent gout, anaphylaxis and a vaccine not given. */
function joseMartinezGarcia(): DemoPatient {
  const record = new RecordBuilder('jose-martinez-garcia');

  record.condition('condition-gout', {
    code: snomed('90560007', 'Gout'),
    clinicalStatus: 'recurrence',
    verificationStatus: 'confirmed',
    onset: '2017-09-03',
    recordedDate: '2017-09-04',
    note: 'Flares in the right big toe joint.',
  });
  record.condition('condition-obesity', {
    code: snomed('414916001', 'Obesity'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2015-03-10',
    recordedDate: '2015-03-10',
  });
  record.condition('condition-fatty-liver', {
    code: textOnly('Non-alcoholic fatty liver disease'),
    clinicalStatus: 'active',
    verificationStatus: 'provisional',
    onset: '2024-05-28',
    recordedDate: '2024-05-28',
    note: 'Suggested by ultrasound. Liver clinic to confirm.',
  });

  record.medicationRequest('rx-allopurinol', {
    medication: 'Allopurinol 100 mg tablets',
    status: 'active',
    authoredOn: '2024-05-20',
    dosage: 'Take one tablet once a day after food.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-colchicine', {
    medication: 'Colchicine 500 microgram tablets',
    status: 'completed',
    authoredOn: '2024-04-29',
    dosage: 'Take one tablet two to four times a day until the pain eases. No more than 12 tablets for one attack.',
    courseOfTherapy: 'acute',
  });
  record.medicationRequest('rx-adrenaline', {
    medication: 'Adrenaline 300 micrograms/0.3 mL auto-injector',
    status: 'active',
    authoredOn: '2024-01-08',
    dosage:
      'For anaphylaxis, inject into the outer thigh and call 999. Use the second pen after 5 minutes if there is no improvement.',
    courseOfTherapy: 'continuous',
  });

  record.allergy('allergy-shellfish', {
    code: snomed('300913006', 'Shellfish allergy'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    type: 'allergy',
    category: ['food'],
    criticality: 'high',
    onset: '1998-08',
    recordedDate: '2001-02-19',
    reactions: [
      {
        manifestations: [snomed('39579001', 'Anaphylaxis')],
        severity: 'severe',
        description: 'Throat swelling and collapse after eating prawns. Treated in A&E.',
      },
    ],
  });

  record.immunization('imm-flu-2024', {
    vaccine: 'Influenza vaccine, inactivated, quadrivalent',
    status: 'completed',
    occurrence: '2024-10-15T10:30:00+01:00',
  });
  record.immunization('imm-covid-booster-2023', {
    vaccine: 'COVID-19 mRNA vaccine (Spikevax)',
    status: 'not-done',
    statusReason: { code: 'MEDPREC', text: 'Fever on the day of the appointment. Rebook when well.' },
    occurrence: '2023-10-20T14:00:00+01:00',
  });

  record.labResult('lab-urate-2017', { test: LAB_TESTS.urate, effective: '2017-09-20T08:40:00+01:00', value: 520 });
  const latest = '2024-05-14T08:55:00+01:00';
  record.labResult('lab-urate-2024', { test: LAB_TESTS.urate, effective: latest, value: 310 });
  record.labResult('lab-alt-2024', { test: LAB_TESTS.alt, effective: latest, value: 58 });
  record.labResult('lab-hba1c-2024', { test: LAB_TESTS.hba1c, effective: latest, value: 44 });

  return {
    key: 'jose-martinez-garcia',
    practiceKey: 'riverside',
    givenNames: ['José'],
    familyName: 'Martínez García',
    birthDate: '1963-04-11',
    status: 'active',
    portalLogin: 'jose.martinez@example.test',
    resources: record.resources,
  };
}

/** Builds Łucja Wiśniewska, with a provisional diagnosis, an unconfirmed allergy and a preliminary result. */
function lucjaWisniewska(): DemoPatient {
  const record = new RecordBuilder('lucja-wisniewska');

  record.condition('condition-iron-deficiency', {
    code: snomed('87522002', 'Iron deficiency anemia', 'Iron deficiency anaemia'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2024-09-02',
    recordedDate: '2024-09-04',
  });
  record.condition('condition-coeliac', {
    code: snomed('396331005', 'Celiac disease', 'Coeliac disease'),
    clinicalStatus: 'active',
    verificationStatus: 'provisional',
    onset: '2024-09-16',
    recordedDate: '2024-09-18',
    note: 'Awaiting gastroscopy and duodenal biopsy. Keep eating gluten until then.',
  });

  record.medicationRequest('rx-ferrous-fumarate', {
    medication: 'Ferrous fumarate 210 mg tablets',
    status: 'active',
    authoredOn: '2024-09-04',
    dosage: 'Take one tablet twice a day. Take with orange juice, not with tea or coffee.',
    courseOfTherapy: 'continuous',
  });

  record.allergy('allergy-nickel', {
    code: textOnly('Nickel'),
    clinicalStatus: 'active',
    verificationStatus: 'unconfirmed',
    type: 'allergy',
    category: ['environment'],
    criticality: 'low',
    recordedDate: '2023-06-12',
    reactions: [{ manifestations: [textOnly('Itchy rash under a watch strap')], severity: 'mild' }],
    note: 'Reported by the patient. Not patch tested.',
  });

  record.immunization('imm-hepatitis-b-1', { vaccine: 'Hepatitis B vaccine', status: 'completed', occurrence: '2019-01-07', doseNumber: 1 });
  record.immunization('imm-hepatitis-b-2', { vaccine: 'Hepatitis B vaccine', status: 'completed', occurrence: '2019-02-04', doseNumber: 2 });
  record.immunization('imm-hepatitis-b-3', { vaccine: 'Hepatitis B vaccine', status: 'completed', occurrence: '2019-07-08', doseNumber: 3 });

  const bloods = '2024-09-02T10:20:00+01:00';
  record.labResult('lab-haemoglobin-2024', { test: LAB_TESTS.haemoglobin, effective: bloods, value: 98 });
  record.labResult('lab-mcv-2024', { test: LAB_TESTS.meanCellVolume, effective: bloods, value: 74 });
  record.labResult('lab-ferritin-2024', { test: LAB_TESTS.ferritin, effective: bloods, value: 6 });
  record.labResult('lab-ttg-2024', {
    test: LAB_TESTS.tissueTransglutaminase,
    effective: '2024-09-16T09:45:00+01:00',
    issued: '2024-09-18T11:12:00+01:00',
    status: 'preliminary',
    value: 128,
    note: 'Preliminary result. Endomysial antibody test to follow.',
  });

  return {
    key: 'lucja-wisniewska',
    practiceKey: 'riverside',
    givenNames: ['Łucja'],
    familyName: 'Wiśniewska',
    birthDate: '1996-05-21',
    status: 'active',
    portalLogin: 'lucja.wisniewska@example.test',
    resources: record.resources,
  };
}

/** Builds Chidi Okafor, with an entered-in-error condition, a refuted allergy, and cancelled and amended results. */
function chidiOkafor(): DemoPatient {
  const record = new RecordBuilder('chidi-okafor');

  record.condition('condition-cellulitis', {
    code: snomed('128045006', 'Cellulitis'),
    clinicalStatus: 'resolved',
    verificationStatus: 'confirmed',
    onset: '2023-06-03',
    abatement: '2023-06-20',
    recordedDate: '2023-06-03',
    note: 'Left lower leg.',
  });
  record.condition('condition-sickle-cell-trait', {
    code: snomed('16402000', 'Sickle cell trait'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '1988-09-30',
    recordedDate: '2010-04-21',
  });
  record.condition('condition-entered-in-error', {
    code: snomed('46635009', 'Diabetes mellitus type 1', 'Type 1 diabetes'),
    verificationStatus: 'entered-in-error',
    onset: '2023-06-03',
    recordedDate: '2023-06-03',
    note: 'Recorded in the wrong patient record.',
  });

  record.medicationRequest('rx-flucloxacillin', {
    medication: 'Flucloxacillin 500 mg capsules',
    status: 'completed',
    authoredOn: '2023-06-03',
    dosage: 'Take two capsules four times a day for 7 days, on an empty stomach.',
    courseOfTherapy: 'acute',
  });

  record.allergy('allergy-penicillin-refuted', {
    code: snomed('91936005', 'Allergy to penicillin'),
    clinicalStatus: 'inactive',
    verificationStatus: 'refuted',
    type: 'allergy',
    category: ['medication'],
    recordedDate: '2015-11-02',
    note: 'Took flucloxacillin in June 2023 with no reaction.',
  });

  record.immunization('imm-hepatitis-a', { vaccine: 'Hepatitis A vaccine', status: 'completed', occurrence: '2022-12-01' });
  record.immunization('imm-typhoid', { vaccine: 'Typhoid vaccine (Vi polysaccharide)', status: 'completed', occurrence: '2022-12-01' });

  const presentation = '2023-06-03T11:40:00+01:00';
  record.labResult('lab-crp-2023-06-03', { test: LAB_TESTS.crp, effective: presentation, value: 84 });
  record.labResult('lab-white-cells-2023-06-03', { test: LAB_TESTS.whiteCells, effective: presentation, value: 13.2 });
  record.labResult('lab-potassium-2023-06-03', {
    test: LAB_TESTS.potassium,
    effective: presentation,
    status: 'cancelled',
    dataAbsentReason: 'not-performed',
    note: 'Sample haemolysed. Please repeat.',
  });
  record.labResult('lab-crp-2023-06-10', {
    test: LAB_TESTS.crp,
    effective: '2023-06-10T09:05:00+01:00',
    issued: '2023-06-12T10:30:00+01:00',
    status: 'amended',
    value: { comparator: '<', value: 5 },
    note: 'Amended on 12 June 2023. First reported as 12 mg/L because of a transcription error.',
  });

  return {
    key: 'chidi-okafor',
    practiceKey: 'riverside',
    givenNames: ['Chidi'],
    familyName: 'Okafor',
    birthDate: '1988-09-30',
    status: 'active',
    portalLogin: 'chidi.okafor@example.test',
    resources: record.resources,
  };
}

/** Builds Oliver Bennett, with a refuted condition and an unconfirmed one. */
function oliverBennett(): DemoPatient {
  const record = new RecordBuilder('oliver-bennett');

  record.condition('condition-dvt-refuted', {
    code: snomed('128053003', 'Deep venous thrombosis', 'Deep vein thrombosis'),
    clinicalStatus: 'inactive',
    verificationStatus: 'refuted',
    category: 'encounter-diagnosis',
    onset: '2024-03-04',
    recordedDate: '2024-03-04',
    note: 'Doppler ultrasound of the left leg on 5 March 2024 showed no clot.',
  });
  record.condition('condition-calf-strain', {
    code: textOnly('Strain of left calf muscle'),
    clinicalStatus: 'resolved',
    verificationStatus: 'confirmed',
    onset: '2024-03-02',
    abatement: '2024-04',
    recordedDate: '2024-03-05',
  });
  record.condition('condition-sleep-apnoea', {
    code: snomed('73430006', 'Sleep apnea', 'Sleep apnoea'),
    clinicalStatus: 'active',
    verificationStatus: 'unconfirmed',
    onset: '2024-07',
    recordedDate: '2024-07-22',
    note: 'Referred for overnight oximetry.',
  });
  record.condition('condition-obesity', {
    code: snomed('414916001', 'Obesity'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2020-01-13',
    recordedDate: '2020-01-13',
  });

  record.medicationRequest('rx-ibuprofen', {
    medication: 'Ibuprofen 400 mg tablets',
    status: 'stopped',
    statusReason: 'Stopped while a blood clot was being ruled out',
    authoredOn: '2024-03-02',
    dosage: 'Take one tablet three times a day with food when required.',
    courseOfTherapy: 'acute',
  });

  record.allergy('allergy-cat-dander', {
    code: snomed('232347008', 'Dander (animal) allergy', 'Cat dander'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    type: 'allergy',
    category: ['environment'],
    criticality: 'low',
    onset: '1985',
    recordedDate: '2004-09-27',
    reactions: [{ manifestations: [snomed('76067001', 'Sneezing'), textOnly('Itchy, watery eyes')], severity: 'mild' }],
  });

  record.immunization('imm-td-ipv', { vaccine: 'Tetanus, diphtheria and polio vaccine (Td/IPV)', status: 'completed', occurrence: '2014-05-20' });

  record.labResult('lab-d-dimer-2024', {
    test: LAB_TESTS.dDimer,
    effective: '2024-03-04T16:20:00+00:00',
    issued: '2024-03-04T18:02:00+00:00',
    value: 890,
  });

  return {
    key: 'oliver-bennett',
    practiceKey: 'riverside',
    givenNames: ['Oliver'],
    familyName: 'Bennett',
    birthDate: '1979-01-05',
    status: 'active',
    portalLogin: 'oliver.bennett@example.test',
    resources: record.resources,
  };
}

/** Builds Amelia Grace Brook, a teenager with childhood immunisations, one declined, and an allergy she outgrew. */
function ameliaBrook(): DemoPatient {
  const record = new RecordBuilder('amelia-brook');

  record.condition('condition-otitis-media', {
    code: snomed('65363002', 'Otitis media'),
    clinicalStatus: 'resolved',
    verificationStatus: 'confirmed',
    onset: '2011',
    abatement: '2011',
    recordedDate: '2011-02-14',
  });
  record.condition('condition-eczema', {
    code: snomed('43116000', 'Eczema'),
    clinicalStatus: 'remission',
    verificationStatus: 'confirmed',
    onset: '2009-01',
    recordedDate: '2009-02-03',
  });
  record.condition('condition-acne', {
    code: textOnly('Acne vulgaris'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2023-02',
    recordedDate: '2023-09-18',
  });

  record.medicationRequest('rx-acne-gel', {
    medication: 'Adapalene 0.1% / benzoyl peroxide 2.5% gel',
    status: 'active',
    authoredOn: '2023-09-18',
    dosage: 'Apply a thin layer to the affected areas once a day in the evening.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-emollient', {
    medication: 'Emollient cream',
    status: 'stopped',
    statusReason: 'Eczema cleared',
    authoredOn: '2012-03-06',
    dosage: 'Apply to dry skin as often as needed.',
    courseOfTherapy: 'continuous',
  });

  record.allergy('allergy-cows-milk', {
    code: textOnly("Cow's milk protein"),
    clinicalStatus: 'resolved',
    verificationStatus: 'confirmed',
    type: 'allergy',
    category: ['food'],
    criticality: 'low',
    onset: '2009',
    recordedDate: '2009-02-03',
    reactions: [{ manifestations: [textOnly('Eczema flare'), snomed('422400008', 'Vomiting')], severity: 'mild' }],
    note: 'Outgrown by age 3. Now has dairy without problems.',
  });

  const primaryDoseDates = ['2008-10-09', '2008-11-06', '2008-12-04'];
  primaryDoseDates.forEach((date, index) => {
    record.immunization(`imm-dtap-ipv-hib-${index + 1}`, {
      vaccine: 'Diphtheria, tetanus, pertussis, polio and Hib vaccine (5-in-1)',
      status: 'completed',
      occurrence: date,
      doseNumber: index + 1,
    });
  });
  record.immunization('imm-mmr-1', { vaccine: 'Measles, mumps and rubella vaccine (MMR)', status: 'completed', occurrence: '2009-09-02', doseNumber: 1 });
  record.immunization('imm-mmr-2', { vaccine: 'Measles, mumps and rubella vaccine (MMR)', status: 'completed', occurrence: '2012-02-21', doseNumber: 2 });
  record.immunization('imm-hpv-1', { vaccine: 'HPV vaccine (Gardasil 9)', status: 'completed', occurrence: '2020-10-06', doseNumber: 1 });
  record.immunization('imm-td-ipv-declined', {
    vaccine: 'Tetanus, diphtheria and polio vaccine (Td/IPV), teenage booster',
    status: 'not-done',
    statusReason: { code: 'PATOBJ', text: 'Declined at the school vaccination session.' },
    occurrence: '2022-11-15',
  });
  record.immunization('imm-menacwy', { vaccine: 'Meningococcal ACWY vaccine', status: 'completed', occurrence: '2022-11-15' });

  return {
    key: 'amelia-brook',
    practiceKey: 'riverside',
    givenNames: ['Amelia', 'Grace'],
    familyName: 'Brook',
    birthDate: '2008-08-14',
    status: 'active',
    portalLogin: 'amelia.brook@example.test',
    resources: record.resources,
  };
}

/** Builds Gareth Llewellyn, inactive because he registered with another practice in 2022. */
function garethLlewellyn(): DemoPatient {
  const record = new RecordBuilder('gareth-llewellyn');

  record.condition('condition-hyperlipidaemia', {
    code: snomed('55822004', 'Hyperlipidemia', 'Hyperlipidaemia'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2018-04-09',
    recordedDate: '2018-04-09',
  });
  record.condition('condition-reflux', {
    code: snomed('235595009', 'Gastroesophageal reflux disease', 'Gastro-oesophageal reflux disease'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2016',
    recordedDate: '2016-11-30',
  });

  record.medicationRequest('rx-atorvastatin', {
    medication: 'Atorvastatin 20 mg tablets',
    status: 'stopped',
    statusReason: 'Registered with another practice',
    authoredOn: '2018-04-16',
    dosage: 'Take one tablet at night.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-omeprazole', {
    medication: 'Omeprazole 20 mg gastro-resistant capsules',
    status: 'stopped',
    statusReason: 'Registered with another practice',
    authoredOn: '2016-11-30',
    dosage: 'Take one capsule once a day before breakfast.',
    courseOfTherapy: 'continuous',
  });

  record.allergy('allergy-plaster', {
    code: textOnly('Adhesive plaster'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    type: 'allergy',
    category: ['environment'],
    criticality: 'low',
    recordedDate: '2012-08-14',
    reactions: [{ manifestations: [textOnly('Blistering where the plaster was')], severity: 'mild' }],
  });

  record.labResult('lab-cholesterol-2018', { test: LAB_TESTS.cholesterol, effective: '2018-04-09T08:30:00+01:00', value: 6.4 });
  record.labResult('lab-cholesterol-2019', { test: LAB_TESTS.cholesterol, effective: '2019-05-20T08:45:00+01:00', value: 4.6 });
  record.labResult('lab-alt-2019', { test: LAB_TESTS.alt, effective: '2019-05-20T08:45:00+01:00', value: 31 });

  return {
    key: 'gareth-llewellyn',
    practiceKey: 'riverside',
    givenNames: ['Gareth'],
    familyName: 'Llewellyn',
    birthDate: '1970-02-14',
    status: 'inactive',
    portalLogin: 'gareth.llewellyn@example.test',
    resources: record.resources,
  };
}

/** Builds Edith Harrow, who died in 2023, with year-precision history and an immunisation dated by text. */
function edithHarrow(): DemoPatient {
  const record = new RecordBuilder('edith-harrow');

  record.condition('condition-heart-failure', {
    code: snomed('84114007', 'Heart failure'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2017-05-22',
    recordedDate: '2017-05-22',
  });
  record.condition('condition-copd', {
    code: snomed('13645005', 'Chronic obstructive lung disease', 'COPD'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2004',
    recordedDate: '2004-11-08',
  });
  record.condition('condition-tuberculosis', {
    code: snomed('56717001', 'Tuberculosis'),
    clinicalStatus: 'resolved',
    verificationStatus: 'confirmed',
    onset: '1952',
    abatement: '1953',
    recordedDate: '1998-03-12',
    note: 'Treated in a sanatorium. Recorded from the patient’s history.',
  });
  record.condition('condition-hip-fracture', {
    code: textOnly('Fracture of neck of femur, right'),
    clinicalStatus: 'resolved',
    verificationStatus: 'confirmed',
    onset: '2019-12-24',
    abatement: '2020-03',
    recordedDate: '2019-12-27',
  });

  record.medicationRequest('rx-furosemide', {
    medication: 'Furosemide 40 mg tablets',
    status: 'stopped',
    statusReason: 'Patient died',
    authoredOn: '2023-08-01',
    dosage: 'Take one tablet each morning.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-bisoprolol', {
    medication: 'Bisoprolol 2.5 mg tablets',
    status: 'stopped',
    statusReason: 'Patient died',
    authoredOn: '2023-08-01',
    dosage: 'Take one tablet once a day.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-tiotropium', {
    medication: 'Tiotropium 2.5 micrograms/dose solution for inhalation',
    status: 'stopped',
    statusReason: 'Patient died',
    authoredOn: '2023-08-01',
    dosage: 'Inhale 2 puffs once a day at the same time each day.',
    courseOfTherapy: 'continuous',
  });
  record.medicationStatement('statement-senna', {
    medication: 'Senna 7.5 mg tablets',
    status: 'stopped',
    effective: { start: '2022-05', end: '2023-11-02' },
    dateAsserted: '2022-06-14',
    dosage: 'Two tablets at night when needed.',
    note: 'Bought from a pharmacy.',
  });

  record.allergy('allergy-sulfonamide', {
    code: textOnly('Sulfonamide antibiotics (co-trimoxazole)'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    type: 'allergy',
    category: ['medication'],
    criticality: 'unable-to-assess',
    recordedDate: '1998-03-12',
    reactions: [{ manifestations: [snomed('271807003', 'Eruption of skin', 'Rash')] }],
    note: 'Reaction in the 1970s. Severity not known.',
  });

  record.immunization('imm-smallpox', {
    vaccine: 'Smallpox vaccine',
    status: 'completed',
    occurrence: { text: 'In childhood. Date not recorded.' },
  });
  record.immunization('imm-flu-2022', {
    vaccine: 'Influenza vaccine, inactivated, adjuvanted',
    status: 'completed',
    occurrence: '2022-10-03',
  });
  record.immunization('imm-covid-spring-2023', {
    vaccine: 'COVID-19 mRNA vaccine (Comirnaty)',
    status: 'completed',
    occurrence: '2023-04-20T11:00:00+01:00',
  });

  const bloods = '2023-09-12T10:00:00+01:00';
  record.labResult('lab-nt-probnp-2023', { test: LAB_TESTS.ntProBnp, effective: bloods, value: 3450 });
  record.labResult('lab-sodium-2023', { test: LAB_TESTS.sodium, effective: bloods, value: 131 });
  record.labResult('lab-potassium-2023', { test: LAB_TESTS.potassium, effective: bloods, value: 5.2 });

  return {
    key: 'edith-harrow',
    practiceKey: 'riverside',
    givenNames: ['Edith'],
    familyName: 'Harrow',
    birthDate: '1931-06-09',
    status: 'deceased',
    deceasedDate: '2023-11-02',
    portalLogin: 'edith.harrow@example.test',
    resources: record.resources,
  };
}

/** Builds Priya Raghunathan, with a dose change through two Medication resources and TSH results high, normal and low. */
function priyaRaghunathan(): DemoPatient {
  const record = new RecordBuilder('priya-raghunathan');

  record.condition('condition-hypothyroidism', {
    code: snomed('40930008', 'Hypothyroidism'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2015-02-10',
    recordedDate: '2015-02-12',
  });
  record.condition('condition-carpal-tunnel', {
    code: textOnly('Carpal tunnel syndrome, right'),
    clinicalStatus: 'resolved',
    verificationStatus: 'confirmed',
    onset: '2015-01',
    abatement: '2015-09',
    recordedDate: '2015-02-12',
  });

  const levothyroxine50 = record.medication('medication-levothyroxine-50', 'Levothyroxine sodium 50 microgram tablets', 'Tablet');
  const levothyroxine75 = record.medication('medication-levothyroxine-75', 'Levothyroxine sodium 75 microgram tablets', 'Tablet');
  record.medicationRequest('rx-levothyroxine-50', {
    medication: levothyroxine50,
    status: 'stopped',
    statusReason: 'Dose increased to 75 micrograms',
    authoredOn: '2015-02-12',
    dosage: 'Take one tablet each morning, 30 minutes before breakfast.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-levothyroxine-75', {
    medication: levothyroxine75,
    status: 'active',
    authoredOn: '2016-02-22',
    dosage: 'Take one tablet each morning, 30 minutes before breakfast.',
    courseOfTherapy: 'continuous',
  });

  record.allergy('allergy-latex', {
    code: snomed('300916003', 'Latex allergy'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    type: 'allergy',
    category: ['environment'],
    criticality: 'low',
    onset: '2008-03',
    recordedDate: '2008-04-01',
    reactions: [{ manifestations: [textOnly('Contact dermatitis')], severity: 'moderate' }],
  });

  record.immunization('imm-covid-1', {
    vaccine: 'COVID-19 vaccine (Vaxzevria)',
    status: 'completed',
    occurrence: '2021-04-10T09:35:00+01:00',
    doseNumber: 1,
  });
  record.immunization('imm-flu-2023', {
    vaccine: 'Influenza vaccine, inactivated, quadrivalent',
    status: 'completed',
    occurrence: '2023-10-20',
  });

  record.labResult('lab-tsh-2015', { test: LAB_TESTS.tsh, effective: '2015-02-10T08:50:00+00:00', value: 12.4 });
  record.labResult('lab-free-t4-2015', { test: LAB_TESTS.freeT4, effective: '2015-02-10T08:50:00+00:00', value: 9.1 });
  record.labResult('lab-tsh-2016-02', { test: LAB_TESTS.tsh, effective: '2016-02-15T09:05:00+00:00', value: 6.1 });
  record.labResult('lab-tsh-2016-08', { test: LAB_TESTS.tsh, effective: '2016-08-20T09:00:00+01:00', value: 2.3 });
  record.labResult('lab-tsh-2023', { test: LAB_TESTS.tsh, effective: '2023-11-14T08:40:00+00:00', value: 0.15 });
  record.labResult('lab-free-t4-2023', { test: LAB_TESTS.freeT4, effective: '2023-11-14T08:40:00+00:00', value: 19.8 });

  return {
    key: 'priya-raghunathan',
    practiceKey: 'riverside',
    givenNames: ['Priya'],
    familyName: 'Raghunathan',
    birthDate: '1975-10-19',
    status: 'active',
    portalLogin: 'priya.raghunathan@example.test',
    resources: record.resources,
  };
}

// ---------------------------------------------------------------------------------------------
// Harbour practice
// ---------------------------------------------------------------------------------------------

/**
 * Builds Aroha Ngātai, treated in Auckland just after midnight on New Year's Day in New Zealand
 * daylight time (+13:00), which is still 31 December in the UK.
 */
function arohaNgatai(): DemoPatient {
  const record = new RecordBuilder('aroha-ngatai');

  record.condition('condition-uti', {
    code: snomed('68566005', 'Urinary tract infectious disease', 'Urinary tract infection'),
    clinicalStatus: 'resolved',
    verificationStatus: 'confirmed',
    onset: '2023-12-31',
    abatement: '2024-01-08',
    recordedDate: '2024-01-10',
    note: 'Treated at an urgent care clinic in Auckland, New Zealand.',
  });
  record.condition('condition-anxiety', {
    code: snomed('197480006', 'Anxiety disorder'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2020-05',
    recordedDate: '2020-06-02',
  });

  record.medicationStatement('statement-nitrofurantoin', {
    medication: 'Nitrofurantoin 100 mg modified-release capsules',
    status: 'completed',
    effective: { start: '2024-01-01T01:05:00+13:00', end: '2024-01-04' },
    dateAsserted: '2024-01-10',
    dosage: 'One capsule twice a day for 3 days.',
    note: 'Prescribed in New Zealand. Recorded from the clinic’s discharge letter.',
  });
  record.medicationRequest('rx-sertraline', {
    medication: 'Sertraline 50 mg tablets',
    status: 'active',
    authoredOn: '2024-06-18',
    dosage: 'Take one tablet once a day.',
    courseOfTherapy: 'continuous',
  });

  record.allergy('allergy-none-known', {
    code: snomed('716186003', 'No known allergy'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    recordedDate: '2020-06-02',
  });

  record.immunization('imm-hepatitis-a', { vaccine: 'Hepatitis A vaccine', status: 'completed', occurrence: '2023-11-20' });
  record.immunization('imm-flu-2024', {
    vaccine: 'Influenza vaccine, inactivated, quadrivalent',
    status: 'completed',
    occurrence: '2024-10-11T17:50:00+01:00',
  });

  record.labResult('lab-urine-culture-nz', {
    test: LAB_TESTS.urineCulture,
    effective: '2024-01-01T00:20:00+13:00',
    issued: '2024-01-02T16:45:00+13:00',
    valueText: 'Escherichia coli, more than 10⁸ CFU/L. Sensitive to nitrofurantoin, resistant to trimethoprim.',
    interpretation: 'A',
  });
  record.labResult('lab-crp-2024-01', { test: LAB_TESTS.crp, effective: '2024-01-09T09:30:00+00:00', value: { comparator: '<', value: 5 } });

  return {
    key: 'aroha-ngatai',
    practiceKey: 'harbour',
    givenNames: ['Aroha'],
    familyName: 'Ngātai',
    birthDate: '1990-01-25',
    status: 'active',
    portalLogin: 'aroha.ngatai@example.test',
    resources: record.resources,
  };
}

/** Builds Eilidh MacLeod, with weekly dosing, a low vitamin D and a two-dose vaccine course. */
function eilidhMacLeod(): DemoPatient {
  const record = new RecordBuilder('eilidh-macleod');

  record.condition('condition-osteoporosis', {
    code: snomed('64859006', 'Osteoporosis'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2020-11-03',
    recordedDate: '2020-11-05',
  });
  record.condition('condition-wrist-fracture', {
    code: textOnly('Fracture of distal radius, right'),
    clinicalStatus: 'resolved',
    verificationStatus: 'confirmed',
    onset: '2020-10-12',
    abatement: '2020-12',
    recordedDate: '2020-10-13',
  });

  record.medicationRequest('rx-alendronic-acid', {
    medication: 'Alendronic acid 70 mg tablets',
    status: 'active',
    authoredOn: '2024-02-19',
    dosage:
      'Take one tablet once a week on the same day. Swallow it whole with a full glass of water before breakfast, and stay upright for 30 minutes.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-calcium-vitamin-d', {
    medication: 'Calcium carbonate 1.5 g / colecalciferol 400 unit chewable tablets',
    status: 'active',
    authoredOn: '2024-02-19',
    dosage: 'Chew one tablet twice a day.',
    courseOfTherapy: 'continuous',
  });

  record.allergy('intolerance-ibuprofen', {
    code: textOnly('Ibuprofen'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    type: 'intolerance',
    category: ['medication'],
    criticality: 'low',
    recordedDate: '2016-05-03',
    reactions: [{ manifestations: [textOnly('Indigestion')], severity: 'mild' }],
  });

  record.immunization('imm-shingles-1', { vaccine: 'Shingles vaccine (Shingrix)', status: 'completed', occurrence: '2023-09-12', doseNumber: 1 });
  record.immunization('imm-shingles-2', { vaccine: 'Shingles vaccine (Shingrix)', status: 'completed', occurrence: '2023-11-21', doseNumber: 2 });
  record.immunization('imm-flu-2024', {
    vaccine: 'Influenza vaccine, inactivated, quadrivalent',
    status: 'completed',
    occurrence: '2024-10-02',
  });

  const bloods = '2020-11-03T09:25:00+00:00';
  record.labResult('lab-adjusted-calcium-2020', { test: LAB_TESTS.adjustedCalcium, effective: bloods, value: 2.38 });
  record.labResult('lab-vitamin-d-2020', { test: LAB_TESTS.vitaminD, effective: bloods, value: 28 });
  record.labResult('lab-alkaline-phosphatase-2020', { test: LAB_TESTS.alkalinePhosphatase, effective: bloods, value: 95 });

  return {
    key: 'eilidh-macleod',
    practiceKey: 'harbour',
    givenNames: ['Eilidh'],
    familyName: 'MacLeod',
    birthDate: '1958-08-03',
    status: 'active',
    portalLogin: 'eilidh.macleod@example.test',
    resources: record.resources,
  };
}

/** Builds Rhys ap Gwilym, whose family name starts with a lower-case particle. */
function rhysApGwilym(): DemoPatient {
  const record = new RecordBuilder('rhys-ap-gwilym');

  record.condition('condition-bph', {
    code: snomed('266569009', 'Benign prostatic hyperplasia'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2021-03',
    recordedDate: '2021-03-10',
  });
  record.condition('condition-psoriasis', {
    code: snomed('9014002', 'Psoriasis'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '1995',
    recordedDate: '1999-07-21',
    note: 'Scalp and elbows.',
  });

  record.medicationRequest('rx-tamsulosin', {
    medication: 'Tamsulosin 400 microgram modified-release capsules',
    status: 'active',
    authoredOn: '2024-03-12',
    dosage: 'Take one capsule once a day after the same meal each day.',
    courseOfTherapy: 'continuous',
  });
  record.medicationRequest('rx-scalp-gel', {
    medication: 'Calcipotriol / betamethasone dipropionate gel',
    status: 'active',
    authoredOn: '2024-03-12',
    dosage: 'Apply to the affected areas of the scalp once a day for up to 4 weeks.',
    courseOfTherapy: 'continuous',
  });

  record.allergy('allergy-penicillin', {
    code: snomed('91936005', 'Allergy to penicillin'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    type: 'allergy',
    category: ['medication'],
    criticality: 'low',
    onset: '1984',
    recordedDate: '1999-07-21',
    reactions: [{ manifestations: [snomed('271807003', 'Eruption of skin', 'Rash')], severity: 'mild' }],
  });

  record.immunization('imm-covid-1', {
    vaccine: 'COVID-19 vaccine (Vaxzevria)',
    status: 'completed',
    occurrence: '2021-05-04T13:20:00+01:00',
    doseNumber: 1,
  });
  record.immunization('imm-flu-2024', {
    vaccine: 'Influenza vaccine, inactivated, quadrivalent',
    status: 'completed',
    occurrence: '2024-10-09',
  });

  record.labResult('lab-psa-2021', { test: LAB_TESTS.psa, effective: '2021-03-10T08:35:00+00:00', value: 2.1 });
  record.labResult('lab-psa-2024', { test: LAB_TESTS.psa, effective: '2024-03-12T08:50:00+00:00', value: 2.4 });
  record.labResult('lab-hba1c-2024', { test: LAB_TESTS.hba1c, effective: '2024-03-12T08:50:00+00:00', value: 38 });

  return {
    key: 'rhys-ap-gwilym',
    practiceKey: 'harbour',
    givenNames: ['Rhys'],
    familyName: 'ap Gwilym',
    birthDate: '1966-12-01',
    status: 'active',
    portalLogin: 'rhys.apgwilym@example.test',
    resources: record.resources,
  };
}

// ---------------------------------------------------------------------------------------------
// Exports
// ---------------------------------------------------------------------------------------------

/** All demo patients: twelve at Riverside, then three at Harbour. */
export const demoPatients: DemoPatient[] = [
  siobhanOBrien(),
  declanOBrien(),
  zoeAshworthClarke(),
  maryPemberton(),
  joseMartinezGarcia(),
  lucjaWisniewska(),
  chidiOkafor(),
  oliverBennett(),
  ameliaBrook(),
  garethLlewellyn(),
  edithHarrow(),
  priyaRaghunathan(),
  arohaNgatai(),
  eilidhMacLeod(),
  rhysApGwilym(),
];

/** Builds the FHIR R4 Patient resource of a demo patient, with the key as its id. */
export function demoPatientResource(patient: DemoPatient): FhirResource {
  let deceased: Record<string, unknown> = {};
  if (patient.status === 'deceased') {
    deceased = patient.deceasedDate === undefined ? { deceasedBoolean: true } : { deceasedDateTime: patient.deceasedDate };
  }

  return {
    resourceType: 'Patient',
    id: patient.key,
    active: patient.status !== 'inactive',
    name: [{ use: 'official', family: patient.familyName, given: [...patient.givenNames] }],
    birthDate: patient.birthDate,
    ...deceased,
  };
}

/**
 * Builds a FHIR R4 collection Bundle of the patient's Patient resource followed by their
 * record, in the form `parseBundle` reads.
 */
export function demoPatientBundle(patient: DemoPatient): {
  resourceType: 'Bundle';
  type: 'collection';
  entry: Array<{ fullUrl: string; resource: FhirResource }>;
} {
  const resources = [demoPatientResource(patient), ...patient.resources];
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: resources.map((resource) => ({
      fullUrl: `${DEMO_FHIR_BASE_URL}/${resource.resourceType}/${String(resource.id)}`,
      resource,
    })),
  };
}
