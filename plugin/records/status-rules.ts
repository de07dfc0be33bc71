/**
 * The FHIR status stage of the clinical record pipeline: host resources, then these rules,
 * then the practice's release rules, then view models. It decides from FHIR R4's own status
 * elements which resources are shown to the patient and which status label each one carries.
 *
 * - A record entered in error never shows.
 * - A refuted condition or allergy never shows. An unconfirmed, provisional or differential
 *   one shows with that label.
 * - A MedicationRequest in draft never shows, because it is not yet authorised. One with
 *   `doNotPerform` shows, labelled, because it is an order not to take the medication.
 * - An Immunization with status not-done shows with the label `not-done`. The view lists it
 *   apart from the doses, because no vaccine was given.
 * - A lab Observation shows when it is final, amended, corrected or preliminary. Every status
 *   but final is labelled. Registered, cancelled and unknown results never show, and neither
 *   does an Observation without the category laboratory.
 * - A resource of a type the section does not hold never shows.
 */
import type { ClinicalRecordEntry, ClinicalSection, FhirResource } from '../host/contract.js';
import { asRecord, CodeSystem, codeFrom, hasCoding, nonEmptyString, recordsOf } from './fhir.js';

/**
 * Status label key shown beside an item. Templates translate the key, for example
 * `clinicalAccess.records.label.unconfirmed`.
 */
export type StatusLabel =
  | 'unconfirmed'
  | 'provisional'
  | 'differential'
  | 'preliminary'
  | 'amended'
  | 'corrected'
  | 'do-not-perform'
  | 'subpotent'
  | 'not-done';

/** Reason the status stage hid a resource, so callers can count hidden resources by cause. */
export type HiddenReason =
  | 'unexpected-resource-type'
  | 'entered-in-error'
  | 'refuted'
  | 'not-laboratory'
  | 'status-missing'
  | 'status-not-shown';

export type StatusDecision =
  | { visible: true; label: StatusLabel | null }
  | { visible: false; reason: HiddenReason };

/** An entry that passed the status stage, with the label it carries. */
export interface VisibleEntry {
  entry: ClinicalRecordEntry;
  label: StatusLabel | null;
}

/** The resource types each section holds. */
export const SECTION_RESOURCE_TYPES: Readonly<Record<ClinicalSection, readonly string[]>> = {
  problems: ['Condition'],
  medications: ['MedicationRequest', 'MedicationStatement'],
  allergies: ['AllergyIntolerance'],
  immunisations: ['Immunization'],
  labResults: ['Observation'],
};

function shown(label: StatusLabel | null = null): StatusDecision {
  return { visible: true, label };
}

function hidden(reason: HiddenReason): StatusDecision {
  return { visible: false, reason };
}

function decideCondition(resource: FhirResource): StatusDecision {
  const verification = codeFrom(resource.verificationStatus, CodeSystem.conditionVerification);
  switch (verification) {
    case 'entered-in-error':
      return hidden('entered-in-error');
    case 'refuted':
      return hidden('refuted');
    case 'unconfirmed':
    case 'provisional':
    case 'differential':
      return shown(verification);
    default:
      return shown();
  }
}

function decideAllergyIntolerance(resource: FhirResource): StatusDecision {
  const verification = codeFrom(resource.verificationStatus, CodeSystem.allergyVerification);
  switch (verification) {
    case 'entered-in-error':
      return hidden('entered-in-error');
    case 'refuted':
      return hidden('refuted');
    case 'unconfirmed':
      return shown('unconfirmed');
    default:
      return shown();
  }
}

/**
 * Decides a MedicationRequest or MedicationStatement. One without a status still shows,
 * with no status, because hiding it could hide a medication the patient takes.
 */
function decideMedication(resource: FhirResource): StatusDecision {
  const status = nonEmptyString(resource.status);
  if (status === 'entered-in-error') {
    return hidden('entered-in-error');
  }
  if (resource.resourceType === 'MedicationRequest') {
    if (status === 'draft') {
      return hidden('status-not-shown');
    }
    if (resource.doNotPerform === true) {
      return shown('do-not-perform');
    }
  }
  return shown();
}

function decideImmunization(resource: FhirResource): StatusDecision {
  const status = nonEmptyString(resource.status);
  switch (status) {
    case null:
      return hidden('status-missing');
    case 'entered-in-error':
      return hidden('entered-in-error');
    case 'not-done':
      return shown('not-done');
    case 'completed':
      return shown(resource.isSubpotent === true ? 'subpotent' : null);
    default:
      return hidden('status-not-shown');
  }
}

/** Reports whether an Observation carries the category laboratory. */
export function isLaboratoryObservation(resource: FhirResource): boolean {
  return recordsOf(resource.category).some((category) =>
    hasCoding(category, CodeSystem.observationCategory, 'laboratory'),
  );
}

function decideObservation(resource: FhirResource): StatusDecision {
  const status = nonEmptyString(resource.status);
  if (status === 'entered-in-error') {
    return hidden('entered-in-error');
  }
  if (!isLaboratoryObservation(resource)) {
    return hidden('not-laboratory');
  }
  switch (status) {
    case null:
      return hidden('status-missing');
    case 'final':
      return shown();
    case 'preliminary':
    case 'amended':
    case 'corrected':
      return shown(status);
    default:
      return hidden('status-not-shown');
  }
}

/** Decides whether one resource shows in a section and which label it carries. */
export function decideStatus(section: ClinicalSection, resource: FhirResource): StatusDecision {
  if (!SECTION_RESOURCE_TYPES[section].includes(resource.resourceType)) {
    return hidden('unexpected-resource-type');
  }
  switch (resource.resourceType) {
    case 'Condition':
      return decideCondition(resource);
    case 'AllergyIntolerance':
      return decideAllergyIntolerance(resource);
    case 'MedicationRequest':
    case 'MedicationStatement':
      return decideMedication(resource);
    case 'Immunization':
      return decideImmunization(resource);
    default:
      return decideObservation(resource);
  }
}

/** Keeps the entries that show in a section, each with its status label, in host order. */
export function applyStatusRules(section: ClinicalSection, entries: readonly ClinicalRecordEntry[]): VisibleEntry[] {
  const visible: VisibleEntry[] = [];
  for (const entry of entries) {
    // A host that breaks the contract may send an entry without a resource; skip it.
    if (asRecord(entry?.resource) === null || typeof entry.resource.resourceType !== 'string') {
      continue;
    }
    const decision = decideStatus(section, entry.resource);
    if (decision.visible) {
      visible.push({ entry, label: decision.label });
    }
  }
  return visible;
}

/**
 * Reports whether a medication is current: a MedicationRequest that is active or on hold,
 * or a MedicationStatement that is active, on hold or intended. An order not to give the
 * medication (`doNotPerform`) is never current.
 */
export function isCurrentMedication(resource: FhirResource): boolean {
  const status = nonEmptyString(resource.status);
  if (resource.resourceType === 'MedicationRequest') {
    return resource.doNotPerform !== true && (status === 'active' || status === 'on-hold');
  }
  if (resource.resourceType === 'MedicationStatement') {
    return status === 'active' || status === 'on-hold' || status === 'intended';
  }
  return false;
}
