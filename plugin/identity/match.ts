/**
 * Compares the name and date of birth that Stripe Identity verified on a document with the
 * patient's record at the practice.
 *
 * Names are compared after these steps, applied to both sides alike:
 *
 * 1. Apostrophes (' ’ ‘ ʼ ` ´ ′) are removed, so "O’Brien" equals "OBrien", as in a
 *    passport's machine-readable zone. Hyphens and dashes (- ‐ ‑ ‒ – — ― −), full stops,
 *    commas and runs of whitespace become one space.
 * 2. Unicode NFKC folds compatibility forms (full-width letters, ligatures such as "ﬁ").
 * 3. Case folding maps to upper case and then to lower case, so "ß" equals "ss" and the
 *    Turkish dotless "ı" equals "i". The Greek final sigma "ς" becomes "σ".
 * 4. Diacritics are compared in a second pass only. A name that differs from the record only
 *    in accents matches ("José" equals "Jose", "Müller" equals "Muller" and "Mueller"), and
 *    the result carries the note `diacriticsIgnored`. The reason is that ICAO Doc 9303
 *    restricts names in the machine-readable zone of passports and ID cards to A–Z and "<",
 *    and its transliteration writes "ä", "ö", "ü" as "AE", "OE", "UE". The practice may
 *    have typed the name from either zone of the document. In this pass, combining marks
 *    U+0300–U+036F are removed after NFD, "ø", "ł", "đ", "ð", "ħ", "ŧ" lose their stroke,
 *    and "æ", "œ", "þ" are spelled "ae", "oe", "th".
 *
 * Letters from different scripts never match, even when they look the same: Cyrillic "а"
 * (U+0430) is not Latin "a" (U+0061), because NFKC does not fold one into the other and no
 * step here does either.
 *
 * Family name: the document's `last_name` must equal the practice's `familyName` with spaces
 * removed after the steps above, so "Smith-Jones", "Smith Jones" and "SmithJones" are equal.
 *
 * Given names: the document's `first_name` and the practice's `givenNames` are each split
 * into names at the spaces left after the steps above. They match when the two lists are
 * equal, or when the names run together are equal ("Maryanne" equals ["Mary", "Anne"]),
 * or when the shorter list is the start of the longer one. So "Mary" matches
 * ["Mary", "Anne"], and "Mary Anne" matches ["Mary"], but "Anne" does not match
 * ["Mary", "Anne"] and "Mary Jane" does not match ["Mary", "Anne"]. The first given name is
 * the one that both a document and a practice record always carry. Middle names are often
 * missing on one side, because practices record only the first name and documents put all
 * given names in `first_name` or drop some. A middle name present on both sides must agree,
 * because two different middle names are evidence of two different people.
 *
 * Dates of birth compare as `YYYY-MM-DD` strings built from Stripe's integers, never through
 * `Date`, so no time zone can move the day.
 *
 * NOTE: some true matches are rejected, so staff must verify those patients in person.
 * Examples are a practice record with only one of two Spanish family names, a name recorded
 * in another script than the document's, and a nickname in place of a given name.
 */
import type { HostPatient } from '../host/contract.js';

/** Stripe's date of birth, as in `verified_outputs.dob`. Each part may be null. */
export interface StripeDateOfBirth {
  day: number | null;
  month: number | null;
  year: number | null;
}

/**
 * The parts of a Stripe Identity VerificationSession's `verified_outputs` that the match uses.
 * Only outputs from retrieving the session with `verified_outputs` expanded may be passed here.
 */
export interface StripeVerifiedOutputs {
  first_name?: string | null;
  last_name?: string | null;
  dob?: StripeDateOfBirth | null;
}

/** The practice's record of the patient, as the host returns it. */
export type PracticePatientIdentity = Pick<HostPatient, 'givenNames' | 'familyName' | 'birthDate'>;

/**
 * Rule under which the given names matched: `allGivenNames` when both sides contain the same
 * given names, `leadingGivenNames` when one side contains only the first of the other's names.
 */
export type GivenNameMatchMethod = 'allGivenNames' | 'leadingGivenNames';

/** A fact that staff may want to see beside an accepted match. */
export type IdentityMatchNote = 'diacriticsIgnored';

export type IdentityMismatchReason = 'name' | 'birthDate' | 'missingOutputs';

export type IdentityMatchResult =
  | { matched: true; method: GivenNameMatchMethod; notes: IdentityMatchNote[] }
  | { matched: false; reasons: IdentityMismatchReason[] };

/**
 * Compares Stripe's verified outputs with the practice's record of the patient.
 *
 * Returns every reason that applies, in the order `name`, `birthDate`, `missingOutputs`.
 * A missing or empty output gives `missingOutputs`. The date of birth is still compared when
 * a name is missing, and the names are still compared when the date is missing.
 */
export function matchVerifiedIdentity(
  outputs: StripeVerifiedOutputs,
  patient: PracticePatientIdentity,
): IdentityMatchResult {
  const reasons: IdentityMismatchReason[] = [];
  let missingOutputs = false;
  const notes = new Set<IdentityMatchNote>();
  let method: GivenNameMatchMethod | null = null;

  const documentGiven = nameForms(outputs.first_name ?? '');
  const documentFamily = nameForms(outputs.last_name ?? '');
  if (documentGiven === null || documentFamily === null) {
    missingOutputs = true;
  }

  if (documentGiven !== null && documentFamily !== null) {
    const familyMatch = compareFamilyNames(documentFamily, nameForms(patient.familyName));
    const givenMatch = compareGivenNames(documentGiven, nameForms(patient.givenNames.join(' ')));

    if (familyMatch === null || givenMatch === null) {
      reasons.push('name');
    } else {
      method = givenMatch.method;
      if (familyMatch.diacriticsIgnored || givenMatch.diacriticsIgnored) {
        notes.add('diacriticsIgnored');
      }
    }
  }

  const documentBirthDate = formatCalendarDate(outputs.dob);
  if (documentBirthDate === null) {
    missingOutputs = true;
  } else if (documentBirthDate !== patient.birthDate) {
    reasons.push('birthDate');
  }

  if (missingOutputs) {
    reasons.push('missingOutputs');
  }
  if (reasons.length > 0 || method === null) {
    return { matched: false, reasons };
  }
  return { matched: true, method, notes: [...notes] };
}

/**
 * Formats Stripe's date of birth as `YYYY-MM-DD`, or returns null when a part is missing or
 * out of range. The string is built from the integers alone, without `Date`.
 */
export function formatCalendarDate(dob: StripeDateOfBirth | null | undefined): string | null {
  if (dob === null || dob === undefined) {
    return null;
  }

  const { year, month, day } = dob;
  if (!isIntegerInRange(year, 1, 9999) || !isIntegerInRange(month, 1, 12) || !isIntegerInRange(day, 1, 31)) {
    return null;
  }

  const yyyy = String(year).padStart(4, '0');
  const mm = String(month).padStart(2, '0');
  const dd = String(day).padStart(2, '0');
  return `${yyyy}-${mm}-${dd}`;
}

function isIntegerInRange(value: number | null, minimum: number, maximum: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= minimum && value <= maximum;
}

/**
 * A name in the forms it is compared in. Each form is lower case, with names separated by
 * single spaces. `exact` keeps diacritics, and `withoutDiacritics` lists the forms that
 * differ only in how diacritics were written.
 */
interface NameForms {
  exact: string;
  withoutDiacritics: string[];
}

interface PartMatch {
  diacriticsIgnored: boolean;
}

interface GivenNamesMatch extends PartMatch {
  method: GivenNameMatchMethod;
}

const APOSTROPHES = /['\u2018\u2019\u02BC\u0060\u00B4\u02B9\u2032]/gu;
const SEPARATORS = /[\s\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212.,]+/gu;

// Soft hyphen, zero-width space, word joiner and byte order mark: invisible and never part
// of a name. Zero-width joiner and non-joiner stay, because some scripts spell words with them.
const INVISIBLE = /[\u00AD\u200B\u2060\uFEFF]/gu;

// Combining Diacritical Marks block only. Marks from other blocks, such as Indic vowel signs,
// change the letters of a name and are kept.
const COMBINING_DIACRITICS = /[\u0300-\u036F]/gu;

// Latin letters that carry a diacritic but have no decomposition, so NFD leaves them whole.
const UNDECOMPOSED_LETTERS: Record<string, string> = {
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  ħ: 'h',
  ŧ: 't',
  æ: 'ae',
  œ: 'oe',
  þ: 'th',
};
const UNDECOMPOSED_PATTERN = new RegExp(`[${Object.keys(UNDECOMPOSED_LETTERS).join('')}]`, 'gu');

// Transliteration of German umlauts in the machine-readable zone of travel documents.
const GERMAN_UMLAUTS: Record<string, string> = { ä: 'ae', ö: 'oe', ü: 'ue' };

/**
 * Normalises a name into its comparison forms, or returns null when nothing is left of it
 * (empty or only punctuation and spaces).
 */
function nameForms(raw: string): NameForms | null {
  const exact = foldName(raw);
  if (exact === '') {
    return null;
  }

  const stripped = stripDiacritics(exact);
  const germanSpelling = stripDiacritics(exact.replace(/[äöü]/gu, (letter) => GERMAN_UMLAUTS[letter]));
  const withoutDiacritics = stripped === germanSpelling ? [stripped] : [stripped, germanSpelling];
  return { exact, withoutDiacritics };
}

/** Applies the punctuation, NFKC and case-folding steps, keeping diacritics. The result is NFC. */
function foldName(raw: string): string {
  // Punctuation is replaced before NFKC as well as after it: NFKC turns "´" into a space and
  // a combining accent, and turns full-width apostrophes and hyphens into ASCII ones.
  const unified = unifyPunctuation(unifyPunctuation(raw).normalize('NFKC'));
  const folded = unified.toUpperCase().toLowerCase().replace(/ς/gu, 'σ');
  return folded.normalize('NFC').trim();
}

function unifyPunctuation(text: string): string {
  return text.replace(INVISIBLE, '').replace(APOSTROPHES, '').replace(SEPARATORS, ' ');
}

function stripDiacritics(folded: string): string {
  const withoutMarks = folded.normalize('NFD').replace(COMBINING_DIACRITICS, '');
  const spelledOut = withoutMarks.replace(UNDECOMPOSED_PATTERN, (letter) => UNDECOMPOSED_LETTERS[letter]);
  return spelledOut.normalize('NFC');
}

/**
 * Tries `test` on the exact forms first, then on every pair of forms without diacritics.
 * Returns the first result that is not null, marked with whether diacritics were ignored.
 */
function compareForms<T>(
  left: NameForms,
  right: NameForms,
  test: (leftForm: string, rightForm: string) => T | null,
): { result: T; diacriticsIgnored: boolean } | null {
  const exactResult = test(left.exact, right.exact);
  if (exactResult !== null) {
    return { result: exactResult, diacriticsIgnored: false };
  }

  for (const leftForm of left.withoutDiacritics) {
    for (const rightForm of right.withoutDiacritics) {
      const result = test(leftForm, rightForm);
      if (result !== null) {
        return { result, diacriticsIgnored: true };
      }
    }
  }
  return null;
}

function compareFamilyNames(document: NameForms, practice: NameForms | null): PartMatch | null {
  if (practice === null) {
    return null;
  }

  const match = compareForms(document, practice, (left, right) =>
    left.replaceAll(' ', '') === right.replaceAll(' ', '') ? true : null,
  );
  return match === null ? null : { diacriticsIgnored: match.diacriticsIgnored };
}

function compareGivenNames(document: NameForms, practice: NameForms | null): GivenNamesMatch | null {
  if (practice === null) {
    return null;
  }

  const match = compareForms(document, practice, compareGivenNameLists);
  return match === null ? null : { method: match.result, diacriticsIgnored: match.diacriticsIgnored };
}

function compareGivenNameLists(documentForm: string, practiceForm: string): GivenNameMatchMethod | null {
  const documentNames = documentForm.split(' ');
  const practiceNames = practiceForm.split(' ');

  if (documentNames.join('') === practiceNames.join('')) {
    return 'allGivenNames';
  }

  const shorter = documentNames.length <= practiceNames.length ? documentNames : practiceNames;
  const longer = shorter === documentNames ? practiceNames : documentNames;
  const isLeadingPart = shorter.every((name, index) => name === longer[index]);
  return isLeadingPart ? 'leadingGivenNames' : null;
}
