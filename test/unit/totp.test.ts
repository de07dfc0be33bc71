import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import { expect } from 'chai';
import { generate } from 'otplib';

import {
  buildOtpauthUri,
  generateTotpSecret,
  normaliseCode,
  timeStepAt,
  verifyTotp,
  type NormalisedCode,
} from '../../plugin/mfa/totp.js';

/** The RFC 6238 appendix B SHA-1 seed, the ASCII string "12345678901234567890", in base32. */
const RFC_SECRET_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const RFC_SECRET_ASCII = new TextEncoder().encode('12345678901234567890');

/** RFC 6238 appendix B: Unix time and the 8-digit SHA-1 code at that time. */
const RFC_SHA1_VECTORS: Array<{ unixSeconds: number; code: string }> = [
  { unixSeconds: 59, code: '94287082' },
  { unixSeconds: 1111111109, code: '07081804' },
  { unixSeconds: 1111111111, code: '14050471' },
  { unixSeconds: 1234567890, code: '89005924' },
  { unixSeconds: 2000000000, code: '69279037' },
  { unixSeconds: 20000000000, code: '65353130' },
];

/** A fixed 20-byte secret and instant, so every run computes the same codes. */
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const NOW = new Date('2030-01-01T00:00:10Z');
const CURRENT_STEP = Math.floor(NOW.getTime() / 1000 / 30);

const OATHTOOL = '/usr/bin/oathtool';

/** Returns what a promise rejects with, or null when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => null,
    (reason: unknown) => reason,
  );
}

/** Computes the 6-digit code for `SECRET` at a time step with otplib, as an authenticator app would. */
async function codeAtStep(step: number): Promise<string> {
  return generate({ secret: SECRET, epoch: step * 30 });
}

describe('TOTP RFC 6238 vectors', () => {
  for (const vector of RFC_SHA1_VECTORS) {
    it(`otplib gives the 8-digit code at ${vector.unixSeconds}`, async () => {
      const code = await generate({ secret: RFC_SECRET_ASCII, digits: 8, epoch: vector.unixSeconds });

      expect(code).to.equal(vector.code);
    });
  }

  for (const vector of RFC_SHA1_VECTORS) {
    it(`verifyTotp accepts the 6-digit code at ${vector.unixSeconds}`, async () => {
      // HOTP truncates modulo 10^digits, so the 6-digit code is the vector's last six digits.
      const sixDigitCode = vector.code.slice(-6);
      const result = await verifyTotp({
        secret: RFC_SECRET_BASE32,
        code: sixDigitCode,
        now: new Date(vector.unixSeconds * 1000),
        lastUsedTimeStep: null,
      });

      expect(result).to.deep.equal({ valid: true, timeStep: Math.floor(vector.unixSeconds / 30) });
    });
  }
});

describe('verifyTotp tolerance', () => {
  it('uses five different codes around the fixed instant', async () => {
    const codes = await Promise.all([-2, -1, 0, 1, 2].map((offset) => codeAtStep(CURRENT_STEP + offset)));

    expect(new Set(codes).size).to.equal(5);
  });

  for (const offset of [-1, 0, 1]) {
    it(`accepts the code from step ${offset > 0 ? '+' : ''}${offset}`, async () => {
      const code = await codeAtStep(CURRENT_STEP + offset);
      const result = await verifyTotp({ secret: SECRET, code, now: NOW, lastUsedTimeStep: null });

      expect(result).to.deep.equal({ valid: true, timeStep: CURRENT_STEP + offset });
    });
  }

  for (const offset of [-2, 2]) {
    it(`rejects the code from step ${offset > 0 ? '+' : ''}${offset}`, async () => {
      const code = await codeAtStep(CURRENT_STEP + offset);
      const result = await verifyTotp({ secret: SECRET, code, now: NOW, lastUsedTimeStep: null });

      expect(result).to.deep.equal({ valid: false, reason: 'invalid' });
    });
  }

  it('keeps the step until its last millisecond', async () => {
    const lastMillisecond = new Date((CURRENT_STEP * 30 + 29) * 1000 + 999);
    const code = await codeAtStep(CURRENT_STEP - 1);
    const result = await verifyTotp({ secret: SECRET, code, now: lastMillisecond, lastUsedTimeStep: null });

    expect(result).to.deep.equal({ valid: true, timeStep: CURRENT_STEP - 1 });
  });

  it('rejects step -1 once the next step begins', async () => {
    const nextStepStart = new Date((CURRENT_STEP + 1) * 30 * 1000);
    const code = await codeAtStep(CURRENT_STEP - 1);
    const result = await verifyTotp({ secret: SECRET, code, now: nextStepStart, lastUsedTimeStep: null });

    expect(result).to.deep.equal({ valid: false, reason: 'invalid' });
  });
});

describe('verifyTotp replay protection', () => {
  it('rejects a replayed code', async () => {
    const code = await codeAtStep(CURRENT_STEP);
    const result = await verifyTotp({ secret: SECRET, code, now: NOW, lastUsedTimeStep: CURRENT_STEP });

    expect(result).to.deep.equal({ valid: false, reason: 'replayed' });
  });

  it('rejects a code older than the last used step', async () => {
    const code = await codeAtStep(CURRENT_STEP - 1);
    const result = await verifyTotp({ secret: SECRET, code, now: NOW, lastUsedTimeStep: CURRENT_STEP });

    expect(result).to.deep.equal({ valid: false, reason: 'replayed' });
  });

  it('accepts the step after the last used one', async () => {
    const code = await codeAtStep(CURRENT_STEP);
    const result = await verifyTotp({ secret: SECRET, code, now: NOW, lastUsedTimeStep: CURRENT_STEP - 1 });

    expect(result).to.deep.equal({ valid: true, timeStep: CURRENT_STEP });
  });

  it('accepts a future step after the current one was used', async () => {
    const code = await codeAtStep(CURRENT_STEP + 1);
    const result = await verifyTotp({ secret: SECRET, code, now: NOW, lastUsedTimeStep: CURRENT_STEP });

    expect(result).to.deep.equal({ valid: true, timeStep: CURRENT_STEP + 1 });
  });

  it('rejects a replay after the server clock went back', async () => {
    // The last used step lies beyond the window, where otplib's afterTimeStep would throw.
    const code = await codeAtStep(CURRENT_STEP);
    const result = await verifyTotp({ secret: SECRET, code, now: NOW, lastUsedTimeStep: CURRENT_STEP + 5 });

    expect(result).to.deep.equal({ valid: false, reason: 'replayed' });
  });

  it('calls a wrong code invalid, not replayed', async () => {
    const result = await verifyTotp({
      secret: SECRET,
      code: '000000',
      now: NOW,
      lastUsedTimeStep: CURRENT_STEP,
    });

    expect(result).to.deep.equal({ valid: false, reason: 'invalid' });
  });

  it('calls a wrong code invalid when every step is used', async () => {
    const result = await verifyTotp({
      secret: SECRET,
      code: '000000',
      now: NOW,
      lastUsedTimeStep: CURRENT_STEP + 5,
    });

    expect(result).to.deep.equal({ valid: false, reason: 'invalid' });
  });

  it('accepts the first code when no step is used', async () => {
    const code = await codeAtStep(CURRENT_STEP);
    const result = await verifyTotp({ secret: SECRET, code, now: NOW, lastUsedTimeStep: 0 });

    expect(result).to.deep.equal({ valid: true, timeStep: CURRENT_STEP });
  });
});

describe('verifyTotp input handling', () => {
  it('accepts a code typed with a space', async () => {
    const code = await codeAtStep(CURRENT_STEP);
    const typed = `${code.slice(0, 3)} ${code.slice(3)}`;
    const result = await verifyTotp({ secret: SECRET, code: typed, now: NOW, lastUsedTimeStep: null });

    expect(result).to.deep.equal({ valid: true, timeStep: CURRENT_STEP });
  });

  for (const code of ['', '12345', '1234567', 'abcdef', '12345a']) {
    it(`returns invalid for malformed code "${code}"`, async () => {
      // otplib throws on a token that is not exactly six digits, so this also shows that
      // malformed input never reaches it.
      const result = await verifyTotp({ secret: SECRET, code, now: NOW, lastUsedTimeStep: null });

      expect(result).to.deep.equal({ valid: false, reason: 'invalid' });
    });
  }

  it('rejects a secret under 16 bytes', async () => {
    const shortSecret = 'JBSWY3DPEHPK3PXP';
    const error = await rejection(verifyTotp({ secret: shortSecret, code: '123456', now: NOW, lastUsedTimeStep: null }));

    expect(error).to.be.instanceOf(RangeError);
  });

  it('rejects a secret that is not base32', async () => {
    const error = await rejection(verifyTotp({
      secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PX1',
      code: '123456',
      now: NOW,
      lastUsedTimeStep: null,
    }));

    expect(error).to.be.instanceOf(RangeError);
  });

  for (const lastUsedTimeStep of [-1, 1.5, Number.NaN]) {
    it(`rejects lastUsedTimeStep ${lastUsedTimeStep}`, async () => {
      const verification = verifyTotp({ secret: SECRET, code: '123456', now: NOW, lastUsedTimeStep });
      const error = await rejection(verification);

      expect(error).to.be.instanceOf(RangeError);
    });
  }

  it('rejects an invalid date', async () => {
    const invalidDate = new Date('not a date');
    const error = await rejection(verifyTotp({ secret: SECRET, code: '123456', now: invalidDate, lastUsedTimeStep: null }));

    expect(error).to.be.instanceOf(RangeError);
  });
});

describe('normaliseCode', () => {
  const cases: Array<{ input: string; expected: NormalisedCode }> = [
    { input: '123456', expected: { ok: true, code: '123456' } },
    { input: '123 456', expected: { ok: true, code: '123456' } },
    { input: '123456 ', expected: { ok: true, code: '123456' } },
    { input: ' 123456', expected: { ok: true, code: '123456' } },
    { input: '123-456', expected: { ok: true, code: '123456' } },
    { input: '123\u2013456', expected: { ok: true, code: '123456' } },
    { input: '123\u00A0456', expected: { ok: true, code: '123456' } },
    { input: '\t123456', expected: { ok: true, code: '123456' } },
    { input: '\uFF11\uFF12\uFF13\uFF14\uFF15\uFF16', expected: { ok: true, code: '123456' } },
    { input: '012345', expected: { ok: true, code: '012345' } },
    { input: '', expected: { ok: false, error: 'empty' } },
    { input: '   ', expected: { ok: false, error: 'empty' } },
    { input: ' - ', expected: { ok: false, error: 'empty' } },
    { input: '12345a', expected: { ok: false, error: 'notDigits' } },
    { input: '123.456', expected: { ok: false, error: 'notDigits' } },
    { input: 'ABCD-EFGH', expected: { ok: false, error: 'notDigits' } },
    { input: '\u0661\u0662\u0663\u0664\u0665\u0666', expected: { ok: false, error: 'notDigits' } },
    { input: '12345', expected: { ok: false, error: 'wrongLength' } },
    { input: '1234567', expected: { ok: false, error: 'wrongLength' } },
    { input: '12345678', expected: { ok: false, error: 'wrongLength' } },
  ];

  for (const { input, expected } of cases) {
    const outcome = expected.ok ? `returns ${expected.code}` : `reports ${expected.error}`;
    it(`${outcome} for ${JSON.stringify(input)}`, () => {
      expect(normaliseCode(input)).to.deep.equal(expected);
    });
  }
});

describe('generateTotpSecret', () => {
  it('returns 32 base32 characters', () => {
    expect(generateTotpSecret()).to.match(/^[A-Z2-7]{32}$/);
  });

  it('returns a different secret each time', () => {
    expect(generateTotpSecret()).not.to.equal(generateTotpSecret());
  });

  it('returns a secret that verifyTotp accepts', async () => {
    const secret = generateTotpSecret();
    const code = await generate({ secret, epoch: CURRENT_STEP * 30 });
    const result = await verifyTotp({ secret, code, now: NOW, lastUsedTimeStep: null });

    expect(result).to.deep.equal({ valid: true, timeStep: CURRENT_STEP });
  });
});

describe('buildOtpauthUri', () => {
  it('builds the Key URI for plain names', () => {
    const uri = buildOtpauthUri({ secret: SECRET, issuer: 'Northside Clinic', label: 'mary@example.org' });

    expect(uri).to.equal(
      'otpauth://totp/Northside%20Clinic:mary%40example.org' +
        `?secret=${SECRET}&issuer=Northside%20Clinic&algorithm=SHA1&digits=6&period=30`,
    );
  });

  it('encodes spaces, apostrophes and diacritics', () => {
    const uri = buildOtpauthUri({ secret: SECRET, issuer: "St Mary's Clínica", label: "josé.o'neil" });

    expect(uri).to.contain('otpauth://totp/St%20Mary%27s%20Cl%C3%ADnica:jos%C3%A9.o%27neil?');
    expect(uri).to.contain('&issuer=St%20Mary%27s%20Cl%C3%ADnica&');
  });

  it('encodes a typographic apostrophe as UTF-8', () => {
    const uri = buildOtpauthUri({ secret: SECRET, issuer: 'St Mary\u2019s', label: 'mary' });

    expect(uri).to.contain('/St%20Mary%E2%80%99s:mary?');
  });

  it('decodes back to the issuer and label', () => {
    const issuer = "Zoë's Family Practice & Co (North)";
    const label = 'zoë+portal@example.org';
    const uri = new URL(buildOtpauthUri({ secret: SECRET, issuer, label }));
    const [decodedIssuer, decodedLabel] = uri.pathname.slice(1).split(':').map(decodeURIComponent);

    expect(decodedIssuer).to.equal(issuer);
    expect(decodedLabel).to.equal(label);
    expect(uri.searchParams.get('issuer')).to.equal(issuer);
    expect(uri.searchParams.get('secret')).to.equal(SECRET);
  });

  it('leaves no reserved character unencoded in the label', () => {
    const uri = buildOtpauthUri({ secret: SECRET, issuer: "A!'()*", label: 'b&c=d?e#f/g' });
    const labelPath = uri.slice('otpauth://totp/'.length, uri.indexOf('?'));

    expect(labelPath).to.match(/^[A-Za-z0-9%._~-]+:[A-Za-z0-9%._~-]+$/);
  });

  it('replaces a colon inside the issuer', () => {
    const uri = buildOtpauthUri({ secret: SECRET, issuer: 'Clinic: North', label: 'mary' });

    expect(uri).to.contain('otpauth://totp/Clinic%20North:mary?');
    expect(uri).to.contain('&issuer=Clinic%20North&');
  });

  it('states SHA1, 6 digits and 30 seconds', () => {
    const uri = new URL(buildOtpauthUri({ secret: SECRET, issuer: 'Clinic', label: 'mary' }));

    expect(uri.searchParams.get('algorithm')).to.equal('SHA1');
    expect(uri.searchParams.get('digits')).to.equal('6');
    expect(uri.searchParams.get('period')).to.equal('30');
  });

  it('rejects an empty issuer', () => {
    const build = () => buildOtpauthUri({ secret: SECRET, issuer: '  ', label: 'mary' });

    expect(build).to.throw(RangeError, 'issuer');
  });

  it('rejects an empty label', () => {
    const build = () => buildOtpauthUri({ secret: SECRET, issuer: 'Clinic', label: '' });

    expect(build).to.throw(RangeError, 'label');
  });

  it('rejects a short secret', () => {
    const build = () => buildOtpauthUri({ secret: 'JBSWY3DP', issuer: 'Clinic', label: 'mary' });

    expect(build).to.throw(RangeError, 'at least 16 bytes');
  });
});

describe('timeStepAt', () => {
  it('counts 30-second steps from the Unix epoch', () => {
    expect(timeStepAt(new Date(59_000))).to.equal(1);
  });

  it('starts a new step on the boundary', () => {
    expect(timeStepAt(new Date(60_000))).to.equal(2);
  });
});

/** Runs oathtool, an independent TOTP implementation, for `SECRET` at '2030-01-01 00:00:00 UTC' style instants. */
function oathtoolCode(instant: string): string {
  return execFileSync(OATHTOOL, ['--totp', '-b', SECRET, '--now', instant], { encoding: 'utf8' }).trim();
}

/** Parses '2030-01-01 00:00:00 UTC' as the same instant oathtool reads. */
function parseUtcInstant(instant: string): Date {
  return new Date(`${instant.replace(' UTC', '').replace(' ', 'T')}Z`);
}

describe('TOTP cross-check with oathtool', function () {
  before(function () {
    if (!existsSync(OATHTOOL)) {
      // NOTE: the cross-check needs the Debian package oathtool; without it these tests are skipped.
      this.skip();
    }
  });

  const instants = ['2030-01-01 00:00:00 UTC', '2024-02-29 12:34:56 UTC', '2001-09-09 01:46:40 UTC'];

  for (const instant of instants) {
    it(`accepts oathtool's code at ${instant}`, async () => {
      const code = oathtoolCode(instant);
      const now = parseUtcInstant(instant);
      const result = await verifyTotp({ secret: SECRET, code, now, lastUsedTimeStep: null });

      expect(result).to.deep.equal({ valid: true, timeStep: timeStepAt(now) });
    });

    it(`matches otplib to oathtool at ${instant}`, async () => {
      const code = oathtoolCode(instant);
      const now = parseUtcInstant(instant);

      expect(await generate({ secret: SECRET, epoch: Math.floor(now.getTime() / 1000) })).to.equal(code);
    });
  }
});
