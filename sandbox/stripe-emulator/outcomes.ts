/**
 * Results that a tester can choose for a session's document check, on the hosted page or
 * through `completeSession`, and the `last_error` each failure leaves on the session.
 */

/** Failures found while the submitted document is checked; the session passes through processing. */
export const DOCUMENT_ERROR_CODES = ['document_expired', 'document_unverified_other', 'document_type_not_supported'] as const;

/** Failures of the selfie check; offered only when the session requires a matching selfie. */
export const SELFIE_ERROR_CODES = ['selfie_face_mismatch', 'selfie_unverified_other'] as const;

/** Failures raised before anything is submitted, so the session never reaches processing. */
export const USER_SESSION_ERROR_CODES = ['consent_declined', 'device_not_supported'] as const;

export type DocumentErrorCode = (typeof DOCUMENT_ERROR_CODES)[number];
export type SelfieErrorCode = (typeof SELFIE_ERROR_CODES)[number];
export type UserSessionErrorCode = (typeof USER_SESSION_ERROR_CODES)[number];

/** `last_error.code` values that a tester can choose; `abandoned` has its own outcome. */
export type SessionErrorCode = DocumentErrorCode | SelfieErrorCode | UserSessionErrorCode | 'under_supported_age';

export const SESSION_ERROR_CODES: readonly SessionErrorCode[] = [
  ...DOCUMENT_ERROR_CODES,
  ...SELFIE_ERROR_CODES,
  'under_supported_age',
  ...USER_SESSION_ERROR_CODES,
];

/** Result of a verification attempt. */
export type VerificationOutcome =
  /** The checks pass, and these details were "read from the document". `dob` is YYYY-MM-DD. */
  | { kind: 'verified'; firstName: string; lastName: string; dob: string }
  /** A check fails, or the user stops the flow, with this `last_error.code`. */
  | { kind: 'error'; code: SessionErrorCode }
  /** The user leaves the flow without submitting. */
  | { kind: 'abandoned' }
  /** The user submits and the session stays in processing until a later outcome finishes it. */
  | { kind: 'processing' };

/** `last_error.reason` for each code, written for the emulator. */
export const ERROR_REASONS: Readonly<Record<SessionErrorCode | 'abandoned', string>> = {
  document_expired: 'The identity document has expired.',
  document_unverified_other: 'The identity document could not be verified.',
  document_type_not_supported: "The identity document is not one of the session's allowed document types.",
  selfie_face_mismatch: 'The face in the selfie does not match the photo on the identity document.',
  selfie_unverified_other: 'The selfie could not be verified.',
  under_supported_age: 'The document holder is under the minimum age that Stripe Identity supports.',
  consent_declined: 'The user declined to be verified.',
  device_not_supported: "The user's device has no camera, or the user did not allow access to it.",
  abandoned: 'The user began the verification but did not submit it.',
};

export function isSessionErrorCode(value: string): value is SessionErrorCode {
  return (SESSION_ERROR_CODES as readonly string[]).includes(value);
}

export function isSelfieErrorCode(code: SessionErrorCode): code is SelfieErrorCode {
  return (SELFIE_ERROR_CODES as readonly string[]).includes(code);
}

export function isDocumentErrorCode(code: SessionErrorCode): code is DocumentErrorCode {
  return (DOCUMENT_ERROR_CODES as readonly string[]).includes(code);
}

export function isUserSessionErrorCode(code: SessionErrorCode): code is UserSessionErrorCode {
  return (USER_SESSION_ERROR_CODES as readonly string[]).includes(code);
}

const MAX_NAME_LENGTH = 200;

/** Problems with the details of a verified outcome, by field. Empty when the details are valid. */
export interface DetailErrors {
  firstName?: string;
  lastName?: string;
  dob?: string;
}

/**
 * Checks the details of a verified outcome: both names present and at most 200 characters,
 * and `dob` a real calendar date in YYYY-MM-DD form, from 1900 on and not after `now`.
 *
 * A date counts as "not after now" while it has begun somewhere on Earth (UTC+14), so a
 * birth today in any time zone is accepted.
 */
export function checkVerifiedDetails(
  details: { firstName: string; lastName: string; dob: string },
  now: Date,
): DetailErrors {
  const errors: DetailErrors = {};

  if (details.firstName.trim() === '') {
    errors.firstName = 'Enter the given names read from the document.';
  } else if (details.firstName.length > MAX_NAME_LENGTH) {
    errors.firstName = `Given names can have at most ${MAX_NAME_LENGTH} characters.`;
  }

  if (details.lastName.trim() === '') {
    errors.lastName = 'Enter the family name read from the document.';
  } else if (details.lastName.length > MAX_NAME_LENGTH) {
    errors.lastName = `The family name can have at most ${MAX_NAME_LENGTH} characters.`;
  }

  const dobError = checkDateOfBirth(details.dob, now);
  if (dobError !== null) {
    errors.dob = dobError;
  }
  return errors;
}

function checkDateOfBirth(dob: string, now: Date): string | null {
  const parts = parseCalendarDate(dob);
  if (parts === null) {
    return 'Enter the date of birth as a real date in the form YYYY-MM-DD.';
  }
  if (parts.year < 1900) {
    return 'Enter a date of birth from 1900 onwards.';
  }

  const latestDateOnEarth = new Date(now.getTime() + 14 * 60 * 60 * 1000).toISOString().slice(0, 10);
  if (dob > latestDateOnEarth) {
    return 'The date of birth cannot be in the future.';
  }
  return null;
}

/** Splits a YYYY-MM-DD string into numbers, or returns null when it is not a real calendar date. */
export function parseCalendarDate(text: string): { year: number; month: number; day: number } | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) {
    return null;
  }

  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) {
    return null;
  }
  return { year, month, day };
}
