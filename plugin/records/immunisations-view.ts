/** The immunisations section, built from Immunization resources. */
import type { FhirResource } from '../host/contract.js';
import { displayText, finiteNumber, nonEmptyString, recordsOf } from './fhir.js';
import type { RecordFormatters } from './formatters.js';
import type { StatusLabel, VisibleEntry } from './status-rules.js';
import { readDate, resourceId, sortByRankThenNewest, type DateView, type ListState } from './view-parts.js';

/** A dose given (Immunization.status completed). */
export interface ImmunisationView {
  id: string | null;
  vaccine: string | null;
  /** occurrenceDateTime at its stored precision, else null. */
  date: DateView | null;
  /** occurrenceString, the host's own wording of when, for example "Spring 2003". */
  dateText: string | null;
  status: 'completed';
  /** The dose's place in its series, for example "2" or "Booster". */
  doseNumber: string | null;
  /** `subpotent` when the dose does not count towards immunity, else null. */
  label: StatusLabel | null;
}

/** A vaccination that was not given (Immunization.status not-done), kept apart from the doses. */
export interface NotGivenImmunisationView {
  id: string | null;
  vaccine: string | null;
  date: DateView | null;
  dateText: string | null;
  /** Immunization.statusReason as text, for example "Patient objection". */
  reason: string | null;
}

export interface ImmunisationsView {
  section: 'immunisations';
  /** `empty` when there are neither doses nor vaccinations not given. */
  state: ListState;
  /** Doses given, newest first. */
  items: ImmunisationView[];
  /** Vaccinations not given, newest first. Never counted as doses. */
  notGiven: NotGivenImmunisationView[];
}

function readDoseNumber(resource: FhirResource): string | null {
  for (const protocol of recordsOf(resource.protocolApplied)) {
    const positive = finiteNumber(protocol.doseNumberPositiveInt);
    if (positive !== null) {
      return String(positive);
    }
    const text = nonEmptyString(protocol.doseNumberString);
    if (text !== null) {
      return text;
    }
  }
  return null;
}

function readOccurrence(resource: FhirResource, formatters: RecordFormatters): Pick<ImmunisationView, 'date' | 'dateText'> {
  return {
    date: readDate(resource.occurrenceDateTime, formatters),
    dateText: nonEmptyString(resource.occurrenceString),
  };
}

/** Builds the immunisations section, putting vaccinations labelled not-done in `notGiven`. */
export function buildImmunisationsView(items: readonly VisibleEntry[], formatters: RecordFormatters): ImmunisationsView {
  const doses: ImmunisationView[] = [];
  const notGiven: NotGivenImmunisationView[] = [];

  for (const item of items) {
    const resource = item.entry.resource;
    const common = {
      id: resourceId(resource),
      vaccine: displayText(resource.vaccineCode),
      ...readOccurrence(resource, formatters),
    };
    if (item.label === 'not-done') {
      notGiven.push({ ...common, reason: displayText(resource.statusReason) });
    } else {
      doses.push({ ...common, status: 'completed', doseNumber: readDoseNumber(resource), label: item.label });
    }
  }

  const newestFirst = <Item extends { date: DateView | null }>(list: Item[]): Item[] =>
    sortByRankThenNewest(list, () => 0, (entry) => entry.date?.sortKey ?? null);
  const sortedDoses = newestFirst(doses);
  const sortedNotGiven = newestFirst(notGiven);

  return {
    section: 'immunisations',
    state: sortedDoses.length === 0 && sortedNotGiven.length === 0 ? 'empty' : 'list',
    items: sortedDoses,
    notGiven: sortedNotGiven,
  };
}
