/**
 * Authenticated encryption of small secrets at rest, such as TOTP secrets, with AES-256-GCM.
 *
 * Ciphertext format: `v1.<keyId>.<iv>.<ciphertext>.<tag>`, where the last three parts are
 * unpadded base64url. The IV is 12 random bytes and the tag 16 bytes. GCM authenticates the
 * prefix `v1.<keyId>` together with the caller's associated data, so a ciphertext decrypts
 * only with the same associated data. Passing the owner's id as associated data means that
 * a ciphertext copied into another patient's row fails to decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from '../host/contract.js';

const FORMAT_VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Key ids appear inside the ciphertext string, so they may not contain the `.` separator. */
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;

export type SecretBoxErrorCode = 'malformed' | 'unsupportedVersion' | 'unknownKeyId' | 'decryptionFailed';

/** Raised when a ciphertext cannot be decrypted. Messages never contain key material or plaintext. */
export class SecretBoxError extends Error {
  readonly code: SecretBoxErrorCode;

  constructor(code: SecretBoxErrorCode, message: string) {
    super(message);
    this.name = 'SecretBoxError';
    this.code = code;
  }
}

/** Raised when a keyring is unfit for encryption. Messages name key ids, never key bytes. */
export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

export interface SecretBoxOptions {
  /**
   * Data bound to the ciphertext but not stored in it, such as the owner's id. Decryption
   * needs the same value. Leaving it out is the same as passing an empty string.
   */
  associatedData?: string;
}

interface ParsedCiphertext {
  version: string;
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/**
 * Encrypts `plaintext` (UTF-8) with the keyring's current key and a random IV.
 * Throws `KeyringError` when the current key is missing or weak.
 */
export function encryptSecret(plaintext: string, keyring: Keyring, options: SecretBoxOptions = {}): string {
  const keyId = keyring.currentKeyId;
  const key = requireUsableKey(keyring, keyId);
  const iv = randomBytes(IV_BYTES);

  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(buildAssociatedData(FORMAT_VERSION, keyId, options.associatedData));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();

  return [
    FORMAT_VERSION,
    keyId,
    iv.toString('base64url'),
    ciphertext.toString('base64url'),
    tag.toString('base64url'),
  ].join('.');
}

/**
 * Decrypts a ciphertext from `encryptSecret` with the key its key id names.
 *
 * Throws `SecretBoxError` with code `malformed` or `unsupportedVersion` for a string that is
 * not a v1 ciphertext, `unknownKeyId` when the keyring lacks the key, and `decryptionFailed`
 * when any part was changed or the associated data differs. Throws `KeyringError` when the
 * named key is weak.
 */
export function decryptSecret(ciphertext: string, keyring: Keyring, options: SecretBoxOptions = {}): string {
  const parsed = parseCiphertext(ciphertext);
  if (!keyring.keys.has(parsed.keyId)) {
    throw new SecretBoxError(
      'unknownKeyId',
      `Cannot decrypt the secret: key id "${parsed.keyId}" is not in the keyring. ` +
        'Add that key back to the keyring, because secrets encrypted with it need it ' +
        'until they are re-encrypted.',
    );
  }
  const key = requireUsableKey(keyring, parsed.keyId);

  const decipher = createDecipheriv(ALGORITHM, key, parsed.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(buildAssociatedData(parsed.version, parsed.keyId, options.associatedData));
  decipher.setAuthTag(parsed.tag);
  try {
    return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    // node:crypto raises a generic error from final() when the tag does not verify.
    throw new SecretBoxError(
      'decryptionFailed',
      `Decryption failed with key id "${parsed.keyId}": the ciphertext was altered, ` +
        'the key under that id was replaced, or the associated data (such as the owner id) ' +
        'differs from the data it was encrypted with.',
    );
  }
}

/**
 * Returns whether a ciphertext should be re-encrypted: true when it uses an older format
 * version or a key other than the keyring's current key. Throws `SecretBoxError` with code
 * `malformed` for a string that is not a ciphertext of any known form.
 */
export function needsReencryption(ciphertext: string, keyring: Keyring): boolean {
  const { version, keyId } = parseHeader(ciphertext);
  return version !== FORMAT_VERSION || keyId !== keyring.currentKeyId;
}

/**
 * Checks a whole keyring and throws `KeyringError` unless the current key is present, every
 * key id fits the ciphertext format, and every key is exactly 32 bytes and not one byte
 * repeated. Hosts call this at start-up, so a bad key fails there and not at first use.
 */
export function assertStrongKeyring(keyring: Keyring): void {
  if (!keyring.keys.has(keyring.currentKeyId)) {
    throw new KeyringError(
      `The keyring's current key id "${keyring.currentKeyId}" has no key. Add a 32-byte key under that id.`,
    );
  }
  for (const [keyId, key] of keyring.keys) {
    validateKey(keyId, key);
  }
}

function requireUsableKey(keyring: Keyring, keyId: string): Buffer {
  const key = keyring.keys.get(keyId);
  if (key === undefined) {
    throw new KeyringError(`The keyring has no key with id "${keyId}". Add a 32-byte key under that id.`);
  }
  validateKey(keyId, key);
  return key;
}

function validateKey(keyId: string, key: Buffer): void {
  if (!KEY_ID_PATTERN.test(keyId)) {
    throw new KeyringError(
      `Key id "${keyId}" is invalid: use 1 to 64 characters from A-Z, a-z, 0-9, "_" and "-".`,
    );
  }
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    const length = Buffer.isBuffer(key) ? `${key.length} bytes` : 'not a Buffer';
    throw new KeyringError(`Key "${keyId}" is ${length}; AES-256 needs exactly ${KEY_BYTES} random bytes.`);
  }
  if (key.every((byte) => byte === key[0])) {
    throw new KeyringError(
      `Key "${keyId}" repeats one byte value, so it is not a random key. Generate ${KEY_BYTES} random bytes.`,
    );
  }
}

/**
 * Builds the GCM associated data: the ciphertext's prefix, a NUL byte, then the caller's data.
 * The prefix cannot contain NUL, so the boundary between the two parts is unambiguous.
 */
function buildAssociatedData(version: string, keyId: string, associatedData: string | undefined): Buffer {
  const prefix = Buffer.from(`${version}.${keyId}`, 'utf8');
  const callerData = Buffer.from(associatedData ?? '', 'utf8');
  return Buffer.concat([prefix, Buffer.from([0]), callerData]);
}

function parseHeader(ciphertext: string): { version: string; keyId: string; parts: string[] } {
  const parts = typeof ciphertext === 'string' ? ciphertext.split('.') : [];
  const [version, keyId] = parts;
  if (parts.length < 2 || !/^v[0-9]+$/.test(version) || !KEY_ID_PATTERN.test(keyId)) {
    throw new SecretBoxError(
      'malformed',
      'The value is not an encrypted secret: expected "v1.<keyId>.<iv>.<ciphertext>.<tag>".',
    );
  }
  return { version, keyId, parts };
}

function parseCiphertext(ciphertext: string): ParsedCiphertext {
  const { version, keyId, parts } = parseHeader(ciphertext);
  if (version !== FORMAT_VERSION) {
    throw new SecretBoxError(
      'unsupportedVersion',
      `The encrypted secret uses format "${version}", ` +
        `but this version of the plugin reads only "${FORMAT_VERSION}".`,
    );
  }
  if (parts.length !== 5) {
    throw new SecretBoxError(
      'malformed',
      `The encrypted secret has ${parts.length} parts, ` +
        `but a "${FORMAT_VERSION}" secret has 5 parts separated by ".".`,
    );
  }

  const iv = decodeBase64Url(parts[2], 'IV');
  const body = decodeBase64Url(parts[3], 'ciphertext');
  const tag = decodeBase64Url(parts[4], 'authentication tag');
  if (iv.length !== IV_BYTES) {
    throw new SecretBoxError('malformed', `The IV is ${iv.length} bytes; expected ${IV_BYTES}.`);
  }
  if (tag.length !== TAG_BYTES) {
    const message = `The authentication tag is ${tag.length} bytes; expected ${TAG_BYTES}.`;
    throw new SecretBoxError('malformed', message);
  }
  return { version, keyId, iv, ciphertext: body, tag };
}

/**
 * Decodes unpadded base64url strictly. Node's decoder skips characters outside the alphabet
 * and ignores the unused low bits of the last character, so each value must also re-encode
 * to the same text. Without that check, some edits to the stored string would go unnoticed.
 */
function decodeBase64Url(text: string, partName: string): Buffer {
  const decoded = Buffer.from(text, 'base64url');
  if (!BASE64URL_PATTERN.test(text) || decoded.toString('base64url') !== text) {
    throw new SecretBoxError('malformed', `The ${partName} is not canonical unpadded base64url.`);
  }
  return decoded;
}
