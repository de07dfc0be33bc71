/**
 * Pieces every section view shares: dates at their stored precision, onset and abatement
 * choices, and ordering.
 */
import type { FhirResource } from '../host/contract.js';
import { compareNewestFirst, parseFhirDate, type FhirDate } from './fhir-date.js';
import { asRecord, nonEmptyString } from './fhir.js';
import type { RecordFormatters } from './formatters.js';
import { formatBounds, readQuantity } from './quantities.js';

/** A FHIR date at its stored precision, with its text in the page's locale ("May 2021"). */
export interface DateView extends FhirDate {
  formatted: string;
}

/**
 * An onset[x] or abatement[x] value. `kind` names the FHIR choice it came from, so a template
 * can word an age ("at age 40 years") differently from a date.
 */
export interface OnsetView {
  kind: 'dateTime' | 'period' | 'age' | 'range' | 'string';
  /** The value as text: "14 May 2021", "2019 – 2020", "40 years", or the host's own string. */
  formatted: string;
  /** The date for kind `dateTime`, or the start (else end) of a period, else null. */
  date: DateView | null;
}

/** Section state for lists: `empty` when nothing is left to show, which is not an error. */
export type ListState = 'empty' | 'list';

/** Reads a FHIR date, dateTime or instant. Returns null when it is missing or invalid. */
export function readDate(value: unknown, formatters: RecordFormatters): DateView | null {
  const date = parseFhirDate(value);
  return date === null ? null : { ...date, formatted: formatters.date(date) };
}

/** Joins the ends of a period, leaving a missing end open ("May 2021 –"). */
export function formatPeriodEnds(start: DateView | null, end: DateView | null): string | null {
  if (start !== null && end !== null) {
    return `${start.formatted} – ${end.formatted}`;
  }
  if (start !== null) {
    return `${start.formatted} –`;
  }
  return end === null ? null : `– ${end.formatted}`;
}

/**
 * Reads the onset[x] or abatement[x] choice of a Condition or AllergyIntolerance. Returns
 * null when the resource has none or its value is invalid, which the template shows as
 * "not recorded".
 */
export function readOnset(
  resource: FhirResource,
  prefix: 'onset' | 'abatement',
  formatters: RecordFormatters,
): OnsetView | null {
  const dateTime = resource[`${prefix}DateTime`];
  if (dateTime !== undefined) {
    const date = readDate(dateTime, formatters);
    return date === null ? null : { kind: 'dateTime', formatted: date.formatted, date };
  }

  const period = asRecord(resource[`${prefix}Period`]);
  if (period !== null) {
    const start = readDate(period.start, formatters);
    const end = readDate(period.end, formatters);
    const formatted = formatPeriodEnds(start, end);
    return formatted === null ? null : { kind: 'period', formatted, date: start ?? end };
  }

  const age = readQuantity(resource[`${prefix}Age`], formatters);
  if (age !== null) {
    return { kind: 'age', formatted: age.formatted, date: null };
  }

  const range = asRecord(resource[`${prefix}Range`]);
  if (range !== null) {
    const formatted = formatBounds(readQuantity(range.low, formatters), readQuantity(range.high, formatters));
    return formatted === null ? null : { kind: 'range', formatted, date: null };
  }

  const text = nonEmptyString(resource[`${prefix}String`]);
  return text === null ? null : { kind: 'string', formatted: text, date: null };
}

/** Returns the resource's id, or null when it has none. */
export function resourceId(resource: FhirResource): string | null {
  return nonEmptyString(resource.id);
}

/** Returns `empty` for no items, else `list`. */
export function listState(items: readonly unknown[]): ListState {
  return items.length === 0 ? 'empty' : 'list';
}

/**
 * Sorts items, in a new array, by group rank (lower first) and then by date, newest first,
 * with undated items last. Items equal on both keep the host's order.
 */
export function sortByRankThenNewest<Item>(
  items: readonly Item[],
  rank: (item: Item) => number,
  sortKey: (item: Item) => string | null,
): Item[] {
  return [...items].sort((left, right) => rank(left) - rank(right) || compareNewestFirst(sortKey(left), sortKey(right)));
}
