/**
 * Locale formatting for clinical record views. Build one set per page: the Intl objects are
 * costly to create, and a set per page needs no cache keyed by caller-supplied locales.
 */
import { createFhirDateFormatter, type FhirDateFormatter } from './fhir-date.js';

export interface RecordFormatters {
  locale: string;
  date: FhirDateFormatter;
  /** Formats a measured number with every digit it has, for example 0.123456 or 10,000. */
  number: (value: number) => string;
}

/**
 * Creates the formatters for a locale such as `en-GB`. Throws RangeError naming the tag when
 * the locale is not a well-formed BCP 47 language tag.
 */
export function createRecordFormatters(locale: string): RecordFormatters {
  try {
    Intl.getCanonicalLocales(locale);
  } catch {
    throw new RangeError(`Invalid locale ${JSON.stringify(locale)}: expected a BCP 47 language tag such as "en-GB".`);
  }

  // Intl rounds to 3 fraction digits by default, which would change a lab value such as
  // 0.1234. Twenty digits keep every digit of the number as JSON stored it.
  // NOTE: JSON drops trailing zeros, so a value the lab sent as 5.0 shows as 5.
  const numberFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 20 });

  return {
    locale,
    date: createFhirDateFormatter(locale),
    number: (value) => numberFormat.format(value),
  };
}
