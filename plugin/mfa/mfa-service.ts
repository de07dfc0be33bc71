/**
 * The authenticator-app factor of one patient: enrolment, recovery codes, challenges and
 * reset, stored in `cra_mfa_factors` and `cra_recovery_codes`.
 *
 * The database, never process memory, enforces every rule that must hold across server
 * processes. A conditional UPDATE records each accepted TOTP time step, another marks a
 * recovery code used, and the factor row counts failed attempts (see throttle.ts).
 */
import QRCode from 'qrcode';
import { Op, UniqueConstraintError, type CreationAttributes, type Sequelize, type Transaction } from 'sequelize';
import type { HostLogger, Keyring } from '../host/contract.js';
import type { MfaFactorRow, PluginModels } from '../db/models.js';
import type { AuditActor, AuditTrail } from '../audit/audit-trail.js';
import { decryptSecret, encryptSecret } from '../crypto/secret-box.js';
import { buildOtpauthUri, generateTotpSecret, normaliseCode, verifyTotp, type CodeFormatError } from './totp.js';
import {
  deriveRecoveryCodePepper,
  generateRecoveryCodes,
  hashRecoveryCode,
  looksLikeRecoveryCode,
  normaliseRecoveryCode,
  type RecoveryCodeFormatError,
} from './recovery-codes.js';
import { MFA_FREE_FAILURES, claimAttempt, lockStateOf, resetAttempts, stampFactorUpdate, type LockState } from './throttle.js';

/**
 * Size of one QR module in image pixels. A whole number keeps module edges sharp. With a
 * practice name and login of usual length, the URI needs a version 8 symbol of 49 modules,
 * plus a 4-module quiet zone on each side, so the image is 342 pixels wide. Longer names give
 * a larger symbol and image. The page sets the displayed size.
 */
export const QR_CODE_PIXELS_PER_MODULE = 6;

/** The quiet zone around the symbol, in modules: the 4 that the QR code standard requires. */
const QR_CODE_QUIET_ZONE_MODULES = 4;

export interface MfaServiceDependencies {
  sequelize: Sequelize;
  models: PluginModels;
  /** Called on each use, so a rotated keyring takes effect without a restart. */
  keyring: () => Keyring;
  clock: { now(): Date };
  audit: AuditTrail;
  logger: HostLogger;
}

/** Content of the enrolment page: the QR code, and the secret for patients who type it in. */
export interface EnrolmentStart {
  otpauthUri: string;
  /** PNG image of `otpauthUri` as a `data:image/png;base64,` URL. */
  qrCodeDataUrl: string;
  /** The base32 secret in groups of four characters separated by spaces. */
  secretForTyping: string;
}

export type MfaMethod = 'totp' | 'recoveryCode';

/**
 * Reason a code was not accepted. `invalid` covers a wrong code, a replayed code and a code that
 * lost a race with a concurrent request, so the result never reveals that a code was right.
 * `lockedOut` comes with `retryAt`, except for the hard lock, which lasts until staff reset
 * MFA. The format errors (`empty`, `notDigits`, `wrongLength`, `invalidCharacters`) are
 * neither evaluated nor counted as failures.
 */
export type CodeRejectionReason =
  | CodeFormatError
  | RecoveryCodeFormatError
  | 'invalid'
  | 'lockedOut'
  | 'notEnrolled';

export type EnrolmentConfirmation =
  | { ok: true; recoveryCodes: string[] }
  | {
      ok: false;
      /** `alreadyConfirmed`: the factor is confirmed already, perhaps by a double submission, so show the pending codes. */
      error: Exclude<CodeRejectionReason, 'invalidCharacters'> | 'alreadyConfirmed';
      retryAt?: Date;
    };

export type ChallengeVerification =
  | { ok: true; method: MfaMethod; remainingRecoveryCodes: number }
  | {
      ok: false;
      error: CodeRejectionReason;
      retryAt?: Date;
      /** Kind of code the input was taken for, set with the format errors and `invalid`. */
      method?: MfaMethod;
    };

export interface MfaStatus {
  /** A factor exists, confirmed or not. */
  enrolled: boolean;
  confirmed: boolean;
  recoveryCodesPending: boolean;
  remainingRecoveryCodes: number;
  /** End of the current timed lock, or null when there is none. */
  lockedUntil: Date | null;
  /** Locked until staff reset MFA. */
  hardLocked: boolean;
  failedAttempts: number;
}

export type MfaStateErrorCode = 'alreadyEnrolled' | 'notEnrolled';

/** Raised when an operation does not fit the factor's state, such as enrolling twice. */
export class MfaStateError extends Error {
  readonly code: MfaStateErrorCode;

  constructor(code: MfaStateErrorCode, message: string) {
    super(message);
    this.name = 'MfaStateError';
    this.code = code;
  }
}

export interface MfaService {
  /**
   * Starts enrolment or shows it again. Creates an unconfirmed factor with a new secret, or
   * reuses the secret of the existing unconfirmed factor, so reloading the page keeps the
   * same QR code. Throws `MfaStateError` (`alreadyEnrolled`) for a confirmed factor, and
   * `SecretBoxError` when the stored secret does not decrypt.
   */
  beginEnrolment(practiceId: string, patientId: string, account: { issuer: string; label: string }): Promise<EnrolmentStart>;

  /**
   * Confirms enrolment with a code from the app (±1 time step). On success the factor
   * counts, the code's time step is used, and 10 new recovery codes are returned and kept
   * encrypted until `confirmRecoveryCodesSaved`.
   */
  confirmEnrolment(practiceId: string, patientId: string, input: string): Promise<EnrolmentConfirmation>;

  /** Decrypts the recovery codes waiting to be saved, or returns null when none are pending. */
  pendingRecoveryCodes(practiceId: string, patientId: string): Promise<string[] | null>;

  /**
   * Replaces all recovery codes with hashes of the pending ones and deletes the encrypted
   * pending codes, in one transaction. Returns false when nothing was pending, so a second call
   * changes nothing.
   */
  confirmRecoveryCodesSaved(practiceId: string, patientId: string): Promise<boolean>;

  /**
   * Generates 10 new recovery codes and keeps them pending, in place of any set still
   * pending. The saved codes stay valid until the patient confirms the new ones saved. Throws `MfaStateError` (`notEnrolled`)
   * unless the factor is confirmed.
   */
  regenerateRecoveryCodes(practiceId: string, patientId: string): Promise<string[]>;

  /**
   * Checks the input of the challenge field, which takes a 6-digit code or a recovery code.
   * Throws `SecretBoxError` when the stored secret does not decrypt, and `RangeError` when
   * recovery codes were hashed with a key that the keyring no longer contains.
   */
  verifyChallenge(practiceId: string, patientId: string, input: string): Promise<ChallengeVerification>;

  /** Reads the factor's state: enrolment, pending recovery codes and locks. */
  status(practiceId: string, patientId: string): Promise<MfaStatus>;

  /**
   * Deletes the factor and all recovery codes, for a staff MFA reset. Runs inside the given
   * transaction, or in its own. Returns whether anything was deleted.
   */
  reset(practiceId: string, patientId: string, actor: AuditActor, transaction?: Transaction): Promise<boolean>;
}

/**
 * Adds `createdAt` and `updatedAt` from the injected clock to the values of a new row. Pass
 * `silent: true` with the insert, because Sequelize otherwise sets `updatedAt` itself.
 */
function withTimestamps<T extends object>(values: T, now: Date): T {
  const stamped: T & { createdAt: Date; updatedAt: Date } = { ...values, createdAt: now, updatedAt: now };
  return stamped;
}

/** Associated data binding a TOTP secret's ciphertext to its patient, so a copied row fails to decrypt. */
export function secretAssociatedData(practiceId: string, patientId: string): string {
  return `mfa:${practiceId}:${patientId}`;
}

/** Associated data binding pending recovery codes' ciphertext to their patient. */
export function recoveryCodesAssociatedData(practiceId: string, patientId: string): string {
  return `mfa-recovery-codes:${practiceId}:${patientId}`;
}

/** Creates the MFA service. It reads the time only from `clock`. */
export function createMfaService(dependencies: MfaServiceDependencies): MfaService {
  const { sequelize, models, keyring, clock, audit, logger } = dependencies;

  const findFactor = (practiceId: string, patientId: string) => models.MfaFactor.findOne({ where: { practiceId, patientId } });

  const countUnusedRecoveryCodes = (practiceId: string, patientId: string) =>
    models.RecoveryCode.count({ where: { practiceId, patientId, usedAt: null } });

  const patientActor = (patientId: string): AuditActor => ({ type: 'patient', id: patientId });

  // The owner's ids are the associated data, so a ciphertext copied into another patient's
  // row fails to decrypt. The two kinds differ, so a secret and a code list cannot be swapped.

  const decryptFactorSecret = (practiceId: string, patientId: string, factor: MfaFactorRow): string =>
    decryptSecret(factor.secretCiphertext, keyring(), { associatedData: secretAssociatedData(practiceId, patientId) });

  const encryptRecoveryCodes = (practiceId: string, patientId: string, codes: string[]): string =>
    encryptSecret(JSON.stringify(codes), keyring(), { associatedData: recoveryCodesAssociatedData(practiceId, patientId) });

  const decryptRecoveryCodes = (practiceId: string, patientId: string, ciphertext: string): string[] => {
    const plaintext = decryptSecret(ciphertext, keyring(), { associatedData: recoveryCodesAssociatedData(practiceId, patientId) });
    const codes: unknown = JSON.parse(plaintext);
    if (!Array.isArray(codes) || !codes.every((code) => typeof code === 'string')) {
      throw new TypeError('The pending recovery codes decrypted to something other than a list of strings.');
    }
    return codes;
  };

  /**
   * Builds the result for an attempt that a lock kept from being evaluated. A lock that ended
   * since the attempt gives `retryAt` now, and only the hard lock gives no `retryAt`.
   */
  const lockedOut = (lock: LockState, now: Date): { ok: false; error: 'lockedOut'; retryAt?: Date } => {
    if (!lock.locked) {
      return { ok: false, error: 'lockedOut', retryAt: now };
    }
    return lock.hardLock ? { ok: false, error: 'lockedOut' } : { ok: false, error: 'lockedOut', retryAt: lock.until };
  };

  /**
   * Counts the attempt, then runs `evaluate` unless the factor is locked. `evaluate` returns
   * null for a failure. A failure that leaves the factor locked is audited and logged.
   */
  const runAttempt = async <T>(
    practiceId: string,
    patientId: string,
    factor: MfaFactorRow,
    now: Date,
    evaluate: () => Promise<T | null>,
  ): Promise<{ admitted: false; lock: LockState | null } | { admitted: true; outcome: T | null }> => {
    const admitted = await claimAttempt({ sequelize, models }, Number(factor.id), now);
    if (!admitted) {
      // Locked by a concurrent attempt since the factor was read, or deleted by a reset.
      const latest = await findFactor(practiceId, patientId);
      return { admitted: false, lock: latest === null ? null : lockStateOf(latest, now) };
    }

    const outcome = await evaluate();
    if (outcome === null) {
      await recordLockout(practiceId, patientId, now);
    }
    return { admitted: true, outcome };
  };

  /**
   * Audits and logs the lock that a failed attempt left. The count is read after the
   * failure, so concurrent failures may each record the same lock.
   */
  const recordLockout = async (practiceId: string, patientId: string, now: Date): Promise<void> => {
    const factor = await findFactor(practiceId, patientId);
    if (factor === null || Number(factor.failedAttempts) <= MFA_FREE_FAILURES || !lockStateOf(factor, now).locked) {
      return;
    }

    const failedAttempts = Number(factor.failedAttempts);
    const until = factor.lockedUntil === null ? null : factor.lockedUntil.toISOString();
    await audit.record({
      practiceId,
      actor: patientActor(patientId),
      action: 'mfa.lockedOut',
      patientId,
      details: { failedAttempts, until },
    });
    logger.warn({ practiceId, patientId, failedAttempts, lockedUntil: until }, 'MFA factor locked after failed attempts');
  };

  /** Builds the result for an attempt that was not admitted because of a lock or a reset. */
  const rejectUnadmitted = (lock: LockState | null, now: Date): { ok: false; error: 'lockedOut' | 'notEnrolled'; retryAt?: Date } =>
    lock === null ? { ok: false, error: 'notEnrolled' } : lockedOut(lock, now);

  const beginEnrolment: MfaService['beginEnrolment'] = async (practiceId, patientId, account) => {
    const now = clock.now();
    let factor = await findFactor(practiceId, patientId);

    if (factor === null) {
      const values: CreationAttributes<MfaFactorRow> = {
        practiceId,
        patientId,
        secretCiphertext: encryptSecret(generateTotpSecret(), keyring(), { associatedData: secretAssociatedData(practiceId, patientId) }),
        confirmedAt: null,
        lastUsedTimeStep: null,
        failedAttempts: 0,
        lockedUntil: null,
        pendingRecoveryCodesCiphertext: null,
      };
      try {
        factor = await models.MfaFactor.create(withTimestamps(values, now), { silent: true });
      } catch (error) {
        // A concurrent request (a double-loaded page) created the factor first: use theirs.
        if (!(error instanceof UniqueConstraintError)) {
          throw error;
        }
        factor = await findFactor(practiceId, patientId);
        if (factor === null) {
          throw error;
        }
      }
    }

    if (factor.confirmedAt !== null) {
      throw new MfaStateError(
        'alreadyEnrolled',
        `Patient ${patientId} of practice ${practiceId} already has a confirmed authenticator app. Reset MFA before enrolling again.`,
      );
    }

    const secret = decryptFactorSecret(practiceId, patientId, factor);
    const otpauthUri = buildOtpauthUri({ secret, issuer: account.issuer, label: account.label });
    const qrCodeDataUrl = await QRCode.toDataURL(otpauthUri, {
      type: 'image/png',
      errorCorrectionLevel: 'M',
      margin: QR_CODE_QUIET_ZONE_MODULES,
      scale: QR_CODE_PIXELS_PER_MODULE,
    });
    const secretForTyping = secret.match(/.{1,4}/gu)!.join(' ');

    return { otpauthUri, qrCodeDataUrl, secretForTyping };
  };

  const confirmEnrolment: MfaService['confirmEnrolment'] = async (practiceId, patientId, input) => {
    const now = clock.now();
    const factor = await findFactor(practiceId, patientId);
    if (factor === null) {
      return { ok: false, error: 'notEnrolled' };
    }
    if (factor.confirmedAt !== null) {
      return { ok: false, error: 'alreadyConfirmed' };
    }
    const lock = lockStateOf(factor, now);
    if (lock.locked) {
      return lockedOut(lock, now);
    }

    const normalised = normaliseCode(input);
    if (!normalised.ok) {
      return { ok: false, error: normalised.error };
    }
    const secret = decryptFactorSecret(practiceId, patientId, factor);
    const lastUsedTimeStep = factor.lastUsedTimeStep === null ? null : Number(factor.lastUsedTimeStep);

    const attempt = await runAttempt(practiceId, patientId, factor, now, async () => {
      const verification = await verifyTotp({ secret, code: normalised.code, now, lastUsedTimeStep });
      if (!verification.valid) {
        return null;
      }

      const recoveryCodes = generateRecoveryCodes();
      const confirmed = await sequelize.transaction(async (transaction) => {
        // Conditional on the factor being unconfirmed and the step unused, so of two
        // concurrent confirmations exactly one succeeds.
        const [updated] = await models.MfaFactor.update(
          stampFactorUpdate(
            {
              confirmedAt: now,
              lastUsedTimeStep: verification.timeStep,
              failedAttempts: 0,
              lockedUntil: null,
              pendingRecoveryCodesCiphertext: encryptRecoveryCodes(practiceId, patientId, recoveryCodes),
            },
            now,
          ),
          {
            where: {
              id: factor.id,
              confirmedAt: null,
              [Op.or]: [{ lastUsedTimeStep: null }, { lastUsedTimeStep: { [Op.lt]: verification.timeStep } }],
            },
            silent: true,
            transaction,
          },
        );
        if (updated !== 1) {
          return false;
        }
        await audit.record({ practiceId, actor: patientActor(patientId), action: 'mfa.enrolled', patientId }, transaction);
        return true;
      });
      return confirmed ? recoveryCodes : null;
    });

    if (!attempt.admitted) {
      return rejectUnadmitted(attempt.lock, now);
    }
    if (attempt.outcome !== null) {
      return { ok: true, recoveryCodes: attempt.outcome };
    }
    const latest = await findFactor(practiceId, patientId);
    if (latest?.confirmedAt) {
      return { ok: false, error: 'alreadyConfirmed' };
    }
    return { ok: false, error: 'invalid' };
  };

  const pendingRecoveryCodes: MfaService['pendingRecoveryCodes'] = async (practiceId, patientId) => {
    const factor = await findFactor(practiceId, patientId);
    if (factor === null || factor.pendingRecoveryCodesCiphertext === null) {
      return null;
    }
    return decryptRecoveryCodes(practiceId, patientId, factor.pendingRecoveryCodesCiphertext);
  };

  const confirmRecoveryCodesSaved: MfaService['confirmRecoveryCodesSaved'] = async (practiceId, patientId) => {
    const now = clock.now();
    const factor = await findFactor(practiceId, patientId);
    const pendingCiphertext = factor?.pendingRecoveryCodesCiphertext ?? null;
    if (factor === null || pendingCiphertext === null) {
      return false;
    }

    const codes = decryptRecoveryCodes(practiceId, patientId, pendingCiphertext);
    const currentKeyring = keyring();
    const pepperKeyId = currentKeyring.currentKeyId;
    const pepper = deriveRecoveryCodePepper(currentKeyring, pepperKeyId);
    const rows = codes.map((code) => ({
      practiceId,
      patientId,
      codeHash: hashRecoveryCode(code, pepper),
      pepperKeyId,
      usedAt: null,
      createdAt: now,
    }));

    return sequelize.transaction(async (transaction) => {
      // Clearing exactly the set read above means that of two concurrent calls only one
      // stores hashes, and a set regenerated meanwhile is not replaced by the older one.
      const [cleared] = await models.MfaFactor.update(stampFactorUpdate({ pendingRecoveryCodesCiphertext: null }, now), {
        where: { id: factor.id, pendingRecoveryCodesCiphertext: pendingCiphertext },
        silent: true,
        transaction,
      });
      if (cleared !== 1) {
        return false;
      }

      const replaced = await models.RecoveryCode.destroy({ where: { practiceId, patientId }, transaction });
      await models.RecoveryCode.bulkCreate(rows, { transaction });
      await audit.record(
        {
          practiceId,
          actor: patientActor(patientId),
          action: 'mfa.recoveryCodesSaved',
          patientId,
          details: { recoveryCodes: rows.length, replacedRecoveryCodes: replaced },
        },
        transaction,
      );
      return true;
    });
  };

  const regenerateRecoveryCodes: MfaService['regenerateRecoveryCodes'] = async (practiceId, patientId) => {
    const now = clock.now();
    const notConfirmed = new MfaStateError(
      'notEnrolled',
      `Patient ${patientId} of practice ${practiceId} has no confirmed authenticator app, so there are no recovery codes to regenerate.`,
    );
    const factor = await findFactor(practiceId, patientId);
    if (factor === null || factor.confirmedAt === null) {
      throw notConfirmed;
    }

    const codes = generateRecoveryCodes();
    await sequelize.transaction(async (transaction) => {
      const [updated] = await models.MfaFactor.update(
        stampFactorUpdate({ pendingRecoveryCodesCiphertext: encryptRecoveryCodes(practiceId, patientId, codes) }, now),
        { where: { id: factor.id, confirmedAt: { [Op.ne]: null } }, silent: true, transaction },
      );
      if (updated !== 1) {
        // Staff reset MFA between the read and the update.
        throw notConfirmed;
      }
      await audit.record(
        { practiceId, actor: patientActor(patientId), action: 'mfa.recoveryCodesRegenerated', patientId, details: { recoveryCodes: codes.length } },
        transaction,
      );
    });
    return codes;
  };

  const verifyTotpChallenge = async (practiceId: string, patientId: string, factor: MfaFactorRow, input: string, now: Date): Promise<ChallengeVerification> => {
    const normalised = normaliseCode(input);
    if (!normalised.ok) {
      return { ok: false, error: normalised.error, method: 'totp' };
    }
    const secret = decryptFactorSecret(practiceId, patientId, factor);
    const lastUsedTimeStep = factor.lastUsedTimeStep === null ? null : Number(factor.lastUsedTimeStep);

    const attempt = await runAttempt(practiceId, patientId, factor, now, async () => {
      // A replayed code fails here just like a wrong one.
      const verification = await verifyTotp({ secret, code: normalised.code, now, lastUsedTimeStep });
      if (!verification.valid) {
        return null;
      }
      // The step counts only if no request, in this process or another, stored it or a later
      // one since the row was read. Zero rows updated means a concurrent request won.
      const [updated] = await models.MfaFactor.update(
        stampFactorUpdate({ lastUsedTimeStep: verification.timeStep, failedAttempts: 0, lockedUntil: null }, now),
        {
          where: {
            id: factor.id,
            [Op.or]: [{ lastUsedTimeStep: null }, { lastUsedTimeStep: { [Op.lt]: verification.timeStep } }],
          },
          silent: true,
        },
      );
      return updated === 1 ? true : null;
    });

    if (!attempt.admitted) {
      return rejectUnadmitted(attempt.lock, now);
    }
    if (attempt.outcome === null) {
      return { ok: false, error: 'invalid', method: 'totp' };
    }
    return { ok: true, method: 'totp', remainingRecoveryCodes: await countUnusedRecoveryCodes(practiceId, patientId) };
  };

  const verifyRecoveryCodeChallenge = async (practiceId: string, patientId: string, factor: MfaFactorRow, input: string, now: Date): Promise<ChallengeVerification> => {
    const normalised = normaliseRecoveryCode(input);
    if (!normalised.ok) {
      return { ok: false, error: normalised.error, method: 'recoveryCode' };
    }

    // Hash the input under the pepper of each key the unused codes were stored with. The key
    // is normally the same for all of them, because a saved set replaces every older code.
    const keyIdRows = await models.RecoveryCode.findAll({
      attributes: ['pepperKeyId'],
      where: { practiceId, patientId, usedAt: null },
      group: ['pepperKeyId'],
    });
    const currentKeyring = keyring();
    const candidates = keyIdRows.map((row) => ({
      pepperKeyId: row.pepperKeyId,
      codeHash: hashRecoveryCode(normalised.code, deriveRecoveryCodePepper(currentKeyring, row.pepperKeyId)),
    }));

    const attempt = await runAttempt(practiceId, patientId, factor, now, async () => {
      if (candidates.length === 0) {
        return null;
      }
      // `used_at IS NULL` in the WHERE clause lets exactly one of several concurrent
      // submissions of the same code mark it used. A used code matches no row. The audit
      // event and the reset of the failure count commit with the use, or none of them does.
      return sequelize.transaction(async (transaction) => {
        const [used] = await models.RecoveryCode.update(
          { usedAt: now },
          { where: { practiceId, patientId, usedAt: null, [Op.or]: candidates }, transaction },
        );
        if (used === 0) {
          return null;
        }
        const remaining = await models.RecoveryCode.count({ where: { practiceId, patientId, usedAt: null }, transaction });
        await audit.record(
          { practiceId, actor: patientActor(patientId), action: 'mfa.recoveryCodeUsed', patientId, details: { remainingRecoveryCodes: remaining } },
          transaction,
        );
        await resetAttempts(models, Number(factor.id), now, transaction);
        return remaining;
      });
    });

    if (!attempt.admitted) {
      return rejectUnadmitted(attempt.lock, now);
    }
    if (attempt.outcome === null) {
      return { ok: false, error: 'invalid', method: 'recoveryCode' };
    }

    return { ok: true, method: 'recoveryCode', remainingRecoveryCodes: attempt.outcome };
  };

  const verifyChallenge: MfaService['verifyChallenge'] = async (practiceId, patientId, input) => {
    const now = clock.now();
    const factor = await findFactor(practiceId, patientId);
    if (factor === null || factor.confirmedAt === null) {
      return { ok: false, error: 'notEnrolled' };
    }
    // While locked, the input is not even parsed, so a lockout never reveals anything about it.
    const lock = lockStateOf(factor, now);
    if (lock.locked) {
      return lockedOut(lock, now);
    }

    if (looksLikeRecoveryCode(input)) {
      return verifyRecoveryCodeChallenge(practiceId, patientId, factor, input, now);
    }
    return verifyTotpChallenge(practiceId, patientId, factor, input, now);
  };

  const status: MfaService['status'] = async (practiceId, patientId) => {
    const now = clock.now();
    const factor = await findFactor(practiceId, patientId);
    const remainingRecoveryCodes = await countUnusedRecoveryCodes(practiceId, patientId);
    if (factor === null) {
      return {
        enrolled: false,
        confirmed: false,
        recoveryCodesPending: false,
        remainingRecoveryCodes,
        lockedUntil: null,
        hardLocked: false,
        failedAttempts: 0,
      };
    }

    const lock = lockStateOf(factor, now);
    return {
      enrolled: true,
      confirmed: factor.confirmedAt !== null,
      recoveryCodesPending: factor.pendingRecoveryCodesCiphertext !== null,
      remainingRecoveryCodes,
      lockedUntil: lock.locked && !lock.hardLock ? lock.until : null,
      hardLocked: lock.locked && lock.hardLock,
      failedAttempts: Number(factor.failedAttempts),
    };
  };

  const reset: MfaService['reset'] = async (practiceId, patientId, actor, transaction) => {
    const run = async (resetTransaction: Transaction): Promise<boolean> => {
      const removedFactors = await models.MfaFactor.destroy({ where: { practiceId, patientId }, transaction: resetTransaction });
      const removedRecoveryCodes = await models.RecoveryCode.destroy({ where: { practiceId, patientId }, transaction: resetTransaction });
      await audit.record(
        { practiceId, actor, action: 'mfa.reset', patientId, details: { factorRemoved: removedFactors > 0, recoveryCodesRemoved: removedRecoveryCodes } },
        resetTransaction,
      );
      return removedFactors > 0 || removedRecoveryCodes > 0;
    };
    return transaction ? run(transaction) : sequelize.transaction(run);
  };

  return {
    beginEnrolment,
    confirmEnrolment,
    pendingRecoveryCodes,
    confirmRecoveryCodesSaved,
    regenerateRecoveryCodes,
    verifyChallenge,
    status,
    reset,
  };
}
