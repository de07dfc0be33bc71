import { createHash } from 'node:crypto';

import { expect } from 'chai';

import type { Keyring } from '../../plugin/host/contract.js';
import {
  KeyringError,
  SecretBoxError,
  assertStrongKeyring,
  decryptSecret,
  encryptSecret,
  needsReencryption,
} from '../../plugin/crypto/secret-box.js';

/** Fixed 32-byte test keys, derived from a label so every run uses the same bytes. */
function testKey(label: string): Buffer {
  return createHash('sha256').update(label).digest();
}

const key2024 = testKey('test key 2024');
const key2025 = testKey('test key 2025');

const keyring2024: Keyring = { currentKeyId: 'k2024', keys: new Map([['k2024', key2024]]) };
const rotatedKeyring: Keyring = {
  currentKeyId: 'k2025',
  keys: new Map([
    ['k2024', key2024],
    ['k2025', key2025],
  ]),
};

const totpSecret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** Returns the error `action` throws, or fails the test if it throws none. */
function caught(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('Expected the call to throw, but it returned.');
}

/** Flips the lowest bit of the first byte of one base64url part of a ciphertext. */
function flipBitInPart(ciphertext: string, partIndex: number): string {
  const parts = ciphertext.split('.');
  const bytes = Buffer.from(parts[partIndex], 'base64url');
  bytes[0] ^= 0x01;
  parts[partIndex] = bytes.toString('base64url');
  return parts.join('.');
}

function replacePart(ciphertext: string, partIndex: number, value: string): string {
  const parts = ciphertext.split('.');
  parts[partIndex] = value;
  return parts.join('.');
}

describe('encryptSecret and decryptSecret', () => {
  it('round-trips a secret', () => {
    const ciphertext = encryptSecret(totpSecret, keyring2024);

    expect(decryptSecret(ciphertext, keyring2024)).to.equal(totpSecret);
  });

  it('round-trips a secret with associated data', () => {
    const ciphertext = encryptSecret(totpSecret, keyring2024, { associatedData: 'patient-17' });

    expect(decryptSecret(ciphertext, keyring2024, { associatedData: 'patient-17' })).to.equal(totpSecret);
  });

  it('round-trips an empty secret', () => {
    const ciphertext = encryptSecret('', keyring2024);

    expect(decryptSecret(ciphertext, keyring2024)).to.equal('');
  });

  it('round-trips non-ASCII text', () => {
    const plaintext = 'Søren Ø’Brien — 東京';
    const ciphertext = encryptSecret(plaintext, keyring2024);

    expect(decryptSecret(ciphertext, keyring2024)).to.equal(plaintext);
  });

  it('writes version, key id, IV, ciphertext and tag', () => {
    const ciphertext = encryptSecret(totpSecret, keyring2024);
    const parts = ciphertext.split('.');

    expect(parts).to.have.length(5);
    expect(parts[0]).to.equal('v1');
    expect(parts[1]).to.equal('k2024');
    expect(Buffer.from(parts[2], 'base64url')).to.have.length(12);
    expect(Buffer.from(parts[3], 'base64url')).to.have.length(Buffer.byteLength(totpSecret));
    expect(Buffer.from(parts[4], 'base64url')).to.have.length(16);
    expect(ciphertext).to.match(/^v1\.k2024\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/);
  });

  it('uses a new IV for each encryption', () => {
    const first = encryptSecret(totpSecret, keyring2024).split('.');
    const second = encryptSecret(totpSecret, keyring2024).split('.');

    expect(first[2]).not.to.equal(second[2]);
    expect(first[3]).not.to.equal(second[3]);
  });

  it('leaves no plaintext in the ciphertext', () => {
    const ciphertext = encryptSecret(totpSecret, keyring2024);

    expect(ciphertext).not.to.contain(totpSecret);
    expect(ciphertext).not.to.contain(Buffer.from(totpSecret).toString('base64url'));
  });
});

describe('decryptSecret tamper detection', () => {
  const ciphertext = encryptSecret(totpSecret, keyring2024, { associatedData: 'patient-17' });
  const options = { associatedData: 'patient-17' };

  it('rejects a changed IV', () => {
    const error = caught(() => decryptSecret(flipBitInPart(ciphertext, 2), keyring2024, options));

    expect(error).to.be.instanceOf(SecretBoxError);
    expect((error as SecretBoxError).code).to.equal('decryptionFailed');
  });

  it('rejects a changed ciphertext', () => {
    const error = caught(() => decryptSecret(flipBitInPart(ciphertext, 3), keyring2024, options));

    expect((error as SecretBoxError).code).to.equal('decryptionFailed');
  });

  it('rejects a changed tag', () => {
    const error = caught(() => decryptSecret(flipBitInPart(ciphertext, 4), keyring2024, options));

    expect((error as SecretBoxError).code).to.equal('decryptionFailed');
  });

  it('rejects a truncated tag', () => {
    const parts = ciphertext.split('.');
    const shortTag = Buffer.from(parts[4], 'base64url').subarray(0, 12).toString('base64url');
    const error = caught(() => decryptSecret(replacePart(ciphertext, 4, shortTag), keyring2024, options));

    expect((error as SecretBoxError).code).to.equal('malformed');
  });

  it('rejects a short IV', () => {
    const shortIv = Buffer.alloc(8, 1).toString('base64url');
    const error = caught(() => decryptSecret(replacePart(ciphertext, 2, shortIv), keyring2024, options));

    expect((error as SecretBoxError).code).to.equal('malformed');
  });

  it('rejects a non-canonical last base64url character', () => {
    // A 16-byte tag leaves 2 unused bits in its last character. Changing only those bits
    // decodes to the same bytes, so only the strict decoder can catch it.
    const tag = ciphertext.split('.')[4];
    const lastCharacter = tag.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sameBytes = alphabet[alphabet.indexOf(lastCharacter) ^ 0x01];
    const changedTag = tag.slice(0, -1) + sameBytes;
    expect(Buffer.from(changedTag, 'base64url').equals(Buffer.from(tag, 'base64url'))).to.equal(true);

    const error = caught(() => decryptSecret(replacePart(ciphertext, 4, changedTag), keyring2024, options));

    expect((error as SecretBoxError).code).to.equal('malformed');
  });

  it('rejects characters outside base64url', () => {
    const error = caught(() => decryptSecret(replacePart(ciphertext, 3, 'ab+/'), keyring2024, options));

    expect((error as SecretBoxError).code).to.equal('malformed');
  });

  it('rejects a changed version', () => {
    const error = caught(() => decryptSecret(replacePart(ciphertext, 0, 'v2'), keyring2024, options));

    expect((error as SecretBoxError).code).to.equal('unsupportedVersion');
  });

  it('rejects a key id changed to another known key', () => {
    const moved = replacePart(encryptSecret(totpSecret, keyring2024), 1, 'k2025');
    const error = caught(() => decryptSecret(moved, rotatedKeyring));

    expect((error as SecretBoxError).code).to.equal('decryptionFailed');
  });

  it('rejects a missing part', () => {
    const parts = ciphertext.split('.');
    const error = caught(() => decryptSecret(parts.slice(0, 4).join('.'), keyring2024, options));

    expect((error as SecretBoxError).code).to.equal('malformed');
  });

  it('rejects a value that is not a ciphertext', () => {
    const error = caught(() => decryptSecret(totpSecret, keyring2024));

    expect((error as SecretBoxError).code).to.equal('malformed');
  });
});

describe('decryptSecret associated data', () => {
  const ciphertext = encryptSecret(totpSecret, keyring2024, { associatedData: 'patient-17' });

  it("rejects another owner's associated data", () => {
    const error = caught(() => decryptSecret(ciphertext, keyring2024, { associatedData: 'patient-18' }));

    expect((error as SecretBoxError).code).to.equal('decryptionFailed');
  });

  it('rejects missing associated data', () => {
    const error = caught(() => decryptSecret(ciphertext, keyring2024));

    expect((error as SecretBoxError).code).to.equal('decryptionFailed');
  });

  it('rejects associated data added at decryption', () => {
    const withoutData = encryptSecret(totpSecret, keyring2024);
    const error = caught(() => decryptSecret(withoutData, keyring2024, { associatedData: 'patient-17' }));

    expect((error as SecretBoxError).code).to.equal('decryptionFailed');
  });

  it('treats omitted associated data as empty', () => {
    const withoutData = encryptSecret(totpSecret, keyring2024);

    expect(decryptSecret(withoutData, keyring2024, { associatedData: '' })).to.equal(totpSecret);
  });

  it('names the key id in the failure message', () => {
    const error = caught(() => decryptSecret(ciphertext, keyring2024, { associatedData: 'patient-18' }));

    expect(error.message).to.contain('"k2024"');
  });
});

describe('decryptSecret unknown key id', () => {
  const ciphertext = encryptSecret(totpSecret, rotatedKeyring);

  it('rejects a key id missing from the keyring', () => {
    const error = caught(() => decryptSecret(ciphertext, keyring2024));

    expect(error).to.be.instanceOf(SecretBoxError);
    expect((error as SecretBoxError).code).to.equal('unknownKeyId');
  });

  it('names the missing key id', () => {
    const error = caught(() => decryptSecret(ciphertext, keyring2024));

    expect(error.message).to.contain('"k2025"');
  });

  it('keeps key bytes out of the message', () => {
    const error = caught(() => decryptSecret(ciphertext, keyring2024));

    for (const key of [key2024, key2025]) {
      expect(error.message).not.to.contain(key.toString('hex'));
      expect(error.message).not.to.contain(key.toString('base64'));
      expect(error.message).not.to.contain(key.toString('base64url'));
    }
  });
});

describe('key rotation', () => {
  it('decrypts an old ciphertext after rotation', () => {
    const old = encryptSecret(totpSecret, keyring2024);

    expect(decryptSecret(old, rotatedKeyring)).to.equal(totpSecret);
  });

  it('encrypts with the current key after rotation', () => {
    const ciphertext = encryptSecret(totpSecret, rotatedKeyring);

    expect(ciphertext.split('.')[1]).to.equal('k2025');
  });

  it('flags a ciphertext under an old key', () => {
    const old = encryptSecret(totpSecret, keyring2024);

    expect(needsReencryption(old, rotatedKeyring)).to.equal(true);
  });

  it('leaves a ciphertext under the current key', () => {
    const current = encryptSecret(totpSecret, rotatedKeyring);

    expect(needsReencryption(current, rotatedKeyring)).to.equal(false);
  });

  it('clears the flag after re-encryption', () => {
    const old = encryptSecret(totpSecret, keyring2024, { associatedData: 'patient-17' });
    const plaintext = decryptSecret(old, rotatedKeyring, { associatedData: 'patient-17' });
    const renewed = encryptSecret(plaintext, rotatedKeyring, { associatedData: 'patient-17' });

    expect(needsReencryption(renewed, rotatedKeyring)).to.equal(false);
    expect(decryptSecret(renewed, rotatedKeyring, { associatedData: 'patient-17' })).to.equal(totpSecret);
  });

  it('flags an older format version', () => {
    const current = encryptSecret(totpSecret, rotatedKeyring);

    expect(needsReencryption(replacePart(current, 0, 'v0'), rotatedKeyring)).to.equal(true);
  });

  it('rejects a malformed value when checking rotation', () => {
    const error = caught(() => needsReencryption('not a ciphertext', rotatedKeyring));

    expect((error as SecretBoxError).code).to.equal('malformed');
  });
});

describe('assertStrongKeyring', () => {
  it('accepts two distinct 32-byte keys', () => {
    expect(() => assertStrongKeyring(rotatedKeyring)).not.to.throw();
  });

  it('rejects a missing current key', () => {
    const keyring: Keyring = { currentKeyId: 'k2026', keys: new Map([['k2024', key2024]]) };

    expect(() => assertStrongKeyring(keyring)).to.throw(KeyringError, '"k2026"');
  });

  it('rejects a 31-byte key', () => {
    const keyring: Keyring = { currentKeyId: 'short', keys: new Map([['short', key2024.subarray(0, 31)]]) };

    expect(() => assertStrongKeyring(keyring)).to.throw(KeyringError, '31 bytes');
  });

  it('rejects a 33-byte key', () => {
    const longKey = Buffer.concat([key2024, Buffer.from([7])]);
    const keyring: Keyring = { currentKeyId: 'long', keys: new Map([['long', longKey]]) };

    expect(() => assertStrongKeyring(keyring)).to.throw(KeyringError, '33 bytes');
  });

  it('rejects a key of one repeated byte', () => {
    const keyring: Keyring = {
      currentKeyId: 'k2025',
      keys: new Map([
        ['k2025', key2025],
        ['zeros', Buffer.alloc(32, 0)],
      ]),
    };

    expect(() => assertStrongKeyring(keyring)).to.throw(KeyringError, '"zeros"');
  });

  it('rejects a key id containing the separator', () => {
    const keyring: Keyring = { currentKeyId: 'k.1', keys: new Map([['k.1', key2024]]) };

    expect(() => assertStrongKeyring(keyring)).to.throw(KeyringError, 'Key id "k.1" is invalid');
  });

  it('keeps key bytes out of the message', () => {
    const shortKey = key2024.subarray(0, 31);
    const keyring: Keyring = { currentKeyId: 'short', keys: new Map([['short', shortKey]]) };
    const error = caught(() => assertStrongKeyring(keyring));

    expect(error.message).not.to.contain(shortKey.toString('hex'));
    expect(error.message).not.to.contain(shortKey.toString('base64'));
  });

  it('blocks encryption with a weak current key', () => {
    const keyring: Keyring = { currentKeyId: 'zeros', keys: new Map([['zeros', Buffer.alloc(32, 0)]]) };

    expect(() => encryptSecret(totpSecret, keyring)).to.throw(KeyringError);
  });
});
