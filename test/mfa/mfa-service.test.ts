import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';
import type { Sequelize } from 'sequelize';

import { createAuditTrail, type AuditTrail } from '../../plugin/audit/audit-trail.js';
import { SecretBoxError } from '../../plugin/crypto/secret-box.js';
import { definePluginModels, type PluginModels } from '../../plugin/db/models.js';
import { createMfaService, MfaStateError, QR_CODE_PIXELS_PER_MODULE, type MfaService } from '../../plugin/mfa/mfa-service.js';
import { RECOVERY_CODE_COUNT } from '../../plugin/mfa/recovery-codes.js';
import {
  MFA_FREE_FAILURES,
  MFA_HARD_LOCK_FAILURES,
  MFA_MAX_LOCK_MINUTES,
  lockDurationAfter,
} from '../../plugin/mfa/throttle.js';
import { generateTotpSecret, timeStepAt } from '../../plugin/mfa/totp.js';
import type { PluginContext } from '../../plugin/plugin-context.js';
import { openDatabase } from '../../sandbox/database.js';
import { TestClock } from '../support/clock.js';
import { pluginOf, silentLogger, startTestSandbox, type TestSandbox } from '../support/sandbox.js';

const PRACTICE_ID = 'practice-mfa';
const ACCOUNT = { issuer: 'Riverside Surgery', label: 'alex@example.test' };

/** 10 seconds into a time step, so a code one step away is never on the boundary. */
const START = '2026-12-04T09:00:10Z';
const STEP_MILLISECONDS = 30_000;
const MINUTE_MILLISECONDS = 60_000;

const RECOVERY_CODE_PATTERN = /^[2-9A-HJKMNP-Z]{5}(-[2-9A-HJKMNP-Z]{5}){3}$/;

/** Runs oathtool, as an authenticator app would, for the code at `instant`. */
function codeAt(secret: string, instant: Date): string {
  const utc = instant.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
  return execFileSync('oathtool', ['--totp', '-b', secret, '--now', utc], { encoding: 'utf8' }).trim();
}

/** Returns a 6-digit code that no step from two before to two after `instant` accepts. */
function wrongCodeAt(secret: string, instant: Date): string {
  const nearby = new Set([-2, -1, 0, 1, 2].map((steps) => codeAt(secret, new Date(instant.getTime() + steps * STEP_MILLISECONDS))));
  return ['000000', '111111', '222222', '333333', '444444', '555555'].find((code) => !nearby.has(code))!;
}

function secretFromUri(otpauthUri: string): string {
  return new URL(otpauthUri).searchParams.get('secret')!;
}

/** Returns what a promise rejects with, or null when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => null,
    (reason: unknown) => reason,
  );
}

describe('MFA service', function () {
  const clock = new TestClock(START);
  let testSandbox: TestSandbox;
  let plugin: PluginContext;
  let sequelize: Sequelize;
  let mfa: MfaService;
  let patientNumber = 0;

  before(async function () {
    testSandbox = await startTestSandbox({ clock });
    plugin = pluginOf(testSandbox);
    sequelize = plugin.host.database.sequelize;
    mfa = createMfaService({
      sequelize,
      models: plugin.models,
      keyring: plugin.host.secrets.keyring,
      clock,
      audit: plugin.audit,
      logger: silentLogger,
    });
  });

  after(async function () {
    await testSandbox.close();
  });

  beforeEach(function () {
    clock.set(START);
  });

  const newPatient = () => {
    patientNumber += 1;
    return `patient-${patientNumber}`;
  };

  const factorRow = (patientId: string) => plugin.models.MfaFactor.findOne({ where: { practiceId: PRACTICE_ID, patientId } });

  const recoveryCodeRows = (patientId: string) => plugin.models.RecoveryCode.findAll({ where: { practiceId: PRACTICE_ID, patientId } });

  /** Begins enrolment and returns the secret as a patient's app reads it from the URI. */
  async function beginEnrolment(patientId: string): Promise<string> {
    const start = await mfa.beginEnrolment(PRACTICE_ID, patientId, ACCOUNT);
    return secretFromUri(start.otpauthUri);
  }

  /** Enrols a patient and saves the recovery codes, then moves the clock to the next step. */
  async function enrol(patientId: string): Promise<{ secret: string; recoveryCodes: string[] }> {
    const secret = await beginEnrolment(patientId);
    const confirmation = await mfa.confirmEnrolment(PRACTICE_ID, patientId, codeAt(secret, clock.now()));
    if (!confirmation.ok) {
      throw new Error(`Enrolment of ${patientId} failed: ${confirmation.error}.`);
    }
    await mfa.confirmRecoveryCodesSaved(PRACTICE_ID, patientId);
    clock.advance(STEP_MILLISECONDS);
    return { secret, recoveryCodes: confirmation.recoveryCodes };
  }

  /** Submits a wrong code and moves the clock past any lock it causes. */
  async function failOnce(patientId: string, secret: string): Promise<void> {
    const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, wrongCodeAt(secret, clock.now()));
    expect(result).to.deep.equal({ ok: false, error: 'invalid', method: 'totp' });
    const status = await mfa.status(PRACTICE_ID, patientId);
    if (status.lockedUntil !== null) {
      clock.set(status.lockedUntil);
    }
  }

  describe('enrolment', function () {
    it('returns a QR code of the otpauth URI', async function () {
      const start = await mfa.beginEnrolment(PRACTICE_ID, newPatient(), ACCOUNT);

      const folder = await mkdtemp(join(tmpdir(), 'cra-qr-'));
      try {
        const file = join(folder, 'qr.png');
        await writeFile(file, Buffer.from(start.qrCodeDataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
        const decoded = execFileSync('zbarimg', ['--quiet', '--raw', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

        expect(start.qrCodeDataUrl).to.match(/^data:image\/png;base64,/);
        expect(decoded.trim()).to.equal(start.otpauthUri);
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    });

    it('draws QR modules in whole pixels', async function () {
      const start = await mfa.beginEnrolment(PRACTICE_ID, newPatient(), ACCOUNT);
      const png = Buffer.from(start.qrCodeDataUrl.split(',')[1]!, 'base64');

      // A PNG stores its width and height as 32-bit integers at bytes 16 and 20. The usual
      // URI needs a version 8 symbol: 49 modules plus 4 quiet-zone modules on each side.
      expect(png.readUInt32BE(16)).to.equal(57 * QR_CODE_PIXELS_PER_MODULE);
      expect(png.readUInt32BE(20)).to.equal(57 * QR_CODE_PIXELS_PER_MODULE);
    });

    it('names the issuer and account in the URI', async function () {
      const start = await mfa.beginEnrolment(PRACTICE_ID, newPatient(), ACCOUNT);

      expect(start.otpauthUri).to.match(/^otpauth:\/\/totp\/Riverside%20Surgery:alex%40example\.test\?/);
      expect(new URL(start.otpauthUri).searchParams.get('issuer')).to.equal('Riverside Surgery');
    });

    it('groups the typed secret in fours', async function () {
      const start = await mfa.beginEnrolment(PRACTICE_ID, newPatient(), ACCOUNT);

      expect(start.secretForTyping).to.match(/^[A-Z2-7]{4}( [A-Z2-7]{4})*$/);
      expect(start.secretForTyping.replaceAll(' ', '')).to.equal(secretFromUri(start.otpauthUri));
    });

    it('keeps the secret on reload', async function () {
      const patientId = newPatient();

      const first = await mfa.beginEnrolment(PRACTICE_ID, patientId, ACCOUNT);
      const second = await mfa.beginEnrolment(PRACTICE_ID, patientId, ACCOUNT);

      expect(second.otpauthUri).to.equal(first.otpauthUri);
      expect(second.qrCodeDataUrl).to.equal(first.qrCodeDataUrl);
    });

    it('creates one factor for concurrent starts', async function () {
      const patientId = newPatient();

      const starts = await Promise.all([1, 2, 3].map(() => mfa.beginEnrolment(PRACTICE_ID, patientId, ACCOUNT)));

      expect(new Set(starts.map((start) => start.otpauthUri)).size).to.equal(1);
      expect(await plugin.models.MfaFactor.count({ where: { practiceId: PRACTICE_ID, patientId } })).to.equal(1);
    });

    it('stores the secret encrypted', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);

      const row = await factorRow(patientId);

      expect(row!.secretCiphertext).to.match(/^v1\./);
      expect(row!.secretCiphertext).not.to.contain(secret);
    });

    it('is not confirmed before a code', async function () {
      const patientId = newPatient();
      await beginEnrolment(patientId);

      const status = await mfa.status(PRACTICE_ID, patientId);

      expect(status.enrolled).to.equal(true);
      expect(status.confirmed).to.equal(false);
    });

    it('rejects a wrong code', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);

      const result = await mfa.confirmEnrolment(PRACTICE_ID, patientId, wrongCodeAt(secret, clock.now()));

      expect(result).to.deep.equal({ ok: false, error: 'invalid' });
      expect((await mfa.status(PRACTICE_ID, patientId)).confirmed).to.equal(false);
    });

    it('rejects a code from another secret', async function () {
      const patientId = newPatient();
      await beginEnrolment(patientId);

      const result = await mfa.confirmEnrolment(PRACTICE_ID, patientId, codeAt(generateTotpSecret(), clock.now()));

      expect(result).to.deep.equal({ ok: false, error: 'invalid' });
    });

    const badInputs: Array<{ input: string; error: string }> = [
      { input: '', error: 'empty' },
      { input: '   ', error: 'empty' },
      { input: '12a456', error: 'notDigits' },
      { input: 'abcdef', error: 'notDigits' },
      { input: '12345', error: 'wrongLength' },
      { input: '1234567', error: 'wrongLength' },
    ];
    for (const { input, error } of badInputs) {
      it(`rejects "${input}" as ${error}`, async function () {
        const patientId = newPatient();
        await beginEnrolment(patientId);

        const result = await mfa.confirmEnrolment(PRACTICE_ID, patientId, input);

        expect(result).to.deep.equal({ ok: false, error });
        expect((await mfa.status(PRACTICE_ID, patientId)).failedAttempts).to.equal(0);
      });
    }

    it('accepts a code with a space inside', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);
      const code = codeAt(secret, clock.now());

      const result = await mfa.confirmEnrolment(PRACTICE_ID, patientId, `${code.slice(0, 3)} ${code.slice(3)}`);

      expect(result.ok).to.equal(true);
    });

    it('accepts a code with a trailing space', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);

      const result = await mfa.confirmEnrolment(PRACTICE_ID, patientId, `${codeAt(secret, clock.now())} `);

      expect(result.ok).to.equal(true);
    });

    it('confirms the factor with a right code', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);

      await mfa.confirmEnrolment(PRACTICE_ID, patientId, codeAt(secret, clock.now()));
      const status = await mfa.status(PRACTICE_ID, patientId);
      const row = await factorRow(patientId);

      expect(status.confirmed).to.equal(true);
      expect(Number(row!.lastUsedTimeStep)).to.equal(timeStepAt(clock.now()));
    });

    it('returns notEnrolled before enrolment begins', async function () {
      const result = await mfa.confirmEnrolment(PRACTICE_ID, newPatient(), '123456');

      expect(result).to.deep.equal({ ok: false, error: 'notEnrolled' });
    });

    it('returns alreadyConfirmed on a second confirmation', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);
      await mfa.confirmEnrolment(PRACTICE_ID, patientId, codeAt(secret, clock.now()));

      clock.advance(STEP_MILLISECONDS);
      const result = await mfa.confirmEnrolment(PRACTICE_ID, patientId, codeAt(secret, clock.now()));

      expect(result).to.deep.equal({ ok: false, error: 'alreadyConfirmed' });
    });

    it('rejects starting again once confirmed', async function () {
      const patientId = newPatient();
      await enrol(patientId);

      const error = await rejection(mfa.beginEnrolment(PRACTICE_ID, patientId, ACCOUNT));

      expect(error).to.be.instanceOf(MfaStateError);
      expect((error as MfaStateError).code).to.equal('alreadyEnrolled');
    });
  });

  describe('recovery codes', function () {
    it('returns ten codes on confirmation', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);

      const result = await mfa.confirmEnrolment(PRACTICE_ID, patientId, codeAt(secret, clock.now()));
      const codes = result.ok ? result.recoveryCodes : [];

      expect(result.ok).to.equal(true);
      expect(codes).to.have.length(RECOVERY_CODE_COUNT);
      expect(new Set(codes).size).to.equal(RECOVERY_CODE_COUNT);
      for (const code of codes) {
        expect(code).to.match(RECOVERY_CODE_PATTERN);
      }
    });

    it('keeps pending codes across a reload', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);
      const result = await mfa.confirmEnrolment(PRACTICE_ID, patientId, codeAt(secret, clock.now()));

      const pending = await mfa.pendingRecoveryCodes(PRACTICE_ID, patientId);

      expect(pending).to.deep.equal(result.ok ? result.recoveryCodes : null);
      expect((await mfa.status(PRACTICE_ID, patientId)).recoveryCodesPending).to.equal(true);
    });

    it('stores pending codes encrypted', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);
      const result = await mfa.confirmEnrolment(PRACTICE_ID, patientId, codeAt(secret, clock.now()));

      const ciphertext = (await factorRow(patientId))!.pendingRecoveryCodesCiphertext!;

      expect(ciphertext).to.match(/^v1\./);
      for (const code of result.ok ? result.recoveryCodes : []) {
        expect(ciphertext).not.to.contain(code);
        expect(ciphertext).not.to.contain(code.replaceAll('-', ''));
      }
    });

    it('keeps only hashes once saved', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);
      const result = await mfa.confirmEnrolment(PRACTICE_ID, patientId, codeAt(secret, clock.now()));
      const codes = result.ok ? result.recoveryCodes : [];

      const saved = await mfa.confirmRecoveryCodesSaved(PRACTICE_ID, patientId);
      const rows = await recoveryCodeRows(patientId);
      const stored = JSON.stringify(rows.map((row) => row.toJSON()));

      expect(saved).to.equal(true);
      expect(rows).to.have.length(RECOVERY_CODE_COUNT);
      expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.codeHash))).to.equal(true);
      expect(rows.every((row) => row.pepperKeyId === plugin.host.secrets.keyring().currentKeyId)).to.equal(true);
      expect((await factorRow(patientId))!.pendingRecoveryCodesCiphertext).to.equal(null);
      expect(await mfa.pendingRecoveryCodes(PRACTICE_ID, patientId)).to.equal(null);
      for (const code of codes) {
        expect(stored).not.to.contain(code);
        expect(stored).not.to.contain(code.replaceAll('-', ''));
      }
    });

    it('saves the codes only once', async function () {
      const patientId = newPatient();
      await enrol(patientId);

      const second = await mfa.confirmRecoveryCodesSaved(PRACTICE_ID, patientId);

      expect(second).to.equal(false);
      expect(await recoveryCodeRows(patientId)).to.have.length(RECOVERY_CODE_COUNT);
    });

    it('saves concurrently confirmed codes once', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);
      await mfa.confirmEnrolment(PRACTICE_ID, patientId, codeAt(secret, clock.now()));

      const results = await Promise.all([1, 2].map(() => mfa.confirmRecoveryCodesSaved(PRACTICE_ID, patientId)));

      expect(results.filter((saved) => saved)).to.have.length(1);
      expect(await recoveryCodeRows(patientId)).to.have.length(RECOVERY_CODE_COUNT);
    });

    it('rejects a code not yet saved', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);
      const result = await mfa.confirmEnrolment(PRACTICE_ID, patientId, codeAt(secret, clock.now()));

      const challenge = await mfa.verifyChallenge(PRACTICE_ID, patientId, result.ok ? result.recoveryCodes[0]! : '');

      expect(challenge).to.deep.equal({ ok: false, error: 'invalid', method: 'recoveryCode' });
    });

    it('accepts a recovery code once', async function () {
      const patientId = newPatient();
      const { recoveryCodes } = await enrol(patientId);

      const first = await mfa.verifyChallenge(PRACTICE_ID, patientId, recoveryCodes[0]!);
      clock.advance(1000);
      const second = await mfa.verifyChallenge(PRACTICE_ID, patientId, recoveryCodes[0]!);

      expect(first).to.deep.equal({ ok: true, method: 'recoveryCode', remainingRecoveryCodes: RECOVERY_CODE_COUNT - 1 });
      expect(second).to.deep.equal({ ok: false, error: 'invalid', method: 'recoveryCode' });
    });

    it('keeps a code unused when its audit event fails', async function () {
      const patientId = newPatient();
      const { recoveryCodes } = await enrol(patientId);
      const failingAudit: AuditTrail = {
        ...plugin.audit,
        async record(entry, transaction) {
          if (entry.action === 'mfa.recoveryCodeUsed') {
            throw new Error('The audit store is unavailable.');
          }
          await plugin.audit.record(entry, transaction);
        },
      };
      const mfaWithFailingAudit = createMfaService({ sequelize, models: plugin.models, keyring: plugin.host.secrets.keyring, clock, audit: failingAudit, logger: silentLogger });

      const error = await rejection(mfaWithFailingAudit.verifyChallenge(PRACTICE_ID, patientId, recoveryCodes[0]!));
      const usedRows = (await recoveryCodeRows(patientId)).filter((row) => row.usedAt !== null);
      const retry = await mfa.verifyChallenge(PRACTICE_ID, patientId, recoveryCodes[0]!);

      expect((error as Error).message).to.equal('The audit store is unavailable.');
      expect(usedRows).to.have.length(0);
      expect(retry).to.deep.equal({ ok: true, method: 'recoveryCode', remainingRecoveryCodes: RECOVERY_CODE_COUNT - 1 });
    });

    it('accepts a code typed in lower case with spaces', async function () {
      const patientId = newPatient();
      const { recoveryCodes } = await enrol(patientId);

      const typed = recoveryCodes[1]!.toLowerCase().replaceAll('-', ' ');
      const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, typed);

      expect(result.ok).to.equal(true);
    });

    it('lets one of ten concurrent submissions use a code', async function () {
      const patientId = newPatient();
      const { recoveryCodes } = await enrol(patientId);

      const results = await Promise.all(
        Array.from({ length: 10 }, () => mfa.verifyChallenge(PRACTICE_ID, patientId, recoveryCodes[2]!)),
      );
      const accepted = results.filter((result) => result.ok);
      const usedRows = (await recoveryCodeRows(patientId)).filter((row) => row.usedAt !== null);

      expect(accepted).to.have.length(1);
      expect(results.filter((result) => !result.ok).every((result) => !result.ok && ['invalid', 'lockedOut'].includes(result.error))).to.equal(true);
      expect(usedRows).to.have.length(1);
    });

    it('rejects a code of another patient', async function () {
      const patientId = newPatient();
      const otherPatientId = newPatient();
      await enrol(patientId);
      const other = await enrol(otherPatientId);

      const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, other.recoveryCodes[0]!);

      expect(result).to.deep.equal({ ok: false, error: 'invalid', method: 'recoveryCode' });
    });

    it('rejects confusable characters without counting', async function () {
      const patientId = newPatient();
      await enrol(patientId);

      const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, 'OOOOO-IIIII-LLLLL-00000');

      expect(result).to.deep.equal({ ok: false, error: 'invalidCharacters', method: 'recoveryCode' });
      expect((await mfa.status(PRACTICE_ID, patientId)).failedAttempts).to.equal(0);
    });

    it('rejects a short recovery code without counting', async function () {
      const patientId = newPatient();
      const { recoveryCodes } = await enrol(patientId);

      const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, recoveryCodes[0]!.slice(0, 17));

      expect(result).to.deep.equal({ ok: false, error: 'wrongLength', method: 'recoveryCode' });
      expect((await mfa.status(PRACTICE_ID, patientId)).failedAttempts).to.equal(0);
    });

    it('keeps old codes until new ones are saved', async function () {
      const patientId = newPatient();
      const { recoveryCodes: oldCodes } = await enrol(patientId);

      const newCodes = await mfa.regenerateRecoveryCodes(PRACTICE_ID, patientId);
      const oldBeforeSaving = await mfa.verifyChallenge(PRACTICE_ID, patientId, oldCodes[0]!);
      const newBeforeSaving = await mfa.verifyChallenge(PRACTICE_ID, patientId, newCodes[0]!);

      expect(newCodes).to.have.length(RECOVERY_CODE_COUNT);
      expect(newCodes.some((code) => oldCodes.includes(code))).to.equal(false);
      expect(await mfa.pendingRecoveryCodes(PRACTICE_ID, patientId)).to.deep.equal(newCodes);
      expect(oldBeforeSaving.ok).to.equal(true);
      expect(newBeforeSaving).to.deep.equal({ ok: false, error: 'invalid', method: 'recoveryCode' });
    });

    it('replaces all codes once new ones are saved', async function () {
      const patientId = newPatient();
      const { recoveryCodes: oldCodes } = await enrol(patientId);
      await mfa.verifyChallenge(PRACTICE_ID, patientId, oldCodes[0]!);

      const newCodes = await mfa.regenerateRecoveryCodes(PRACTICE_ID, patientId);
      await mfa.confirmRecoveryCodesSaved(PRACTICE_ID, patientId);

      expect(await recoveryCodeRows(patientId)).to.have.length(RECOVERY_CODE_COUNT);
      expect((await mfa.status(PRACTICE_ID, patientId)).remainingRecoveryCodes).to.equal(RECOVERY_CODE_COUNT);
      expect(await mfa.verifyChallenge(PRACTICE_ID, patientId, oldCodes[1]!)).to.deep.equal({ ok: false, error: 'invalid', method: 'recoveryCode' });
      expect((await mfa.verifyChallenge(PRACTICE_ID, patientId, newCodes[0]!)).ok).to.equal(true);
    });

    it('rejects regenerating before confirmation', async function () {
      const patientId = newPatient();
      await beginEnrolment(patientId);

      const error = await rejection(mfa.regenerateRecoveryCodes(PRACTICE_ID, patientId));

      expect(error).to.be.instanceOf(MfaStateError);
      expect((error as MfaStateError).code).to.equal('notEnrolled');
    });
  });

  describe('challenge', function () {
    it('accepts a code from the app', async function () {
      const patientId = newPatient();
      const { secret } = await enrol(patientId);

      const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, codeAt(secret, clock.now()));

      expect(result).to.deep.equal({ ok: true, method: 'totp', remainingRecoveryCodes: RECOVERY_CODE_COUNT });
    });

    it('rejects a replayed code as invalid', async function () {
      const patientId = newPatient();
      const { secret } = await enrol(patientId);
      const code = codeAt(secret, clock.now());
      await mfa.verifyChallenge(PRACTICE_ID, patientId, code);

      const replay = await mfa.verifyChallenge(PRACTICE_ID, patientId, code);

      expect(replay).to.deep.equal({ ok: false, error: 'invalid', method: 'totp' });
    });

    it('rejects a code for an earlier step', async function () {
      const patientId = newPatient();
      const { secret } = await enrol(patientId);
      clock.advance(STEP_MILLISECONDS);
      await mfa.verifyChallenge(PRACTICE_ID, patientId, codeAt(secret, clock.now()));

      const earlier = await mfa.verifyChallenge(PRACTICE_ID, patientId, codeAt(secret, new Date(clock.now().getTime() - STEP_MILLISECONDS)));

      expect(earlier).to.deep.equal({ ok: false, error: 'invalid', method: 'totp' });
    });

    it('rejects the step used for enrolment', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);
      const code = codeAt(secret, clock.now());
      await mfa.confirmEnrolment(PRACTICE_ID, patientId, code);

      const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, code);

      expect(result).to.deep.equal({ ok: false, error: 'invalid', method: 'totp' });
    });

    for (const steps of [-1, 1]) {
      it(`accepts a code ${Math.abs(steps)} step ${steps < 0 ? 'behind' : 'ahead'}`, async function () {
        const patientId = newPatient();
        const { secret } = await enrol(patientId);
        clock.advance(STEP_MILLISECONDS);

        const code = codeAt(secret, new Date(clock.now().getTime() + steps * STEP_MILLISECONDS));
        const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, code);

        expect(result.ok).to.equal(true);
      });
    }

    for (const steps of [-2, 2]) {
      it(`rejects a code ${Math.abs(steps)} steps ${steps < 0 ? 'behind' : 'ahead'}`, async function () {
        const patientId = newPatient();
        const { secret } = await enrol(patientId);
        clock.advance(2 * STEP_MILLISECONDS);

        const code = codeAt(secret, new Date(clock.now().getTime() + steps * STEP_MILLISECONDS));
        const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, code);

        expect(result).to.deep.equal({ ok: false, error: 'invalid', method: 'totp' });
      });
    }

    it('lets one of ten concurrent submissions through', async function () {
      const patientId = newPatient();
      const { secret } = await enrol(patientId);
      const code = codeAt(secret, clock.now());

      const results = await Promise.all(Array.from({ length: 10 }, () => mfa.verifyChallenge(PRACTICE_ID, patientId, code)));

      expect(results.filter((result) => result.ok)).to.have.length(1);
      expect(results.filter((result) => !result.ok).every((result) => !result.ok && ['invalid', 'lockedOut'].includes(result.error))).to.equal(true);
    });

    it('accepts a step once across two connections', async function () {
      const patientId = newPatient();
      const { secret } = await enrol(patientId);
      const code = codeAt(secret, clock.now());

      // A second Sequelize instance has its own connections, as another server process would.
      const otherSequelize = openDatabase(testSandbox.database.url, silentLogger);
      try {
        const otherModels: PluginModels = definePluginModels(otherSequelize);
        const otherMfa = createMfaService({
          sequelize: otherSequelize,
          models: otherModels,
          keyring: plugin.host.secrets.keyring,
          clock,
          audit: createAuditTrail({ models: otherModels, clock }),
          logger: silentLogger,
        });

        const results = await Promise.all(
          Array.from({ length: 6 }, (_, index) => (index % 2 === 0 ? mfa : otherMfa).verifyChallenge(PRACTICE_ID, patientId, code)),
        );

        expect(results.filter((result) => result.ok)).to.have.length(1);
      } finally {
        await otherSequelize.close();
      }
    });

    it('returns notEnrolled for an unconfirmed factor', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);

      const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, codeAt(secret, clock.now()));

      expect(result).to.deep.equal({ ok: false, error: 'notEnrolled' });
    });

    it('returns notEnrolled without a factor', async function () {
      const result = await mfa.verifyChallenge(PRACTICE_ID, newPatient(), '123456');

      expect(result).to.deep.equal({ ok: false, error: 'notEnrolled' });
    });

    for (const { input, error } of [
      { input: '', error: 'empty' },
      { input: '12345', error: 'wrongLength' },
      { input: '12 34 5+', error: 'notDigits' },
    ]) {
      it(`rejects "${input}" as ${error} without counting`, async function () {
        const patientId = newPatient();
        await enrol(patientId);

        const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, input);

        expect(result).to.deep.equal({ ok: false, error, method: 'totp' });
        expect((await mfa.status(PRACTICE_ID, patientId)).failedAttempts).to.equal(0);
      });
    }
  });

  describe('lockout', function () {
    it('allows four failures without a lock', async function () {
      const patientId = newPatient();
      const { secret } = await enrol(patientId);

      for (let attempt = 0; attempt < MFA_FREE_FAILURES; attempt += 1) {
        await failOnce(patientId, secret);
      }
      const status = await mfa.status(PRACTICE_ID, patientId);
      const next = await mfa.verifyChallenge(PRACTICE_ID, patientId, codeAt(secret, clock.now()));

      expect(status.failedAttempts).to.equal(4);
      expect(status.lockedUntil).to.equal(null);
      expect(next.ok).to.equal(true);
    });

    it('locks for a minute after the fifth failure', async function () {
      const patientId = newPatient();
      const { secret } = await enrol(patientId);
      for (let attempt = 0; attempt < MFA_FREE_FAILURES; attempt += 1) {
        await failOnce(patientId, secret);
      }

      const fifth = await mfa.verifyChallenge(PRACTICE_ID, patientId, wrongCodeAt(secret, clock.now()));
      const status = await mfa.status(PRACTICE_ID, patientId);

      expect(fifth).to.deep.equal({ ok: false, error: 'invalid', method: 'totp' });
      expect(status.failedAttempts).to.equal(5);
      expect(status.lockedUntil).to.deep.equal(new Date(clock.now().getTime() + MINUTE_MILLISECONDS));
    });

    it('rejects a right code while locked', async function () {
      const patientId = newPatient();
      const { secret } = await enrol(patientId);
      for (let attempt = 0; attempt < MFA_FREE_FAILURES; attempt += 1) {
        await failOnce(patientId, secret);
      }
      await mfa.verifyChallenge(PRACTICE_ID, patientId, wrongCodeAt(secret, clock.now()));
      const before = await factorRow(patientId);

      clock.advance(MINUTE_MILLISECONDS - 1000);
      const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, codeAt(secret, clock.now()));
      const after = await factorRow(patientId);

      expect(result).to.deep.equal({ ok: false, error: 'lockedOut', retryAt: before!.lockedUntil });
      expect(Number(after!.lastUsedTimeStep)).to.equal(Number(before!.lastUsedTimeStep));
      expect(after!.failedAttempts).to.equal(before!.failedAttempts);
    });

    it('rejects a recovery code while locked', async function () {
      const patientId = newPatient();
      const { secret, recoveryCodes } = await enrol(patientId);
      for (let attempt = 0; attempt <= MFA_FREE_FAILURES; attempt += 1) {
        await mfa.verifyChallenge(PRACTICE_ID, patientId, wrongCodeAt(secret, clock.now()));
      }

      const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, recoveryCodes[0]!);

      expect(result).to.deep.equal({ ok: false, error: 'lockedOut', retryAt: new Date(clock.now().getTime() + MINUTE_MILLISECONDS) });
      expect((await mfa.status(PRACTICE_ID, patientId)).remainingRecoveryCodes).to.equal(RECOVERY_CODE_COUNT);
    });

    it('accepts a right code once the lock ends', async function () {
      const patientId = newPatient();
      const { secret } = await enrol(patientId);
      for (let attempt = 0; attempt <= MFA_FREE_FAILURES; attempt += 1) {
        await mfa.verifyChallenge(PRACTICE_ID, patientId, wrongCodeAt(secret, clock.now()));
      }

      clock.advance(MINUTE_MILLISECONDS);
      const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, codeAt(secret, clock.now()));

      expect(result.ok).to.equal(true);
    });

    it('doubles the lock up to an hour', async function () {
      const patientId = newPatient();
      const { secret } = await enrol(patientId);
      for (let attempt = 0; attempt < MFA_FREE_FAILURES; attempt += 1) {
        await failOnce(patientId, secret);
      }

      const lockMinutes: number[] = [];
      for (let failure = MFA_FREE_FAILURES + 1; failure <= 13; failure += 1) {
        const failedAt = clock.now().getTime();
        await failOnce(patientId, secret);
        lockMinutes.push((clock.now().getTime() - failedAt) / MINUTE_MILLISECONDS);
      }

      expect(lockMinutes).to.deep.equal([1, 2, 4, 8, 16, 32, 60, 60, 60]);
    });

    it('locks the factor at fifty failures', async function () {
      const patientId = newPatient();
      const { secret } = await enrol(patientId);
      for (let attempt = 1; attempt < MFA_HARD_LOCK_FAILURES; attempt += 1) {
        await failOnce(patientId, secret);
      }
      expect((await mfa.status(PRACTICE_ID, patientId)).hardLocked).to.equal(false);

      await mfa.verifyChallenge(PRACTICE_ID, patientId, wrongCodeAt(secret, clock.now()));
      clock.advance(7 * 24 * 60 * MINUTE_MILLISECONDS);
      const status = await mfa.status(PRACTICE_ID, patientId);
      const result = await mfa.verifyChallenge(PRACTICE_ID, patientId, codeAt(secret, clock.now()));

      expect(status.hardLocked).to.equal(true);
      expect(status.failedAttempts).to.equal(MFA_HARD_LOCK_FAILURES);
      expect(status.lockedUntil).to.equal(null);
      expect(result).to.deep.equal({ ok: false, error: 'lockedOut' });
    });

    it('resets the counter after a success', async function () {
      const patientId = newPatient();
      const { secret } = await enrol(patientId);
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await failOnce(patientId, secret);
      }

      await mfa.verifyChallenge(PRACTICE_ID, patientId, codeAt(secret, clock.now()));
      const status = await mfa.status(PRACTICE_ID, patientId);

      expect(status.failedAttempts).to.equal(0);
    });

    it('resets the counter after a recovery code', async function () {
      const patientId = newPatient();
      const { secret, recoveryCodes } = await enrol(patientId);
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await failOnce(patientId, secret);
      }

      await mfa.verifyChallenge(PRACTICE_ID, patientId, recoveryCodes[0]!);

      expect((await mfa.status(PRACTICE_ID, patientId)).failedAttempts).to.equal(0);
    });

    it('counts concurrent guesses before evaluating them', async function () {
      const patientId = newPatient();
      const { secret } = await enrol(patientId);
      const wrongCode = wrongCodeAt(secret, clock.now());

      const results = await Promise.all(Array.from({ length: 20 }, () => mfa.verifyChallenge(PRACTICE_ID, patientId, wrongCode)));
      const evaluated = results.filter((result) => !result.ok && result.error === 'invalid');
      const status = await mfa.status(PRACTICE_ID, patientId);

      expect(evaluated).to.have.length(MFA_FREE_FAILURES + 1);
      expect(status.failedAttempts).to.equal(MFA_FREE_FAILURES + 1);
    });

    it('throttles enrolment confirmation too', async function () {
      const patientId = newPatient();
      const secret = await beginEnrolment(patientId);
      for (let attempt = 0; attempt <= MFA_FREE_FAILURES; attempt += 1) {
        await mfa.confirmEnrolment(PRACTICE_ID, patientId, wrongCodeAt(secret, clock.now()));
      }

      const result = await mfa.confirmEnrolment(PRACTICE_ID, patientId, codeAt(secret, clock.now()));

      expect(result).to.deep.equal({ ok: false, error: 'lockedOut', retryAt: new Date(clock.now().getTime() + MINUTE_MILLISECONDS) });
    });

    it('records the lockout in the audit trail', async function () {
      const patientId = newPatient();
      const { secret } = await enrol(patientId);
      for (let attempt = 0; attempt <= MFA_FREE_FAILURES; attempt += 1) {
        await mfa.verifyChallenge(PRACTICE_ID, patientId, wrongCodeAt(secret, clock.now()));
      }

      const events = await plugin.audit.listForPractice(PRACTICE_ID, { patientId });
      const lockout = events.find((event) => event.action === 'mfa.lockedOut');

      expect(lockout?.actor).to.deep.equal({ type: 'patient', id: patientId });
      expect(lockout?.details).to.deep.equal({
        failedAttempts: 5,
        until: new Date(clock.now().getTime() + MINUTE_MILLISECONDS).toISOString(),
      });
    });

    it('schedules locks from the constants', function () {
      expect(lockDurationAfter(MFA_FREE_FAILURES)).to.equal(0);
      expect(lockDurationAfter(MFA_FREE_FAILURES + 1)).to.equal(MINUTE_MILLISECONDS);
      expect(lockDurationAfter(MFA_HARD_LOCK_FAILURES - 1)).to.equal(MFA_MAX_LOCK_MINUTES * MINUTE_MILLISECONDS);
      expect(lockDurationAfter(MFA_HARD_LOCK_FAILURES)).to.equal(null);
      expect(MFA_HARD_LOCK_FAILURES).to.be.below(100);
    });
  });

  describe('reset', function () {
    it('removes the factor and recovery codes', async function () {
      const patientId = newPatient();
      await enrol(patientId);
      await mfa.regenerateRecoveryCodes(PRACTICE_ID, patientId);

      const removed = await mfa.reset(PRACTICE_ID, patientId, { type: 'staff', id: 'staff-7' });
      const status = await mfa.status(PRACTICE_ID, patientId);

      expect(removed).to.equal(true);
      expect(await factorRow(patientId)).to.equal(null);
      expect(await recoveryCodeRows(patientId)).to.have.length(0);
      expect(status).to.deep.equal({
        enrolled: false,
        confirmed: false,
        recoveryCodesPending: false,
        remainingRecoveryCodes: 0,
        lockedUntil: null,
        hardLocked: false,
        failedAttempts: 0,
      });
    });

    it('records the staff member who reset', async function () {
      const patientId = newPatient();
      await enrol(patientId);

      await mfa.reset(PRACTICE_ID, patientId, { type: 'staff', id: 'staff-7' });
      const events = await plugin.audit.listForPractice(PRACTICE_ID, { patientId });
      const resetEvent = events.find((event) => event.action === 'mfa.reset');

      expect(resetEvent?.actor).to.deep.equal({ type: 'staff', id: 'staff-7' });
      expect(resetEvent?.details).to.deep.equal({ factorRemoved: true, recoveryCodesRemoved: RECOVERY_CODE_COUNT });
    });

    it('allows a new enrolment after a reset', async function () {
      const patientId = newPatient();
      const { secret: oldSecret } = await enrol(patientId);

      await mfa.reset(PRACTICE_ID, patientId, { type: 'staff', id: 'staff-7' });
      const newSecret = await beginEnrolment(patientId);

      expect(newSecret).not.to.equal(oldSecret);
      expect((await mfa.confirmEnrolment(PRACTICE_ID, patientId, codeAt(newSecret, clock.now()))).ok).to.equal(true);
    });

    it('ends a hard lock', async function () {
      const patientId = newPatient();
      await enrol(patientId);
      await plugin.models.MfaFactor.update({ failedAttempts: MFA_HARD_LOCK_FAILURES }, { where: { practiceId: PRACTICE_ID, patientId } });

      await mfa.reset(PRACTICE_ID, patientId, { type: 'staff', id: 'staff-7' });

      expect((await mfa.status(PRACTICE_ID, patientId)).hardLocked).to.equal(false);
    });

    it('rolls back with the caller transaction', async function () {
      const patientId = newPatient();
      await enrol(patientId);

      await rejection(
        sequelize.transaction(async (transaction) => {
          await mfa.reset(PRACTICE_ID, patientId, { type: 'staff', id: 'staff-7' }, transaction);
          throw new Error('The caller failed after the reset.');
        }),
      );

      expect((await mfa.status(PRACTICE_ID, patientId)).confirmed).to.equal(true);
      expect(await recoveryCodeRows(patientId)).to.have.length(RECOVERY_CODE_COUNT);
    });
  });

  describe('stored ciphertext', function () {
    it('fails to decrypt a secret moved to another patient', async function () {
      const ownerId = newPatient();
      const otherId = newPatient();
      const { secret } = await enrol(ownerId);
      await enrol(otherId);
      const owner = await factorRow(ownerId);
      await plugin.models.MfaFactor.update({ secretCiphertext: owner!.secretCiphertext }, { where: { practiceId: PRACTICE_ID, patientId: otherId } });

      const error = await rejection(mfa.verifyChallenge(PRACTICE_ID, otherId, codeAt(secret, clock.now())));

      expect(error).to.be.instanceOf(SecretBoxError);
      expect((error as SecretBoxError).code).to.equal('decryptionFailed');
      expect((await mfa.status(PRACTICE_ID, otherId)).failedAttempts).to.equal(0);
    });

    it('fails to decrypt codes moved to another patient', async function () {
      const ownerId = newPatient();
      const otherId = newPatient();
      await enrol(ownerId);
      await enrol(otherId);
      await mfa.regenerateRecoveryCodes(PRACTICE_ID, ownerId);
      const owner = await factorRow(ownerId);
      await plugin.models.MfaFactor.update(
        { pendingRecoveryCodesCiphertext: owner!.pendingRecoveryCodesCiphertext },
        { where: { practiceId: PRACTICE_ID, patientId: otherId } },
      );

      const error = await rejection(mfa.pendingRecoveryCodes(PRACTICE_ID, otherId));

      expect(error).to.be.instanceOf(SecretBoxError);
      expect((error as SecretBoxError).code).to.equal('decryptionFailed');
    });

    it('fails to decrypt codes moved into the secret column', async function () {
      const patientId = newPatient();
      await enrol(patientId);
      await mfa.regenerateRecoveryCodes(PRACTICE_ID, patientId);
      const row = await factorRow(patientId);
      await plugin.models.MfaFactor.update({ secretCiphertext: row!.pendingRecoveryCodesCiphertext! }, { where: { practiceId: PRACTICE_ID, patientId } });

      const error = await rejection(mfa.verifyChallenge(PRACTICE_ID, patientId, '123456'));

      expect(error).to.be.instanceOf(SecretBoxError);
    });
  });

  describe('audit trail', function () {
    it('records each MFA event', async function () {
      const patientId = newPatient();
      const { recoveryCodes } = await enrol(patientId);
      await mfa.verifyChallenge(PRACTICE_ID, patientId, recoveryCodes[0]!);
      await mfa.regenerateRecoveryCodes(PRACTICE_ID, patientId);

      const events = await plugin.audit.listForPractice(PRACTICE_ID, { patientId });
      const actions = events.map((event) => event.action).reverse();

      expect(actions).to.deep.equal(['mfa.enrolled', 'mfa.recoveryCodesSaved', 'mfa.recoveryCodeUsed', 'mfa.recoveryCodesRegenerated']);
      expect(events.every((event) => event.actor.type === 'patient' && event.actor.id === patientId)).to.equal(true);
      expect(events.find((event) => event.action === 'mfa.recoveryCodeUsed')?.details).to.deep.equal({
        remainingRecoveryCodes: RECOVERY_CODE_COUNT - 1,
      });
    });

    it('keeps codes and secrets out of details', async function () {
      const patientId = newPatient();
      const { secret, recoveryCodes } = await enrol(patientId);
      await mfa.verifyChallenge(PRACTICE_ID, patientId, recoveryCodes[0]!);
      const newCodes = await mfa.regenerateRecoveryCodes(PRACTICE_ID, patientId);
      await mfa.confirmRecoveryCodesSaved(PRACTICE_ID, patientId);
      const hashes = (await recoveryCodeRows(patientId)).map((row) => row.codeHash);

      const events = await plugin.audit.listForPractice(PRACTICE_ID, { patientId });
      const text = JSON.stringify(events);

      expect(text).not.to.contain(secret);
      for (const value of [...recoveryCodes, ...newCodes, ...hashes]) {
        expect(text).not.to.contain(value);
        expect(text).not.to.contain(value.replaceAll('-', ''));
      }
    });
  });
});
