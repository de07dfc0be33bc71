/**
 * Time-based one-time passwords (RFC 6238) for the authenticator-app factor, over otplib 13.
 *
 * Parameters are fixed to what every authenticator app supports: HMAC-SHA-1, 6 digits, a
 * 30-second time step counted from T0 = 0, and a tolerance of one step either side for
 * clock drift. Replay protection is the caller's part of the contract: it stores the
 * `timeStep` of each accepted code atomically and passes it back as `lastUsedTimeStep`.
 */
import { generateSecret, verify } from 'otplib';

export const TOTP_ALGORITHM = 'SHA1';
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;

/** Accepted clock drift: one time step before or after the server's current step. */
export const TOTP_TOLERANCE_STEPS = 1;

const SECRET_BYTES = 20;

/** otplib rejects secrets shorter than 16 bytes (RFC 4226 section 4 requires 128 bits). */
const MIN_SECRET_BYTES = 16;
const BASE32_PATTERN = /^[A-Za-z2-7]+=*$/;

/**
 * Generates a new shared secret: 20 random bytes (160 bits, the length that RFC 4226
 * recommends) as unpadded upper-case base32.
 */
export function generateTotpSecret(): string {
  return generateSecret({ length: SECRET_BYTES });
}

export interface OtpauthUriInput {
  /** Base32 shared secret from `generateTotpSecret`. */
  secret: string;
  /** The practice's name, shown by the app as the account's issuer. */
  issuer: string;
  /** The patient's portal login, shown by the app as the account name. */
  label: string;
}

/**
 * Builds the `otpauth://totp/` URI that the enrolment QR code carries, in the Key URI
 * format that authenticator apps read: `otpauth://totp/<issuer>:<label>?secret=…&issuer=…`
 * with the algorithm, digits and period stated explicitly.
 *
 * The issuer goes both in the label prefix and in the `issuer` parameter, because some apps
 * read only the prefix and others prefer the parameter. Each part is percent-encoded as
 * UTF-8, with spaces as `%20` (never `+`) and apostrophes encoded too.
 *
 * Throws `RangeError` when the secret is not base32 of at least 16 bytes, or when the
 * issuer or label is empty after clean-up.
 */
export function buildOtpauthUri(input: OtpauthUriInput): string {
  validateSecret(input.secret);
  const issuer = cleanUriName(input.issuer, 'issuer');
  const label = cleanUriName(input.label, 'label');

  const path = `${encodeUriPart(issuer)}:${encodeUriPart(label)}`;
  const parameters = [
    `secret=${encodeUriPart(input.secret.replace(/=+$/u, '').toUpperCase())}`,
    `issuer=${encodeUriPart(issuer)}`,
    `algorithm=${TOTP_ALGORITHM}`,
    `digits=${TOTP_DIGITS}`,
    `period=${TOTP_PERIOD_SECONDS}`,
  ];
  return `otpauth://totp/${path}?${parameters.join('&')}`;
}

/**
 * Trims a name for the URI, collapses whitespace and removes control characters. A colon
 * separates issuer and account name in the label, and apps split at the first one, so each
 * colon inside a name becomes a space.
 */
function cleanUriName(value: string, field: 'issuer' | 'label'): string {
  const cleaned = value
    .replace(/\p{Cc}/gu, '')
    .replaceAll(':', ' ')
    .replace(/\s+/gu, ' ')
    .trim();
  if (cleaned === '') {
    const expected = field === 'issuer' ? 'practice name' : 'portal login';
    throw new RangeError(`The otpauth ${field} is empty; pass the ${expected}.`);
  }
  return cleaned;
}

/** Percent-encodes as RFC 3986 requires, including the characters `!'()*` that encodeURIComponent leaves. */
function encodeUriPart(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/gu, (character) => {
    return `%${character.charCodeAt(0).toString(16).toUpperCase()}`;
  });
}

export type CodeFormatError = 'empty' | 'notDigits' | 'wrongLength';

export type NormalisedCode = { ok: true; code: string } | { ok: false; error: CodeFormatError };

/**
 * Normalises a code as the patient typed it: applies NFKC (so full-width digits become
 * ASCII digits), then removes whitespace and hyphens anywhere in it. "123 456", "123456 "
 * and "123-456" all become "123456".
 *
 * Returns `empty` when nothing is left, `notDigits` when a character other than 0–9
 * remains, and `wrongLength` when the digits are not exactly six.
 */
export function normaliseCode(input: string): NormalisedCode {
  const compact = input
    .normalize('NFKC')
    .replace(/[\s\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212]/gu, '');

  if (compact === '') {
    return { ok: false, error: 'empty' };
  }
  if (!/^[0-9]+$/u.test(compact)) {
    return { ok: false, error: 'notDigits' };
  }
  if (compact.length !== TOTP_DIGITS) {
    return { ok: false, error: 'wrongLength' };
  }
  return { ok: true, code: compact };
}

export interface VerifyTotpInput {
  /** Base32 shared secret, decrypted. */
  secret: string;
  /** The code as the patient typed it; it is normalised here. */
  code: string;
  /** The server's current time, from the injected clock. */
  now: Date;
  /** Time step of the last code this factor accepted, or null if it has accepted none. */
  lastUsedTimeStep: number | null;
}

export type TotpVerification =
  | { valid: true; timeStep: number }
  | { valid: false; reason: 'invalid' | 'replayed' };

/**
 * Verifies a code against the secret at `now`, accepting the time steps from one before to
 * one after the current step.
 *
 * Returns `replayed` when the code is correct for a time step at or before
 * `lastUsedTimeStep`, and `invalid` for any other wrong or malformed code, without calling
 * otplib on malformed input. A valid result carries the `timeStep` that the caller must
 * store, and accept only if no other request stored an equal or later step first.
 *
 * Throws `RangeError` for a secret that is not base32 of at least 16 bytes, an invalid
 * `now`, or a `lastUsedTimeStep` that is not a non-negative integer.
 */
export async function verifyTotp(input: VerifyTotpInput): Promise<TotpVerification> {
  validateSecret(input.secret);
  const epoch = epochSeconds(input.now);
  const lastUsedTimeStep = input.lastUsedTimeStep;
  if (lastUsedTimeStep !== null && !(Number.isSafeInteger(lastUsedTimeStep) && lastUsedTimeStep >= 0)) {
    throw new RangeError(
      `lastUsedTimeStep must be null or a non-negative integer, got ${String(lastUsedTimeStep)}.`,
    );
  }

  const normalised = normaliseCode(input.code);
  if (!normalised.ok) {
    return { valid: false, reason: 'invalid' };
  }
  const options: OtplibVerifyOptions = {
    strategy: 'totp',
    secret: input.secret,
    token: normalised.code,
    epoch,
    period: TOTP_PERIOD_SECONDS,
    digits: TOTP_DIGITS,
    algorithm: 'sha1',
    epochTolerance: TOTP_TOLERANCE_STEPS * TOTP_PERIOD_SECONDS,
  };

  if (lastUsedTimeStep === null) {
    const result = await verifyTotpStep(options);
    return result.valid ? { valid: true, timeStep: result.timeStep } : { valid: false, reason: 'invalid' };
  }

  // otplib throws when afterTimeStep lies beyond the newest step in the window. Every step
  // in the window is then already used, so only the replay check below remains.
  const newestStepInWindow = timeStepAt(input.now) + TOTP_TOLERANCE_STEPS;
  if (lastUsedTimeStep < newestStepInWindow) {
    const fresh = await verifyTotpStep({ ...options, afterTimeStep: lastUsedTimeStep });
    if (fresh.valid) {
      return { valid: true, timeStep: fresh.timeStep };
    }
  }

  // The code matched no unused step. It is a replay if it matches a used step in the window.
  const anyStep = await verifyTotpStep(options);
  return { valid: false, reason: anyStep.valid ? 'replayed' : 'invalid' };
}

type OtplibVerifyOptions = Parameters<typeof verify>[0];

/**
 * Calls otplib's `verify` and narrows its result. otplib types the result as a TOTP or HOTP
 * result, but with `strategy: 'totp'` a valid result always carries `timeStep`.
 */
async function verifyTotpStep(
  options: OtplibVerifyOptions,
): Promise<{ valid: true; timeStep: number } | { valid: false }> {
  const result = await verify(options);
  if (!result.valid) {
    return { valid: false };
  }
  if (!('timeStep' in result) || typeof result.timeStep !== 'number') {
    throw new TypeError('otplib returned a valid TOTP result without a timeStep; check the otplib version.');
  }
  return { valid: true, timeStep: result.timeStep };
}

/** Returns the RFC 6238 time step T = floor(unix seconds / 30) at `now`. */
export function timeStepAt(now: Date): number {
  return Math.floor(epochSeconds(now) / TOTP_PERIOD_SECONDS);
}

function epochSeconds(now: Date): number {
  const milliseconds = now instanceof Date ? now.getTime() : Number.NaN;
  if (!Number.isFinite(milliseconds) || milliseconds < 0) {
    throw new RangeError('now must be a valid Date at or after 1970-01-01T00:00:00Z.');
  }
  return Math.floor(milliseconds / 1000);
}

function validateSecret(secret: string): void {
  const unpadded = typeof secret === 'string' ? secret.replace(/=+$/u, '') : '';
  const decodedBytes = Math.floor((unpadded.length * 5) / 8);
  if (!BASE32_PATTERN.test(secret) || decodedBytes < MIN_SECRET_BYTES) {
    throw new RangeError(`The TOTP secret must be base32 encoding at least ${MIN_SECRET_BYTES} bytes.`);
  }
}
