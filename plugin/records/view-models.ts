/**
 * Clinical record view models: the end of the pipeline that turns the host's FHIR resources
 * into plain objects a template renders. Each section runs the FHIR status rules, then the
 * practice's release rules, then its own builder.
 *
 * Every string in a view is raw host text, so the template must escape it. No view carries
 * the resources' narrative (`text.div`), because that is host HTML the plugin never renders.
 */
import type { ClinicalRecordEntry, ClinicalSection } from '../host/contract.js';
import { buildAllergiesView, type AllergiesView } from './allergies-view.js';
import { createRecordFormatters } from './formatters.js';
import { buildImmunisationsView, type ImmunisationsView } from './immunisations-view.js';
import { buildLabResultsView, type LabResultsView } from './lab-results-view.js';
import { buildMedicationsView, type MedicationsView } from './medications-view.js';
import { buildProblemsView, type ProblemsView } from './problems-view.js';
import { applyReleaseRules, type ReleaseRules } from './release-rules.js';
import { applyStatusRules, SECTION_RESOURCE_TYPES } from './status-rules.js';

export type { AllergiesView, AllergyReactionView, AllergyView, NoKnownAllergyScope, NoKnownAllergyView } from './allergies-view.js';
export type { ImmunisationsView, ImmunisationView, NotGivenImmunisationView } from './immunisations-view.js';
export type { ObservationValueView, ReferenceRangeView, ResultFlag, ResultValueView } from './lab-values.js';
export type { LabComponentView, LabResultsView, LabResultView } from './lab-results-view.js';
export type { DosageView, MedicationsView, MedicationView } from './medications-view.js';
export type { ConditionClinicalStatus, ProblemsView, ProblemView } from './problems-view.js';
export type { QuantityView } from './quantities.js';
export type { StatusLabel } from './status-rules.js';
export type { DateView, OnsetView } from './view-parts.js';

/** The view each section builds. */
export interface SectionViewMap {
  problems: ProblemsView;
  medications: MedicationsView;
  allergies: AllergiesView;
  immunisations: ImmunisationsView;
  labResults: LabResultsView;
}

export type SectionView = SectionViewMap[ClinicalSection];

export interface BuildSectionViewOptions {
  /** BCP 47 locale the dates and numbers are written in, for example `en-GB`. */
  locale: string;
  /** The practice's release rules. None exist yet, so this changes nothing today. */
  releaseRules?: ReleaseRules;
}

/**
 * Builds the template-ready view of one section from the host's entries. An empty section
 * gives an empty list with state `empty`, or `none-recorded` for allergies. Throws
 * RangeError for an unknown section or a malformed locale.
 */
export function buildSectionView<Section extends ClinicalSection>(
  section: Section,
  entries: readonly ClinicalRecordEntry[],
  options: BuildSectionViewOptions,
): SectionViewMap[Section] {
  if (!Object.hasOwn(SECTION_RESOURCE_TYPES, section)) {
    throw new RangeError(
      `Unknown clinical record section ${JSON.stringify(section)}: expected one of ${Object.keys(SECTION_RESOURCE_TYPES).join(', ')}.`,
    );
  }
  const formatters = createRecordFormatters(options.locale);

  const visible = applyStatusRules(section, entries);
  const released = applyReleaseRules(section, visible, options.releaseRules);

  const builders: { [Key in ClinicalSection]: () => SectionViewMap[Key] } = {
    problems: () => buildProblemsView(released, formatters),
    medications: () => buildMedicationsView(released, formatters),
    allergies: () => buildAllergiesView(released, formatters),
    immunisations: () => buildImmunisationsView(released, formatters),
    labResults: () => buildLabResultsView(released, formatters),
  };
  return builders[section]();
}
