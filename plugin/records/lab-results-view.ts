/** The lab results section, built from Observation resources with the category laboratory. */
import type { FhirResource } from '../host/contract.js';
import { asRecord, displayText, recordsOf, type ObservationStatus } from './fhir.js';
import type { RecordFormatters } from './formatters.js';
import { readResultValue, type ResultValueView } from './lab-values.js';
import type { StatusLabel, VisibleEntry } from './status-rules.js';
import { readDate, resourceId, sortByRankThenNewest, type DateView, type ListState } from './view-parts.js';

/** One component of a panel, such as systolic pressure within blood pressure. */
export interface LabComponentView extends ResultValueView {
  name: string | null;
}

export interface LabResultView extends ResultValueView {
  id: string | null;
  /** The test's name (Observation.code) as text. */
  name: string | null;
  /** Components of a panel, each with its own value, range and flag. */
  components: LabComponentView[];
  /** How many components carry a flag, for a summary beside a panel's name. */
  flaggedComponentCount: number;
  date: DateView | null;
  /** `effective` for when the sample was taken, `issued` when only the report date is known. */
  dateKind: 'effective' | 'issued' | null;
  status: Extract<ObservationStatus, 'final' | 'amended' | 'corrected' | 'preliminary'>;
  /** `preliminary`, `amended` or `corrected`, else null for a final result. */
  label: StatusLabel | null;
}

export interface LabResultsView {
  section: 'labResults';
  state: ListState;
  /** Newest first. */
  items: LabResultView[];
}

/** Dates a result by effective[x] (dateTime, instant or the period's start), else by issued. */
function readResultDate(resource: FhirResource, formatters: RecordFormatters): Pick<LabResultView, 'date' | 'dateKind'> {
  const effective =
    readDate(resource.effectiveDateTime, formatters) ??
    readDate(resource.effectiveInstant, formatters) ??
    readDate(asRecord(resource.effectivePeriod)?.start, formatters);
  if (effective !== null) {
    return { date: effective, dateKind: 'effective' };
  }
  const issued = readDate(resource.issued, formatters);
  return { date: issued, dateKind: issued === null ? null : 'issued' };
}

function buildLabResult(visible: VisibleEntry, formatters: RecordFormatters): LabResultView {
  const resource = visible.entry.resource;
  const components = recordsOf(resource.component).map((component) => ({
    name: displayText(component.code),
    ...readResultValue(component, formatters),
  }));

  return {
    id: resourceId(resource),
    name: displayText(resource.code),
    ...readResultValue(resource, formatters),
    components,
    flaggedComponentCount: components.filter((component) => component.flag !== null).length,
    ...readResultDate(resource, formatters),
    // The status stage lets only these four statuses through.
    status: resource.status as LabResultView['status'],
    label: visible.label,
  };
}

/** Builds the lab results section. */
export function buildLabResultsView(items: readonly VisibleEntry[], formatters: RecordFormatters): LabResultsView {
  const results = items.map((item) => buildLabResult(item, formatters));
  const sorted = sortByRankThenNewest(results, () => 0, (result) => result.date?.sortKey ?? null);
  return { section: 'labResults', state: sorted.length === 0 ? 'empty' : 'list', items: sorted };
}
