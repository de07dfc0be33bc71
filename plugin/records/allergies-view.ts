/**
 * The allergies section, built from AllergyIntolerance resources.
 *
 * Three states must never be confused: no allergy information recorded at all, a clinician's
 * record that the patient has no known allergies, and a list of allergies. A record of "no
 * known allergy" is an AllergyIntolerance whose code is a negation code, so it is pulled out
 * of the list rather than shown as an allergy named "No known allergy".
 */
import type { FhirResource } from '../host/contract.js';
import { CodeSystem, codeFrom, displayText, hasCoding, nonEmptyString, recordsOf } from './fhir.js';
import type { RecordFormatters } from './formatters.js';
import type { StatusLabel, VisibleEntry } from './status-rules.js';
import { readDate, readOnset, resourceId, sortByRankThenNewest, type DateView, type OnsetView } from './view-parts.js';

/** Kind of allergy a "no known allergy" record rules out. Keys match AllergyIntolerance.category where one exists. */
export type NoKnownAllergyScope = 'all' | 'medication' | 'food' | 'environment' | 'insect' | 'latex' | 'animal';

/** SNOMED CT codes for "no known … allergy" (situations under 716186003 "No known allergy"). */
const SNOMED_NO_KNOWN_ALLERGY: Readonly<Record<string, NoKnownAllergyScope>> = {
  '716186003': 'all',
  '409137002': 'medication',
  '429625007': 'food',
  '428607008': 'environment',
  '428197003': 'insect',
  '716184000': 'latex',
  '716220001': 'animal',
};

/** The International Patient Summary's codes for absent allergy information. */
const IPS_ABSENT_UNKNOWN = 'http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips';
const IPS_NO_KNOWN_ALLERGY: Readonly<Record<string, NoKnownAllergyScope>> = {
  'no-known-allergies': 'all',
  'no-known-medication-allergies': 'medication',
  'no-known-food-allergies': 'food',
  'no-known-environmental-allergies': 'environment',
};

export type AllergyClinicalStatus = 'active' | 'inactive' | 'resolved';
const CLINICAL_STATUSES: readonly string[] = ['active', 'inactive', 'resolved'];
const CRITICALITIES: readonly string[] = ['low', 'high', 'unable-to-assess'];
const SEVERITIES: readonly string[] = ['mild', 'moderate', 'severe'];
const TYPES: readonly string[] = ['allergy', 'intolerance'];
const CATEGORIES: readonly string[] = ['food', 'medication', 'environment', 'biologic'];

export interface AllergyReactionView {
  substance: string | null;
  /** Signs and symptoms, for example "Hives". */
  manifestations: string[];
  severity: 'mild' | 'moderate' | 'severe' | null;
  description: string | null;
  onset: DateView | null;
}

export interface AllergyView {
  id: string | null;
  /** The substance or allergy (AllergyIntolerance.code) as text. */
  substance: string | null;
  type: 'allergy' | 'intolerance' | null;
  categories: Array<'food' | 'medication' | 'environment' | 'biologic'>;
  clinicalStatus: AllergyClinicalStatus | null;
  criticality: 'low' | 'high' | 'unable-to-assess' | null;
  reactions: AllergyReactionView[];
  onset: OnsetView | null;
  recorded: DateView | null;
  /** `unconfirmed`, else null. */
  label: StatusLabel | null;
}

/** A record that the patient has no known allergy of a kind. */
export interface NoKnownAllergyView {
  id: string | null;
  scope: NoKnownAllergyScope;
  /** The code's text as the host recorded it, for example "No known drug allergy". */
  text: string | null;
  recorded: DateView | null;
  label: StatusLabel | null;
}

/**
 * `none-recorded`: nothing about allergies is recorded, which is not the same as having none.
 * `no-known-allergies`: a clinician recorded no known allergies, and no allergy is listed.
 * `list`: at least one allergy or intolerance.
 */
export type AllergiesState = 'none-recorded' | 'no-known-allergies' | 'list';

export interface AllergiesView {
  section: 'allergies';
  state: AllergiesState;
  /** Active allergies first, then high criticality first, then newest first. */
  items: AllergyView[];
  /** Current "no known allergy" records that no listed allergy contradicts. */
  noKnownAllergies: NoKnownAllergyView[];
}

type AllergyCodeKind = { kind: 'no-known-allergy'; scope: NoKnownAllergyScope } | { kind: 'no-information' } | { kind: 'substance' };

/** Classifies an AllergyIntolerance.code as a negation, a statement of no information, or a substance. */
export function classifyAllergyCode(code: unknown): AllergyCodeKind {
  for (const [snomedCode, scope] of Object.entries(SNOMED_NO_KNOWN_ALLERGY)) {
    if (hasCoding(code, CodeSystem.snomedCt, snomedCode)) {
      return { kind: 'no-known-allergy', scope };
    }
  }
  for (const [ipsCode, scope] of Object.entries(IPS_NO_KNOWN_ALLERGY)) {
    if (hasCoding(code, IPS_ABSENT_UNKNOWN, ipsCode)) {
      return { kind: 'no-known-allergy', scope };
    }
  }
  if (hasCoding(code, IPS_ABSENT_UNKNOWN, 'no-allergy-info')) {
    return { kind: 'no-information' };
  }
  return { kind: 'substance' };
}

function pickKnown<Code extends string>(value: unknown, allowed: readonly string[]): Code | null {
  const text = nonEmptyString(value);
  return text !== null && allowed.includes(text) ? (text as Code) : null;
}

function readClinicalStatus(resource: FhirResource): AllergyClinicalStatus | null {
  return pickKnown(codeFrom(resource.clinicalStatus, CodeSystem.allergyClinical), CLINICAL_STATUSES);
}

function readReaction(reaction: Record<string, unknown>, formatters: RecordFormatters): AllergyReactionView {
  return {
    substance: displayText(reaction.substance),
    manifestations: recordsOf(reaction.manifestation)
      .map((manifestation) => displayText(manifestation))
      .filter((text): text is string => text !== null),
    severity: pickKnown(reaction.severity, SEVERITIES),
    description: nonEmptyString(reaction.description),
    onset: readDate(reaction.onset, formatters),
  };
}

function buildAllergy(visible: VisibleEntry, formatters: RecordFormatters): AllergyView {
  const resource = visible.entry.resource;
  const categories = Array.isArray(resource.category) ? resource.category : [];
  return {
    id: resourceId(resource),
    substance: displayText(resource.code),
    type: pickKnown(resource.type, TYPES),
    categories: categories.filter((category): category is AllergyView['categories'][number] =>
      CATEGORIES.includes(category as string),
    ),
    clinicalStatus: readClinicalStatus(resource),
    criticality: pickKnown(resource.criticality, CRITICALITIES),
    reactions: recordsOf(resource.reaction).map((reaction) => readReaction(reaction, formatters)),
    onset: readOnset(resource, 'onset', formatters),
    recorded: readDate(resource.recordedDate, formatters),
    label: visible.label,
  };
}

function isNoLongerActive(status: AllergyClinicalStatus | null): boolean {
  return status === 'inactive' || status === 'resolved';
}

/**
 * Reports whether a listed allergy falls inside what a "no known allergy" record rules out.
 * An inactive or resolved allergy contradicts nothing, because it no longer applies.
 */
function contradicts(allergy: AllergyView, scope: NoKnownAllergyScope): boolean {
  if (isNoLongerActive(allergy.clinicalStatus)) {
    return false;
  }
  if (scope === 'all') {
    return true;
  }
  return allergy.categories.some((category) => category === scope);
}

/** Ranks active allergies before inactive ones, and high criticality first within each. */
function rankAllergy(allergy: AllergyView): number {
  const activityRank = isNoLongerActive(allergy.clinicalStatus) ? 2 : 0;
  const criticalityRank = allergy.criticality === 'high' ? 0 : 1;
  return activityRank + criticalityRank;
}

/**
 * Builds the allergies section. A "no known allergy" record that is no longer active
 * (inactive or resolved) asserts nothing and is left out. One that a listed allergy
 * contradicts is left out too, because showing "no known drug allergy" beside a penicillin
 * allergy would mislead, and the listed allergy is the safer fact to show.
 */
export function buildAllergiesView(items: readonly VisibleEntry[], formatters: RecordFormatters): AllergiesView {
  const allergies: AllergyView[] = [];
  const noKnownAllergies: NoKnownAllergyView[] = [];

  for (const item of items) {
    const resource = item.entry.resource;
    const classification = classifyAllergyCode(resource.code);
    if (classification.kind === 'no-information') {
      continue;
    }
    if (classification.kind === 'substance') {
      allergies.push(buildAllergy(item, formatters));
      continue;
    }
    if (isNoLongerActive(readClinicalStatus(resource))) {
      continue;
    }
    noKnownAllergies.push({
      id: resourceId(resource),
      scope: classification.scope,
      text: displayText(resource.code),
      recorded: readDate(resource.recordedDate, formatters),
      label: item.label,
    });
  }

  const uncontradicted = noKnownAllergies.filter(
    (negation) => !allergies.some((allergy) => contradicts(allergy, negation.scope)),
  );
  const sorted = sortByRankThenNewest(
    allergies,
    rankAllergy,
    (allergy) => allergy.onset?.date?.sortKey ?? allergy.recorded?.sortKey ?? null,
  );

  let state: AllergiesState = 'none-recorded';
  if (sorted.length > 0) {
    state = 'list';
  } else if (uncontradicted.length > 0) {
    state = 'no-known-allergies';
  }
  return { section: 'allergies', state, items: sorted, noKnownAllergies: uncontradicted };
}
