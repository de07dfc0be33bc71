/**
 * Lab result values: the value[x] of an Observation or of one of its components, its
 * reference ranges, and whether it lies outside them.
 */
import {
  asRecord,
  CodeSystem,
  codesFrom,
  displayText,
  finiteNumber,
  hasCoding,
  nonEmptyString,
  recordsOf,
} from './fhir.js';
import type { RecordFormatters } from './formatters.js';
import { formatBounds, haveSameUnit, readQuantity, type QuantityView } from './quantities.js';
import { formatPeriodEnds, readDate } from './view-parts.js';

/** Out-of-range flag key: above the range, below it, or abnormal in a way that is neither. */
export type ResultFlag = 'high' | 'low' | 'abnormal';

/** The value[x] choice the value came from, or `absent` / `none` when there is no value. */
export type ObservationValueKind =
  | 'quantity'
  | 'codeableConcept'
  | 'string'
  | 'boolean'
  | 'integer'
  | 'range'
  | 'ratio'
  | 'time'
  | 'dateTime'
  | 'period'
  | 'sampledData'
  | 'absent'
  | 'none';

export interface ObservationValueView {
  kind: ObservationValueKind;
  /**
   * The value as text, for example "< 5 mmol/L", "Negative" or "1:128". Null for a boolean
   * (the template translates `boolean`), for sampled data, and when there is no value.
   */
  formatted: string | null;
  /** The quantity with comparator and unit, for kind `quantity`. */
  quantity: QuantityView | null;
  /** The value, for kind `boolean`. */
  boolean: boolean | null;
  /** Reason the value is missing (Observation.dataAbsentReason), for kind `absent`. */
  absentReason: string | null;
}

export interface ReferenceRangeView {
  low: QuantityView | null;
  high: QuantityView | null;
  /** The range as the host wrote it in text, for example "Negative". */
  text: string | null;
  /** Meaning of the range, for example "Normal Range" or "Therapeutic Range". */
  type: string | null;
  /** The populations the range applies to, for example "Female". */
  appliesTo: string[];
  /** The age range the range applies to, for example "18–65 a". */
  age: string | null;
  /** The bounds joined ("3.5–5.3 mmol/L"), else `text`, else null. */
  formatted: string | null;
}

/** A value with what the plugin can tell about it being in range. */
export interface ResultValueView {
  value: ObservationValueView;
  /** Unit of a quantity value, else null. */
  unit: string | null;
  referenceRanges: ReferenceRangeView[];
  flag: ResultFlag | null;
  /** True when the lab marked the value critical (HH, LL or AA). */
  critical: boolean;
  /**
   * Source of the flag: the lab's own interpretation codes, a comparison of the value with
   * its reference range, or null when neither applied.
   */
  flagSource: 'interpretation' | 'referenceRange' | null;
}

/**
 * Normality codes of v3 ObservationInterpretation, also found in HL7 v2 table 0078. `H>` and
 * `L<` are the older spellings of HU and LU.
 */
const HIGH_CODES: readonly string[] = ['H', 'HH', 'HU', 'H>'];
const LOW_CODES: readonly string[] = ['L', 'LL', 'LU', 'L<'];
const ABNORMAL_CODES: readonly string[] = ['A', 'AA'];
const CRITICAL_CODES: readonly string[] = ['HH', 'LL', 'AA'];
const NORMALITY_CODES: readonly string[] = [...HIGH_CODES, ...LOW_CODES, ...ABNORMAL_CODES, 'N'];
const INTERPRETATION_SYSTEMS: readonly string[] = [
  CodeSystem.observationInterpretation,
  CodeSystem.observationInterpretationV2,
];

function valueView(
  kind: ObservationValueKind,
  formatted: string | null,
  details: Partial<Pick<ObservationValueView, 'quantity' | 'boolean' | 'absentReason'>> = {},
): ObservationValueView {
  return {
    kind,
    formatted,
    quantity: details.quantity ?? null,
    boolean: details.boolean ?? null,
    absentReason: details.absentReason ?? null,
  };
}

function formatRatio(element: unknown, formatters: RecordFormatters): string | null {
  const ratio = asRecord(element) ?? {};
  const numerator = readQuantity(ratio.numerator, formatters);
  const denominator = readQuantity(ratio.denominator, formatters);
  if (numerator === null) {
    return null;
  }
  if (denominator === null) {
    return numerator.formatted;
  }
  // A titre such as 1:128 has no units, and reads with a colon by convention.
  if (numerator.unit === null && denominator.unit === null) {
    return `${numerator.formatted}:${denominator.formatted}`;
  }
  return `${numerator.formatted} / ${denominator.formatted}`;
}

/** Reads the value[x] of an Observation or component, taking the first choice present. */
export function readObservationValue(
  element: Record<string, unknown>,
  formatters: RecordFormatters,
): ObservationValueView {
  const quantity = readQuantity(element.valueQuantity, formatters);
  if (quantity !== null) {
    return valueView('quantity', quantity.formatted, { quantity });
  }

  if (asRecord(element.valueCodeableConcept) !== null) {
    return valueView('codeableConcept', displayText(element.valueCodeableConcept));
  }
  if (typeof element.valueString === 'string') {
    return valueView('string', nonEmptyString(element.valueString));
  }
  if (typeof element.valueBoolean === 'boolean') {
    return valueView('boolean', null, { boolean: element.valueBoolean });
  }

  const integer = finiteNumber(element.valueInteger);
  if (integer !== null) {
    return valueView('integer', formatters.number(integer));
  }
  const range = asRecord(element.valueRange);
  if (range !== null) {
    return valueView('range', formatBounds(readQuantity(range.low, formatters), readQuantity(range.high, formatters)));
  }
  if (asRecord(element.valueRatio) !== null) {
    return valueView('ratio', formatRatio(element.valueRatio, formatters));
  }

  if (typeof element.valueTime === 'string') {
    return valueView('time', nonEmptyString(element.valueTime));
  }
  if (typeof element.valueDateTime === 'string') {
    return valueView('dateTime', readDate(element.valueDateTime, formatters)?.formatted ?? null);
  }
  const period = asRecord(element.valuePeriod);
  if (period !== null) {
    return valueView('period', formatPeriodEnds(readDate(period.start, formatters), readDate(period.end, formatters)));
  }
  if (element.valueSampledData !== undefined) {
    return valueView('sampledData', null);
  }

  if (asRecord(element.dataAbsentReason) !== null) {
    return valueView('absent', null, { absentReason: displayText(element.dataAbsentReason) });
  }
  return valueView('none', null);
}

function readReferenceRange(range: Record<string, unknown>, formatters: RecordFormatters): ReferenceRangeView {
  const low = readQuantity(range.low, formatters);
  const high = readQuantity(range.high, formatters);
  const text = nonEmptyString(range.text);
  const age = asRecord(range.age) ?? {};

  return {
    low,
    high,
    text,
    type: displayText(range.type),
    appliesTo: recordsOf(range.appliesTo)
      .map((concept) => displayText(concept))
      .filter((name): name is string => name !== null),
    age: formatBounds(readQuantity(age.low, formatters), readQuantity(age.high, formatters)),
    formatted: formatBounds(low, high) ?? text,
  };
}

/**
 * Picks the reference range a value can be checked against without knowing the patient: a
 * normal range (or one of unstated meaning) that names no population and no age.
 */
function findGeneralNormalRange(ranges: Array<Record<string, unknown>>): Record<string, unknown> | null {
  for (const range of ranges) {
    const meaningIsNormal =
      range.type === undefined || hasCoding(range.type, CodeSystem.referenceRangeMeaning, 'normal');
    const population = recordsOf(range.appliesTo);
    if (meaningIsNormal && population.length === 0 && range.age === undefined) {
      return range;
    }
  }
  return null;
}

/**
 * Compares a quantity with an inclusive range. A comparator limits the conclusion: "< 3"
 * against a low bound of 3 is certainly low, but "< 5" against the same bound may be in
 * range, so it gets no flag. A bound in another unit makes the comparison impossible.
 */
function compareWithRange(quantityElement: Record<string, unknown>, range: Record<string, unknown>): ResultFlag | null {
  const value = finiteNumber(quantityElement.value);
  const lowElement = asRecord(range.low);
  const highElement = asRecord(range.high);
  const low = finiteNumber(lowElement?.value);
  const high = finiteNumber(highElement?.value);
  if (value === null || (low === null && high === null)) {
    return null;
  }
  if ((low !== null && !haveSameUnit(quantityElement, lowElement)) ||
      (high !== null && !haveSameUnit(quantityElement, highElement))) {
    return null;
  }

  switch (nonEmptyString(quantityElement.comparator)) {
    case null:
      if (low !== null && value < low) {
        return 'low';
      }
      return high !== null && value > high ? 'high' : null;
    case '<':
      return low !== null && value <= low ? 'low' : null;
    case '<=':
      return low !== null && value < low ? 'low' : null;
    case '>':
      return high !== null && value >= high ? 'high' : null;
    case '>=':
      return high !== null && value > high ? 'high' : null;
    default:
      return null;
  }
}

/** Reads the lab's normality interpretation. Returns null when it gave none. */
function readInterpretation(interpretation: unknown): { flag: ResultFlag | null; critical: boolean } | null {
  const codes = recordsOf(interpretation)
    .flatMap((concept) => codesFrom(concept, INTERPRETATION_SYSTEMS))
    .filter((code) => NORMALITY_CODES.includes(code));
  if (codes.length === 0) {
    return null;
  }

  const high = codes.some((code) => HIGH_CODES.includes(code));
  const low = codes.some((code) => LOW_CODES.includes(code));
  const abnormal = codes.some((code) => ABNORMAL_CODES.includes(code));
  const critical = codes.some((code) => CRITICAL_CODES.includes(code));

  let flag: ResultFlag | null = null;
  if (high && low) {
    flag = 'abnormal';
  } else if (high) {
    flag = 'high';
  } else if (low) {
    flag = 'low';
  } else if (abnormal) {
    flag = 'abnormal';
  }
  return { flag, critical };
}

/**
 * Reads the value of an Observation or component with its reference ranges and flag. The
 * flag comes from the lab's interpretation codes when it sent any normality code (H, HH, HU,
 * L, LL, LU, A, AA, N). Otherwise a numeric value is compared with the general normal range.
 */
export function readResultValue(element: Record<string, unknown>, formatters: RecordFormatters): ResultValueView {
  const value = readObservationValue(element, formatters);
  const ranges = recordsOf(element.referenceRange);
  const referenceRanges = ranges.map((range) => readReferenceRange(range, formatters));
  const result = { value, unit: value.quantity?.unit ?? null, referenceRanges };

  const interpretation = readInterpretation(element.interpretation);
  if (interpretation !== null) {
    return { ...result, ...interpretation, flagSource: 'interpretation' };
  }

  const generalRange = findGeneralNormalRange(ranges);
  let numericValue: Record<string, unknown> | null = null;
  if (value.kind === 'quantity') {
    numericValue = asRecord(element.valueQuantity);
  } else if (value.kind === 'integer') {
    numericValue = { value: element.valueInteger };
  }
  const flag = generalRange !== null && numericValue !== null ? compareWithRange(numericValue, generalRange) : null;
  return { ...result, flag, critical: false, flagSource: flag === null ? null : 'referenceRange' };
}
