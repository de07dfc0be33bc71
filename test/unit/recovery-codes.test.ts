import { expect } from 'chai';

import type { Keyring } from '../../plugin/host/contract.js';
import {
  RECOVERY_CODE_ALPHABET,
  RECOVERY_CODE_LENGTH,
  constantTimeEqual,
  deriveRecoveryCodePepper,
  formatRecoveryCode,
  generateRecoveryCode,
  generateRecoveryCodes,
  hashRecoveryCode,
  looksLikeRecoveryCode,
  normaliseRecoveryCode,
  verifyRecoveryCode,
  type NormalisedRecoveryCode,
} from '../../plugin/mfa/recovery-codes.js';

const CODE = '7KQ2MXR9TDHW4PC3NFZB';
const CODE_DISPLAYED = '7KQ2M-XR9TD-HW4PC-3NFZB';

// Computed outside Node with `printf '7KQ2MXR9TDHW4PC3NFZB' | sha256sum` and with
// `openssl dgst -sha256 -hmac 'test pepper'`.
const CODE_SHA256 = '98378f19c449f5fb6d2f923cc9f6f96623d747c6d49bda523afe0f6f6b4a3097';
const CODE_HMAC_TEST_PEPPER = '6b9a24ed942116c055410b3376e7950519869b0d6489e0c72d157f69c61f47d1';
const TEST_PEPPER = Buffer.from('test pepper', 'utf8');

// Bytes 0x01 to 0x20. The pepper was computed with `openssl kdf -keylen 32 -kdfopt digest:SHA256
// -kdfopt hexkey:<key> -kdfopt info:clinical-record-access/recovery-code-pepper/v1 HKDF`.
const SEQUENTIAL_KEY = Buffer.from(Array.from({ length: 32 }, (_, index) => index + 1));
const SEQUENTIAL_KEY_PEPPER = '95c0f3dde53eb38bad8d17214f303469b7fefed80bb5a2d1b331d274e0b4f402';

const keyring: Keyring = {
  currentKeyId: 'k2025',
  keys: new Map([
    ['k2024', SEQUENTIAL_KEY],
    ['k2025', Buffer.alloc(32, 0x5a).fill(0x11, 0, 1)],
  ]),
};

const DISPLAY_PATTERN = new RegExp(`^[${RECOVERY_CODE_ALPHABET}]{5}(-[${RECOVERY_CODE_ALPHABET}]{5}){3}$`);

describe('recovery code alphabet', () => {
  it('has 31 symbols', () => {
    expect(new Set(RECOVERY_CODE_ALPHABET).size).to.equal(31);
    expect(RECOVERY_CODE_ALPHABET).to.have.length(31);
  });

  for (const confusable of ['0', 'O', '1', 'I', 'L']) {
    it(`leaves out ${confusable}`, () => {
      expect(RECOVERY_CODE_ALPHABET).not.to.contain(confusable);
    });
  }

  it('gives each code at least 80 bits of entropy', () => {
    const bits = RECOVERY_CODE_LENGTH * Math.log2(RECOVERY_CODE_ALPHABET.length);

    expect(bits).to.be.at.least(80);
  });
});

describe('generateRecoveryCodes', () => {
  it('returns ten codes by default', () => {
    expect(generateRecoveryCodes()).to.have.length(10);
  });

  it('returns codes that all differ', () => {
    const codes = generateRecoveryCodes();

    expect(new Set(codes).size).to.equal(codes.length);
  });

  it('formats each code as four groups of five', () => {
    for (const code of generateRecoveryCodes()) {
      expect(code).to.match(DISPLAY_PATTERN);
    }
  });

  it('returns codes that normalise without error', () => {
    for (const code of generateRecoveryCodes()) {
      expect(normaliseRecoveryCode(code).ok, code).to.equal(true);
    }
  });

  it('uses every symbol of the alphabet', () => {
    // 400 codes hold 8000 symbols, about 258 of each. The chance that a fair generator
    // misses one symbol entirely is below 10^-30.
    const seen = new Set<string>();
    for (let index = 0; index < 400; index += 1) {
      for (const character of generateRecoveryCode().replaceAll('-', '')) {
        seen.add(character);
      }
    }

    expect([...seen].sort().join('')).to.equal([...RECOVERY_CODE_ALPHABET].sort().join(''));
  });

  it('returns the requested count', () => {
    expect(generateRecoveryCodes(3)).to.have.length(3);
  });

  for (const count of [0, -1, 2.5]) {
    it(`rejects count ${count}`, () => {
      expect(() => generateRecoveryCodes(count)).to.throw(RangeError);
    });
  }
});

describe('formatRecoveryCode', () => {
  it('groups a normalised code', () => {
    expect(formatRecoveryCode(CODE)).to.equal(CODE_DISPLAYED);
  });
});

describe('normaliseRecoveryCode', () => {
  const cases: Array<{ input: string; expected: NormalisedRecoveryCode }> = [
    { input: CODE, expected: { ok: true, code: CODE } },
    { input: CODE_DISPLAYED, expected: { ok: true, code: CODE } },
    { input: CODE_DISPLAYED.toLowerCase(), expected: { ok: true, code: CODE } },
    { input: '7kq2m xr9td hw4pc 3nfzb', expected: { ok: true, code: CODE } },
    { input: ` ${CODE_DISPLAYED}\n`, expected: { ok: true, code: CODE } },
    { input: '7KQ2M\u2013XR9TD\u2013HW4PC\u20133NFZB', expected: { ok: true, code: CODE } },
    { input: '7kQ2m-Xr9tD-hW4pC-3nFzB', expected: { ok: true, code: CODE } },
    { input: '\uFF17\uFF2B\uFF31\uFF12\uFF2DXR9TDHW4PC3NFZB', expected: { ok: true, code: CODE } },
    { input: '', expected: { ok: false, error: 'empty' } },
    { input: ' - - ', expected: { ok: false, error: 'empty' } },
    { input: CODE.slice(0, 19), expected: { ok: false, error: 'wrongLength' } },
    { input: `${CODE}A`, expected: { ok: false, error: 'wrongLength' } },
    { input: '123456', expected: { ok: false, error: 'invalidCharacters' } },
    { input: `O${CODE.slice(1)}`, expected: { ok: false, error: 'invalidCharacters' } },
    { input: `0${CODE.slice(1)}`, expected: { ok: false, error: 'invalidCharacters' } },
    { input: `1${CODE.slice(1)}`, expected: { ok: false, error: 'invalidCharacters' } },
    { input: `I${CODE.slice(1)}`, expected: { ok: false, error: 'invalidCharacters' } },
    { input: `l${CODE.slice(1)}`, expected: { ok: false, error: 'invalidCharacters' } },
    { input: `${CODE.slice(0, 19)}!`, expected: { ok: false, error: 'invalidCharacters' } },
    { input: `${CODE.slice(0, 19)}ß`, expected: { ok: false, error: 'invalidCharacters' } },
    { input: `${CODE.slice(0, 19)}\u0410`, expected: { ok: false, error: 'invalidCharacters' } },
  ];

  for (const { input, expected } of cases) {
    const outcome = expected.ok ? `returns ${expected.code}` : `reports ${expected.error}`;
    it(`${outcome} for ${JSON.stringify(input)}`, () => {
      expect(normaliseRecoveryCode(input)).to.deep.equal(expected);
    });
  }
});

describe('looksLikeRecoveryCode', () => {
  const cases: Array<{ input: string; expected: boolean }> = [
    { input: '123456', expected: false },
    { input: '123 456', expected: false },
    { input: '123-456', expected: false },
    { input: '12345', expected: false },
    { input: '1234567', expected: false },
    { input: '', expected: false },
    { input: CODE_DISPLAYED, expected: true },
    { input: CODE_DISPLAYED.toLowerCase(), expected: true },
    { input: '7kq2m', expected: true },
    { input: '2345-6789-23', expected: true },
  ];

  for (const { input, expected } of cases) {
    it(`${expected ? 'takes' : 'does not take'} ${JSON.stringify(input)} for a recovery code`, () => {
      expect(looksLikeRecoveryCode(input)).to.equal(expected);
    });
  }
});

describe('hashRecoveryCode', () => {
  it('matches SHA-256 without a pepper', () => {
    expect(hashRecoveryCode(CODE)).to.equal(CODE_SHA256);
  });

  it('matches HMAC-SHA-256 with a pepper', () => {
    expect(hashRecoveryCode(CODE, TEST_PEPPER)).to.equal(CODE_HMAC_TEST_PEPPER);
  });

  it('hashes every typed form alike', () => {
    expect(hashRecoveryCode('7kq2m xr9td-hw4pc 3nfzb', TEST_PEPPER)).to.equal(CODE_HMAC_TEST_PEPPER);
  });

  it('gives different hashes under different peppers', () => {
    const otherPepper = Buffer.from('other pepper', 'utf8');

    expect(hashRecoveryCode(CODE, otherPepper)).not.to.equal(CODE_HMAC_TEST_PEPPER);
  });

  it('rejects a malformed code', () => {
    expect(() => hashRecoveryCode('123456')).to.throw(RangeError, 'invalidCharacters');
  });
});

describe('deriveRecoveryCodePepper', () => {
  it('matches HKDF-SHA-256 computed by OpenSSL', () => {
    expect(deriveRecoveryCodePepper(keyring, 'k2024').toString('hex')).to.equal(SEQUENTIAL_KEY_PEPPER);
  });

  it('uses the current key by default', () => {
    const byDefault = deriveRecoveryCodePepper(keyring);

    expect(byDefault.equals(deriveRecoveryCodePepper(keyring, 'k2025'))).to.equal(true);
  });

  it('gives each key its own pepper', () => {
    const pepper2024 = deriveRecoveryCodePepper(keyring, 'k2024');

    expect(pepper2024.equals(deriveRecoveryCodePepper(keyring, 'k2025'))).to.equal(false);
  });

  it('differs from the key it derives from', () => {
    expect(deriveRecoveryCodePepper(keyring, 'k2024').equals(SEQUENTIAL_KEY)).to.equal(false);
  });

  it('rejects an unknown key id', () => {
    expect(() => deriveRecoveryCodePepper(keyring, 'k2099')).to.throw(RangeError, '"k2099"');
  });
});

describe('constantTimeEqual', () => {
  it('returns true for equal strings', () => {
    expect(constantTimeEqual(CODE_SHA256, CODE_SHA256)).to.equal(true);
  });

  it('returns false for one changed character', () => {
    const changed = `${CODE_SHA256.slice(0, -1)}0`;

    expect(constantTimeEqual(CODE_SHA256, changed)).to.equal(false);
  });

  it('returns false for different lengths', () => {
    expect(constantTimeEqual(CODE_SHA256, CODE_SHA256.slice(0, -1))).to.equal(false);
  });

  it('returns true for two empty strings', () => {
    expect(constantTimeEqual('', '')).to.equal(true);
  });
});

describe('verifyRecoveryCode', () => {
  const pepper = deriveRecoveryCodePepper(keyring);
  const storedHash = hashRecoveryCode(CODE_DISPLAYED, pepper);

  it('accepts the code as typed in lower case', () => {
    expect(verifyRecoveryCode('7kq2m-xr9td-hw4pc-3nfzb', storedHash, pepper)).to.equal(true);
  });

  it('rejects another code', () => {
    expect(verifyRecoveryCode(generateRecoveryCode(), storedHash, pepper)).to.equal(false);
  });

  it('rejects the code under another pepper', () => {
    const otherPepper = deriveRecoveryCodePepper(keyring, 'k2024');

    expect(verifyRecoveryCode(CODE, storedHash, otherPepper)).to.equal(false);
  });

  it('rejects malformed input without throwing', () => {
    expect(verifyRecoveryCode('not a code!', storedHash, pepper)).to.equal(false);
  });
});
