/**
 * Recovery codes: single-use codes that stand in for the authenticator app when the patient
 * has lost it.
 *
 * A code is 20 characters from a 31-symbol alphabet, shown as four groups of five
 * (`7KQ2M-XR9TD-HW4PC-3NFZB`). Each character is drawn uniformly with `crypto.randomInt`,
 * so a code carries 20 × log2(31) ≈ 99 bits of entropy. The alphabet leaves out 0, O, 1, I
 * and L, which readers confuse.
 */
import { createHash, createHmac, hkdfSync, randomInt, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../host/contract.js';

export const RECOVERY_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const RECOVERY_CODE_LENGTH = 20;
export const RECOVERY_CODE_GROUP_LENGTH = 5;
export const RECOVERY_CODE_COUNT = 10;

/**
 * Length at or above which a compact input is taken for a recovery code even without
 * letters. It lies between the 6 digits of a TOTP code and the 20 characters of a recovery
 * code, so a recovery code typed with a few characters missing still gets the recovery-code
 * error message.
 */
const RECOVERY_CODE_MIN_GUESS_LENGTH = 10;

const ALPHABET_CHARACTERS = new Set(RECOVERY_CODE_ALPHABET);

const HKDF_INFO = 'clinical-record-access/recovery-code-pepper/v1';

/** Generates `count` new recovery codes in display form, all different. */
export function generateRecoveryCodes(count: number = RECOVERY_CODE_COUNT): string[] {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(`count must be a positive integer, got ${String(count)}.`);
  }

  const codes = new Set<string>();
  while (codes.size < count) {
    codes.add(generateRecoveryCode());
  }
  return [...codes];
}

/** Generates one recovery code in display form. */
export function generateRecoveryCode(): string {
  let compact = '';
  for (let index = 0; index < RECOVERY_CODE_LENGTH; index += 1) {
    compact += RECOVERY_CODE_ALPHABET[randomInt(RECOVERY_CODE_ALPHABET.length)];
  }
  return formatRecoveryCode(compact);
}

/** Formats a normalised 20-character code as four hyphen-separated groups of five. */
export function formatRecoveryCode(compact: string): string {
  const groups: string[] = [];
  for (let start = 0; start < compact.length; start += RECOVERY_CODE_GROUP_LENGTH) {
    groups.push(compact.slice(start, start + RECOVERY_CODE_GROUP_LENGTH));
  }
  return groups.join('-');
}

export type RecoveryCodeFormatError = 'empty' | 'invalidCharacters' | 'wrongLength';

export type NormalisedRecoveryCode =
  | { ok: true; code: string }
  | { ok: false; error: RecoveryCodeFormatError };

/**
 * Normalises a recovery code as the patient typed it: applies NFKC, upper-cases it and
 * removes whitespace and hyphens, so `7kq2m xr9td-hw4pc 3nfzb` becomes `7KQ2MXR9TDHW4PC3NFZB`.
 *
 * Returns `invalidCharacters` when a character outside the alphabet remains (including the
 * confusable 0, O, 1, I and L, which no code contains) and `wrongLength` when the count is
 * not 20.
 */
export function normaliseRecoveryCode(input: string): NormalisedRecoveryCode {
  const compact = compactInput(input);

  if (compact === '') {
    return { ok: false, error: 'empty' };
  }
  // Each character is checked on its own, because upper-casing a whole string can change its
  // length ("ß" becomes "SS").
  for (const character of compact) {
    if (!ALPHABET_CHARACTERS.has(character.toUpperCase())) {
      return { ok: false, error: 'invalidCharacters' };
    }
  }
  if (compact.length !== RECOVERY_CODE_LENGTH) {
    return { ok: false, error: 'wrongLength' };
  }
  return { ok: true, code: compact.toUpperCase() };
}

/**
 * Returns whether input from the field that takes either kind of code should be treated as a
 * recovery code: true when, after removing whitespace and hyphens, it contains a Latin letter
 * or has at least 10 characters. Six digits, the form of a TOTP code, give false.
 */
export function looksLikeRecoveryCode(input: string): boolean {
  const compact = compactInput(input);
  return /[A-Za-z]/u.test(compact) || compact.length >= RECOVERY_CODE_MIN_GUESS_LENGTH;
}

/**
 * Derives the HMAC key for recovery-code hashes from one key of the keyring with HKDF-SHA-256,
 * so the key never serves two purposes. Pass the key id stored with the hashes: hashes made
 * with one key's pepper do not verify with another's.
 */
export function deriveRecoveryCodePepper(keyring: Keyring, keyId: string = keyring.currentKeyId): Buffer {
  const key = keyring.keys.get(keyId);
  if (key === undefined) {
    throw new RangeError(`Cannot derive the recovery-code pepper: key id "${keyId}" is not in the keyring.`);
  }
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), HKDF_INFO, 32));
}

/**
 * Hashes a recovery code for storage and returns the hex digest: HMAC-SHA-256 keyed with the
 * pepper when one is given, plain SHA-256 otherwise. The code may be in any form that
 * `normaliseRecoveryCode` accepts, and all forms of one code give the same hash.
 *
 * A fast hash is enough here, unlike for passwords. A slow hash such as bcrypt or scrypt
 * makes guessing a low-entropy password from a stolen hash expensive, but a 99-bit random
 * code cannot be guessed from its SHA-256 hash at any feasible hash rate. With a pepper, a
 * stolen database alone cannot test a guess at all. The hash is also deterministic, so the
 * caller can find and mark a code used in one conditional update.
 *
 * Throws `RangeError` when the input is not a well-formed recovery code.
 */
export function hashRecoveryCode(code: string, pepper?: Buffer): string {
  const normalised = normaliseRecoveryCode(code);
  if (!normalised.ok) {
    throw new RangeError(`Cannot hash the recovery code: its format is invalid (${normalised.error}).`);
  }

  const hash = pepper === undefined ? createHash('sha256') : createHmac('sha256', pepper);
  return hash.update(normalised.code, 'utf8').digest('hex');
}

/**
 * Compares two strings, such as stored and computed hashes, in time that does not depend on
 * where they first differ. Strings of different lengths return false at once, because the
 * length of a hash is public.
 */
export function constantTimeEqual(left: string, right: string): boolean {
  const leftBytes = Buffer.from(left, 'utf8');
  const rightBytes = Buffer.from(right, 'utf8');
  if (leftBytes.length !== rightBytes.length) {
    return false;
  }
  return timingSafeEqual(leftBytes, rightBytes);
}

/**
 * Returns whether the input is the recovery code behind `storedHash`. Malformed input gives
 * false without hashing.
 */
export function verifyRecoveryCode(input: string, storedHash: string, pepper?: Buffer): boolean {
  if (!normaliseRecoveryCode(input).ok) {
    return false;
  }
  return constantTimeEqual(hashRecoveryCode(input, pepper), storedHash);
}

function compactInput(input: string): string {
  return input.normalize('NFKC').replace(/[\s\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212]/gu, '');
}
