/**
 * FHIR `date`, `dateTime` and `instant` values kept at the precision they were stored with.
 *
 * A clinical date is a calendar date, so it is read from the string's own digits and never
 * through `new Date(string)`. That way "2021-05" stays a month and never gains an invented
 * day, and "2021-05-14T00:30:00+13:00" stays 14 May whatever the server's time zone is.
 */

export type DatePrecision = 'year' | 'month' | 'day';

/** A calendar date at the precision the record stored. */
export interface FhirDate {
  precision: DatePrecision;
  year: number;
  /** Month 1–12, present for month and day precision. */
  month?: number;
  /** Day of the month 1–31, present for day precision. */
  day?: number;
  /**
   * Key that sorts dates in time order when compared as strings: the date as written
   * (`2021`, `2021-05`, `2021-05-14`), followed by the local time as written for a dateTime
   * (`2021-05-14T10:00:00.558`). The zone offset is left out, so the order always agrees
   * with the calendar dates shown. A coarser date sorts before finer dates inside it.
   */
  sortKey: string;
}

/**
 * Date, dateTime or instant as R4 writes them: YYYY, YYYY-MM, YYYY-MM-DD, or a full date
 * with a time hh:mm:ss, optional fraction and zone offset. FHIR requires the zone whenever a
 * time is given, but this reader accepts its absence, because the date it shows does not
 * depend on the zone.
 */
const DATE_TIME_PATTERN =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leapYear = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leapYear ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isValidTime(hour: number, minute: number, second: number, zone: string | undefined): boolean {
  // Second 60 is a leap second, which FHIR's pattern allows.
  if (hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  if (zone === undefined || zone === 'Z') {
    return true;
  }
  const zoneHours = Number(zone.slice(1, 3));
  const zoneMinutes = Number(zone.slice(4, 6));
  return zoneMinutes <= 59 && (zoneHours < 14 || (zoneHours === 14 && zoneMinutes === 0));
}

/**
 * Parses a FHIR date, dateTime or instant. Returns null for anything else: a non-string,
 * a malformed string, or an impossible date such as 2021-02-30 or year 0000. The caller
 * shows null as "date not recorded".
 */
export function parseFhirDate(value: unknown): FhirDate | null {
  if (typeof value !== 'string') {
    return null;
  }
  const match = DATE_TIME_PATTERN.exec(value);
  if (match === null) {
    return null;
  }

  const [, yearText, monthText, dayText, hourText, minuteText, secondText, fraction, zone] = match;
  const year = Number(yearText);
  if (year < 1) {
    return null;
  }
  if (monthText === undefined) {
    return { precision: 'year', year, sortKey: yearText };
  }

  const month = Number(monthText);
  if (month < 1 || month > 12) {
    return null;
  }
  if (dayText === undefined) {
    return { precision: 'month', year, month, sortKey: `${yearText}-${monthText}` };
  }

  const day = Number(dayText);
  if (day < 1 || day > daysInMonth(year, month)) {
    return null;
  }
  let sortKey = `${yearText}-${monthText}-${dayText}`;

  if (hourText !== undefined) {
    if (!isValidTime(Number(hourText), Number(minuteText), Number(secondText), zone)) {
      return null;
    }
    sortKey += `T${hourText}:${minuteText}:${secondText}${fraction ?? ''}`;
  }
  return { precision: 'day', year, month, day, sortKey };
}

/** Formats a FhirDate at its own precision, for example "2021", "May 2021" or "14 May 2021". */
export type FhirDateFormatter = (date: FhirDate) => string;

/**
 * Creates a formatter for one locale (a BCP 47 tag such as `en-GB`). It formats the date's
 * parts as a UTC calendar date, so neither the server's zone nor the record's offset moves
 * the day. Throws RangeError for a malformed locale tag.
 */
export function createFhirDateFormatter(locale: string): FhirDateFormatter {
  const formats: Record<DatePrecision, Intl.DateTimeFormat> = {
    year: new Intl.DateTimeFormat(locale, { timeZone: 'UTC', year: 'numeric' }),
    month: new Intl.DateTimeFormat(locale, { timeZone: 'UTC', year: 'numeric', month: 'long' }),
    day: new Intl.DateTimeFormat(locale, { timeZone: 'UTC', year: 'numeric', month: 'long', day: 'numeric' }),
  };

  return (date) => {
    // setUTCFullYear, unlike Date.UTC, keeps years 1–99 as written instead of adding 1900.
    const calendarDate = new Date(0);
    calendarDate.setUTCFullYear(date.year, (date.month ?? 1) - 1, date.day ?? 1);
    return formats[date.precision].format(calendarDate);
  };
}

/** Formats one FhirDate for a locale. Prefer createFhirDateFormatter for many dates. */
export function formatFhirDate(date: FhirDate, locale: string): string {
  return createFhirDateFormatter(locale)(date);
}

/** Compares two sort keys so that newer dates come first and missing dates come last. */
export function compareNewestFirst(left: string | null, right: string | null): number {
  if (left === right) {
    return 0;
  }
  if (left === null) {
    return 1;
  }
  if (right === null) {
    return -1;
  }
  return left < right ? 1 : -1;
}
