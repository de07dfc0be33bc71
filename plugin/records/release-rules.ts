/**
 * The release stage of the clinical record pipeline, after the FHIR status rules and before
 * the view models. It is where a practice will decide what its patients see: a section
 * hidden, or lab results held back until a clinician has reviewed them. No such rule exists
 * yet, so the stage passes every item through.
 */
import type { ClinicalSection } from '../host/contract.js';
import type { VisibleEntry } from './status-rules.js';

/** Release rules of one practice. Empty until the first per-section rule is added. */
export interface ReleaseRules {}

/**
 * Applies a practice's release rules to the items of one section. Today it returns the items
 * unchanged, in a new array, whatever the rules.
 */
export function applyReleaseRules<Item extends VisibleEntry>(
  section: ClinicalSection,
  items: readonly Item[],
  practiceRules?: ReleaseRules,
): Item[] {
  return [...items];
}
