/** The medications section, built from MedicationRequest and MedicationStatement resources. */
import type { FhirResource } from '../host/contract.js';
import {
  asRecord,
  displayText,
  finiteNumber,
  nonEmptyString,
  recordsOf,
  type MedicationRequestStatus,
  type MedicationStatementStatus,
} from './fhir.js';
import type { RecordFormatters } from './formatters.js';
import { readQuantity, type QuantityView } from './quantities.js';
import { isCurrentMedication, type StatusLabel, type VisibleEntry } from './status-rules.js';
import {
  listState,
  readDate,
  resourceId,
  sortByRankThenNewest,
  type DateView,
  type ListState,
} from './view-parts.js';

export type MedicationStatus = MedicationRequestStatus | MedicationStatementStatus;

const MEDICATION_STATUSES: readonly string[] = [
  'active',
  'on-hold',
  'cancelled',
  'completed',
  'stopped',
  'draft',
  'unknown',
  'intended',
  'not-taken',
];

const PERIOD_UNITS: readonly string[] = ['s', 'min', 'h', 'd', 'wk', 'mo', 'a'];

/**
 * One Dosage. `text` and `patientInstruction` are the host's own words. The structured
 * fields let a template word a dosage that has no text: dose 1, frequency 1 and period 1 d
 * can read "1 once a day".
 */
export interface DosageView {
  text: string | null;
  patientInstruction: string | null;
  /** The first doseAndRate.doseQuantity. */
  dose: QuantityView | null;
  /** Timing.repeat: `frequency` times per `period` `periodUnit` (UCUM: s, min, h, d, wk, mo, a). */
  frequency: number | null;
  period: number | null;
  periodUnit: string | null;
  /** True when taken only as needed, false when taken regularly, null when the host did not record it. */
  asNeeded: boolean | null;
  asNeededReason: string | null;
}

export interface MedicationView {
  id: string | null;
  resourceType: 'MedicationRequest' | 'MedicationStatement';
  /** The medication's name, or null when neither the resource nor the host gives one. */
  name: string | null;
  dosages: DosageView[];
  status: MedicationStatus | null;
  /** True for a current medication: active or on hold, or intended for a MedicationStatement. */
  current: boolean;
  date: DateView | null;
  /** Element `date` came from, so the template can choose between "prescribed" and "taken from". */
  dateKind: 'authoredOn' | 'effective' | 'dateAsserted' | null;
  /** `do-not-perform` for an order not to take the medication, else null. */
  label: StatusLabel | null;
}

export interface MedicationsView {
  section: 'medications';
  state: ListState;
  /** Current medications first, then each group by date, newest first. */
  items: MedicationView[];
}

/** Finds a Medication carried inside the resource and addressed by a `#id` reference. */
function findContainedMedication(resource: FhirResource, reference: string | null): Record<string, unknown> | null {
  if (reference === null || !reference.startsWith('#')) {
    return null;
  }
  const id = reference.slice(1);
  return recordsOf(resource.contained).find(
    (contained) => contained.resourceType === 'Medication' && contained.id === id,
  ) ?? null;
}

/**
 * Names the medication from, in order: the inline medicationCodeableConcept, the Medication
 * the host resolved from medicationReference, a contained Medication, and the reference's
 * display text.
 */
function findMedicationName(resource: FhirResource, medication: FhirResource | undefined): string | null {
  const inline = displayText(resource.medicationCodeableConcept);
  if (inline !== null) {
    return inline;
  }

  if (medication?.resourceType === 'Medication') {
    const resolved = displayText(medication.code);
    if (resolved !== null) {
      return resolved;
    }
  }

  const reference = asRecord(resource.medicationReference);
  const contained = findContainedMedication(resource, nonEmptyString(reference?.reference));
  const containedName = contained === null ? null : displayText(contained.code);
  if (containedName !== null) {
    return containedName;
  }
  return nonEmptyString(reference?.display);
}

function readDosage(dosage: Record<string, unknown>, formatters: RecordFormatters): DosageView {
  const repeat = asRecord(asRecord(dosage.timing)?.repeat) ?? {};
  const doseQuantity = recordsOf(dosage.doseAndRate)
    .map((doseAndRate) => readQuantity(doseAndRate.doseQuantity, formatters))
    .find((dose) => dose !== null) ?? null;
  const periodUnit = nonEmptyString(repeat.periodUnit);
  const asNeededReason = displayText(dosage.asNeededCodeableConcept);

  let asNeeded: boolean | null = null;
  if (typeof dosage.asNeededBoolean === 'boolean') {
    asNeeded = dosage.asNeededBoolean;
  } else if (asNeededReason !== null) {
    asNeeded = true;
  }

  return {
    text: nonEmptyString(dosage.text),
    patientInstruction: nonEmptyString(dosage.patientInstruction),
    dose: doseQuantity,
    frequency: finiteNumber(repeat.frequency),
    period: finiteNumber(repeat.period),
    periodUnit: periodUnit !== null && PERIOD_UNITS.includes(periodUnit) ? periodUnit : null,
    asNeeded,
    asNeededReason,
  };
}

function readMedicationDate(
  resource: FhirResource,
  formatters: RecordFormatters,
): Pick<MedicationView, 'date' | 'dateKind'> {
  if (resource.resourceType === 'MedicationRequest') {
    const authoredOn = readDate(resource.authoredOn, formatters);
    return { date: authoredOn, dateKind: authoredOn === null ? null : 'authoredOn' };
  }

  const effective = readDate(resource.effectiveDateTime, formatters) ??
    readDate(asRecord(resource.effectivePeriod)?.start, formatters);
  if (effective !== null) {
    return { date: effective, dateKind: 'effective' };
  }
  const asserted = readDate(resource.dateAsserted, formatters);
  return { date: asserted, dateKind: asserted === null ? null : 'dateAsserted' };
}

function buildMedication(visible: VisibleEntry, formatters: RecordFormatters): MedicationView {
  const { resource, medication } = visible.entry;
  const isRequest = resource.resourceType === 'MedicationRequest';
  const status = nonEmptyString(resource.status);
  const dosages = recordsOf(isRequest ? resource.dosageInstruction : resource.dosage);

  return {
    id: resourceId(resource),
    resourceType: isRequest ? 'MedicationRequest' : 'MedicationStatement',
    name: findMedicationName(resource, medication),
    dosages: dosages.map((dosage) => readDosage(dosage, formatters)),
    status: status !== null && MEDICATION_STATUSES.includes(status) ? (status as MedicationStatus) : null,
    current: isCurrentMedication(resource),
    ...readMedicationDate(resource, formatters),
    label: visible.label,
  };
}

/** Builds the medications section. */
export function buildMedicationsView(items: readonly VisibleEntry[], formatters: RecordFormatters): MedicationsView {
  const medications = items.map((item) => buildMedication(item, formatters));
  const sorted = sortByRankThenNewest(
    medications,
    (medication) => (medication.current ? 0 : 1),
    (medication) => medication.date?.sortKey ?? null,
  );
  return { section: 'medications', state: listState(sorted), items: sorted };
}
