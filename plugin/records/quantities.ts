/**
 * Quantity and range views: a measured value with its comparator and unit kept, so "< 5"
 * never becomes "5".
 */
import { asRecord, finiteNumber, nonEmptyString, type QuantityComparator } from './fhir.js';
import type { RecordFormatters } from './formatters.js';

/** A FHIR Quantity ready to show. */
export interface QuantityView {
  /** `<`, `<=`, `>=` or `>` when the true value lies beyond `value`, else null. */
  comparator: QuantityComparator | null;
  value: number;
  /** The number alone, in the page's locale, for example "0.88". */
  formattedValue: string;
  /** Human-readable unit (Quantity.unit), else the coded unit, else null. */
  unit: string | null;
  /** Comparator, number and unit together, for example "< 5 mmol/L". */
  formatted: string;
}

const COMPARATORS: readonly string[] = ['<', '<=', '>=', '>'];

/** Reads a FHIR Quantity. Returns null when it is missing or has no numeric value. */
export function readQuantity(element: unknown, formatters: RecordFormatters): QuantityView | null {
  const quantity = asRecord(element);
  if (quantity === null) {
    return null;
  }
  const value = finiteNumber(quantity.value);
  if (value === null) {
    return null;
  }

  const comparatorText = nonEmptyString(quantity.comparator);
  const comparator = comparatorText !== null && COMPARATORS.includes(comparatorText)
    ? (comparatorText as QuantityComparator)
    : null;
  const unit = nonEmptyString(quantity.unit) ?? nonEmptyString(quantity.code);
  const formattedValue = formatters.number(value);

  const parts = [comparator, formattedValue, unit].filter((part): part is string => part !== null);
  return { comparator, value, formattedValue, unit, formatted: parts.join(' ') };
}

/**
 * Joins the bounds of a range: "3.5–5.3 mmol/L" when both bounds share a unit, "≥ 3.5 mmol/L"
 * with only a low bound and "≤ 5.3 mmol/L" with only a high bound. Both bounds are inclusive,
 * as FHIR defines them. Returns null when neither bound is present.
 */
export function formatBounds(low: QuantityView | null, high: QuantityView | null): string | null {
  if (low !== null && high !== null) {
    if (low.unit === high.unit && low.comparator === null && high.comparator === null) {
      const numbers = `${low.formattedValue}–${high.formattedValue}`;
      return low.unit === null ? numbers : `${numbers} ${low.unit}`;
    }
    return `${low.formatted} – ${high.formatted}`;
  }
  if (low !== null) {
    return `≥ ${low.formatted}`;
  }
  if (high !== null) {
    return `≤ ${high.formatted}`;
  }
  return null;
}

/**
 * Reports whether two FHIR Quantities are in the same unit and can be compared. Coded units
 * compare by system and code, else the human-readable units compare as text. A quantity that
 * names no unit at all is taken to share the other one's unit, as a reference range bound
 * often does.
 */
export function haveSameUnit(left: unknown, right: unknown): boolean {
  const a = asRecord(left) ?? {};
  const b = asRecord(right) ?? {};
  const codeA = nonEmptyString(a.code);
  const codeB = nonEmptyString(b.code);
  const unitA = nonEmptyString(a.unit);
  const unitB = nonEmptyString(b.unit);

  if (codeA !== null && codeB !== null) {
    const systemA = nonEmptyString(a.system);
    const systemB = nonEmptyString(b.system);
    return codeA === codeB && (systemA === null || systemB === null || systemA === systemB);
  }
  if (unitA !== null && unitB !== null) {
    return unitA === unitB;
  }
  const aHasNone = codeA === null && unitA === null;
  const bHasNone = codeB === null && unitB === null;
  return aHasNone || bHasNone;
}
