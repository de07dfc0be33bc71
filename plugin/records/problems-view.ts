/** The problems and diagnoses section, built from Condition resources. */
import { CodeSystem, codeFrom, displayText } from './fhir.js';
import type { RecordFormatters } from './formatters.js';
import type { StatusLabel, VisibleEntry } from './status-rules.js';
import {
  listState,
  readDate,
  readOnset,
  resourceId,
  sortByRankThenNewest,
  type DateView,
  type ListState,
  type OnsetView,
} from './view-parts.js';

/** Condition.clinicalStatus codes (R4 condition-clinical). */
export type ConditionClinicalStatus = 'active' | 'recurrence' | 'relapse' | 'inactive' | 'remission' | 'resolved';

const CLINICAL_STATUSES: readonly string[] = ['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved'];

/** Statuses that condition-clinical places under `active`. */
const ACTIVE_STATUSES: readonly string[] = ['active', 'recurrence', 'relapse'];

export interface ProblemView {
  id: string | null;
  /** Condition.code as text, or null when the host sent no usable code. */
  name: string | null;
  clinicalStatus: ConditionClinicalStatus | null;
  /** True for active, recurrence and relapse. */
  active: boolean;
  onset: OnsetView | null;
  abatement: OnsetView | null;
  recorded: DateView | null;
  /** `unconfirmed`, `provisional` or `differential`, else null. */
  label: StatusLabel | null;
}

export interface ProblemsView {
  section: 'problems';
  state: ListState;
  /** Active problems first, then each group by onset, newest first. */
  items: ProblemView[];
}

function buildProblem(visible: VisibleEntry, formatters: RecordFormatters): ProblemView {
  const resource = visible.entry.resource;
  const clinicalCode = codeFrom(resource.clinicalStatus, CodeSystem.conditionClinical);
  const clinicalStatus = clinicalCode !== null && CLINICAL_STATUSES.includes(clinicalCode)
    ? (clinicalCode as ConditionClinicalStatus)
    : null;

  return {
    id: resourceId(resource),
    name: displayText(resource.code),
    clinicalStatus,
    active: clinicalStatus !== null && ACTIVE_STATUSES.includes(clinicalStatus),
    onset: readOnset(resource, 'onset', formatters),
    abatement: readOnset(resource, 'abatement', formatters),
    recorded: readDate(resource.recordedDate, formatters),
    label: visible.label,
  };
}

/** Builds the problems section. A problem dated only by age or text sorts by its recorded date. */
export function buildProblemsView(items: readonly VisibleEntry[], formatters: RecordFormatters): ProblemsView {
  const problems = items.map((item) => buildProblem(item, formatters));
  const sorted = sortByRankThenNewest(
    problems,
    (problem) => (problem.active ? 0 : 1),
    (problem) => problem.onset?.date?.sortKey ?? problem.recorded?.sortKey ?? null,
  );
  return { section: 'problems', state: listState(sorted), items: sorted };
}
