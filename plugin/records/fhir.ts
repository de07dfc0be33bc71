/**
 * Hand-written types for the FHIR R4 elements the clinical record views read, and readers
 * that take host JSON as `unknown`. The types describe well-formed R4 resources. Readers
 * never trust them, because a host may send a resource that breaks its profile, and one
 * malformed field must not take down the whole page.
 *
 * Element names follow FHIR R4 (4.0.1); only the elements the plugin reads are declared.
 */

export interface Coding {
  system?: string;
  version?: string;
  code?: string;
  display?: string;
}

export interface CodeableConcept {
  coding?: Coding[];
  text?: string;
}

export interface Reference {
  reference?: string;
  display?: string;
}

/** Quantity comparator (R4 `QuantityComparator`): how to read the value, as in "< 5". */
export type QuantityComparator = '<' | '<=' | '>=' | '>';

export interface Quantity {
  value?: number;
  comparator?: QuantityComparator;
  /** Human-readable unit, for example `mmol/L`. */
  unit?: string;
  /** System of the coded unit, usually UCUM (`http://unitsofmeasure.org`). */
  system?: string;
  code?: string;
}

export interface Range {
  low?: Quantity;
  high?: Quantity;
}

export interface Ratio {
  numerator?: Quantity;
  denominator?: Quantity;
}

export interface Period {
  start?: string;
  end?: string;
}

/** Observation.referenceRange. `low` and `high` are inclusive bounds. */
export interface ReferenceRange {
  low?: Quantity;
  high?: Quantity;
  type?: CodeableConcept;
  appliesTo?: CodeableConcept[];
  age?: Range;
  text?: string;
}

export interface Timing {
  repeat?: {
    frequency?: number;
    period?: number;
    periodUnit?: 's' | 'min' | 'h' | 'd' | 'wk' | 'mo' | 'a';
  };
}

export interface Dosage {
  sequence?: number;
  text?: string;
  patientInstruction?: string;
  timing?: Timing;
  asNeededBoolean?: boolean;
  asNeededCodeableConcept?: CodeableConcept;
  route?: CodeableConcept;
  doseAndRate?: Array<{ type?: CodeableConcept; doseQuantity?: Quantity; doseRange?: Range }>;
}

interface DomainResource {
  id?: string;
  /** Other resources carried inside this one, addressed by `#id` references. */
  contained?: Array<{ resourceType: string; id?: string; [element: string]: unknown }>;
}

export interface Condition extends DomainResource {
  resourceType: 'Condition';
  clinicalStatus?: CodeableConcept;
  verificationStatus?: CodeableConcept;
  category?: CodeableConcept[];
  code?: CodeableConcept;
  onsetDateTime?: string;
  onsetAge?: Quantity;
  onsetPeriod?: Period;
  onsetRange?: Range;
  onsetString?: string;
  abatementDateTime?: string;
  abatementAge?: Quantity;
  abatementPeriod?: Period;
  abatementRange?: Range;
  abatementString?: string;
  recordedDate?: string;
}

export type MedicationRequestStatus =
  | 'active'
  | 'on-hold'
  | 'cancelled'
  | 'completed'
  | 'entered-in-error'
  | 'stopped'
  | 'draft'
  | 'unknown';

export interface MedicationRequest extends DomainResource {
  resourceType: 'MedicationRequest';
  status?: MedicationRequestStatus;
  intent?: string;
  /** True when the request is an order not to give the medication. */
  doNotPerform?: boolean;
  medicationCodeableConcept?: CodeableConcept;
  medicationReference?: Reference;
  authoredOn?: string;
  dosageInstruction?: Dosage[];
}

export type MedicationStatementStatus =
  | 'active'
  | 'completed'
  | 'entered-in-error'
  | 'intended'
  | 'stopped'
  | 'on-hold'
  | 'unknown'
  | 'not-taken';

export interface MedicationStatement extends DomainResource {
  resourceType: 'MedicationStatement';
  status?: MedicationStatementStatus;
  medicationCodeableConcept?: CodeableConcept;
  medicationReference?: Reference;
  effectiveDateTime?: string;
  effectivePeriod?: Period;
  dateAsserted?: string;
  dosage?: Dosage[];
}

export interface Medication extends DomainResource {
  resourceType: 'Medication';
  code?: CodeableConcept;
}

export interface AllergyIntoleranceReaction {
  substance?: CodeableConcept;
  manifestation?: CodeableConcept[];
  description?: string;
  onset?: string;
  severity?: 'mild' | 'moderate' | 'severe';
}

export interface AllergyIntolerance extends DomainResource {
  resourceType: 'AllergyIntolerance';
  clinicalStatus?: CodeableConcept;
  verificationStatus?: CodeableConcept;
  type?: 'allergy' | 'intolerance';
  category?: Array<'food' | 'medication' | 'environment' | 'biologic'>;
  criticality?: 'low' | 'high' | 'unable-to-assess';
  code?: CodeableConcept;
  onsetDateTime?: string;
  onsetAge?: Quantity;
  onsetPeriod?: Period;
  onsetRange?: Range;
  onsetString?: string;
  recordedDate?: string;
  reaction?: AllergyIntoleranceReaction[];
}

export interface Immunization extends DomainResource {
  resourceType: 'Immunization';
  status?: 'completed' | 'entered-in-error' | 'not-done';
  statusReason?: CodeableConcept;
  vaccineCode?: CodeableConcept;
  occurrenceDateTime?: string;
  occurrenceString?: string;
  /** True when the dose does not count towards immunity, for example a partial dose. */
  isSubpotent?: boolean;
  protocolApplied?: Array<{ doseNumberPositiveInt?: number; doseNumberString?: string }>;
}

export type ObservationStatus =
  | 'registered'
  | 'preliminary'
  | 'final'
  | 'amended'
  | 'corrected'
  | 'cancelled'
  | 'entered-in-error'
  | 'unknown';

/** The value[x] choices of Observation and Observation.component in R4. */
export interface ObservationValue {
  valueQuantity?: Quantity;
  valueCodeableConcept?: CodeableConcept;
  valueString?: string;
  valueBoolean?: boolean;
  valueInteger?: number;
  valueRange?: Range;
  valueRatio?: Ratio;
  valueSampledData?: unknown;
  valueTime?: string;
  valueDateTime?: string;
  valuePeriod?: Period;
  dataAbsentReason?: CodeableConcept;
  interpretation?: CodeableConcept[];
  referenceRange?: ReferenceRange[];
}

export interface ObservationComponent extends ObservationValue {
  code?: CodeableConcept;
}

export interface Observation extends DomainResource, ObservationValue {
  resourceType: 'Observation';
  status?: ObservationStatus;
  category?: CodeableConcept[];
  code?: CodeableConcept;
  effectiveDateTime?: string;
  effectivePeriod?: Period;
  effectiveInstant?: string;
  issued?: string;
  component?: ObservationComponent[];
}

/** Code system URIs the plugin reads codes from. */
export const CodeSystem = {
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  allergyClinical: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
  allergyVerification: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  observationInterpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  /** HL7 v2 table 0078, the older home of the same interpretation codes (H, L, A …). */
  observationInterpretationV2: 'http://terminology.hl7.org/CodeSystem/v2-0078',
  referenceRangeMeaning: 'http://terminology.hl7.org/CodeSystem/referencerange-meaning',
  snomedCt: 'http://snomed.info/sct',
  ucum: 'http://unitsofmeasure.org',
} as const;

/** Names shown in place of well-known system URIs when a concept has only a code. */
const SYSTEM_NAMES: Readonly<Record<string, string>> = {
  'http://snomed.info/sct': 'SNOMED CT',
  'http://loinc.org': 'LOINC',
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'RxNorm',
  'http://hl7.org/fhir/sid/icd-10': 'ICD-10',
  'http://hl7.org/fhir/sid/icd-10-cm': 'ICD-10-CM',
  'http://hl7.org/fhir/sid/cvx': 'CVX',
  'https://dmd.nhs.uk': 'dm+d',
};

/** Returns the value when it is a string with at least one non-space character, else null. */
export function nonEmptyString(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') {
    return null;
  }
  return value;
}

/** Returns the value when it is a finite number, else null. */
export function finiteNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Returns the value when it is a plain object, else null. */
export function asRecord(value: unknown): Record<string, unknown> | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return null;
  }
  return value as Record<string, unknown>;
}

/** Returns the objects of an array, skipping anything else, and [] for a non-array. */
export function recordsOf(value: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(value)) {
    return [];
  }
  const records: Array<Record<string, unknown>> = [];
  for (const item of value) {
    const record = asRecord(item);
    if (record !== null) {
      records.push(record);
    }
  }
  return records;
}

/** Returns the codings of a CodeableConcept, with fields that are not strings left out. */
function codingsOf(concept: unknown): Coding[] {
  const record = asRecord(concept);
  if (record === null) {
    return [];
  }
  return recordsOf(record.coding).map((coding) => ({
    system: nonEmptyString(coding.system) ?? undefined,
    code: nonEmptyString(coding.code) ?? undefined,
    display: nonEmptyString(coding.display) ?? undefined,
  }));
}

/**
 * Returns the first code in `concept` from `system`. A coding without a system also counts,
 * because the status elements read this way have a required binding that fixes the system.
 */
export function codeFrom(concept: unknown, system: string): string | null {
  for (const coding of codingsOf(concept)) {
    if (coding.code !== undefined && (coding.system === undefined || coding.system === system)) {
      return coding.code;
    }
  }
  return null;
}

/** Returns every code in `concept` from one of `systems`, or from a coding without a system. */
export function codesFrom(concept: unknown, systems: readonly string[]): string[] {
  const codes: string[] = [];
  for (const coding of codingsOf(concept)) {
    if (coding.code !== undefined && (coding.system === undefined || systems.includes(coding.system))) {
      codes.push(coding.code);
    }
  }
  return codes;
}

/** Reports whether `concept` has a coding with exactly this system and code. */
export function hasCoding(concept: unknown, system: string, code: string): boolean {
  return codingsOf(concept).some((coding) => coding.system === system && coding.code === code);
}

/**
 * Returns the text a person should read for a CodeableConcept: its `text`, else the first
 * coding's `display`, else the first code with its system ("SNOMED CT 15777000", or
 * "15777000 (urn:example)" for a system without a short name). Returns null when the
 * concept is missing, malformed or carries none of these. The text is returned raw, so the
 * template must escape it.
 */
export function displayText(concept: unknown): string | null {
  const record = asRecord(concept);
  if (record === null) {
    return null;
  }

  const text = nonEmptyString(record.text);
  if (text !== null) {
    return text;
  }

  const codings = codingsOf(concept);
  const withDisplay = codings.find((coding) => coding.display !== undefined);
  if (withDisplay?.display !== undefined) {
    return withDisplay.display;
  }

  const withCode = codings.find((coding) => coding.code !== undefined);
  if (withCode?.code === undefined) {
    return null;
  }
  if (withCode.system === undefined) {
    return withCode.code;
  }
  const systemName = SYSTEM_NAMES[withCode.system];
  return systemName !== undefined ? `${systemName} ${withCode.code}` : `${withCode.code} (${withCode.system})`;
}
