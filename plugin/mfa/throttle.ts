/**
 * Throttling and lockout of MFA code attempts, stored in the factor row so that every server
 * process sharing the database applies the same limits.
 *
 * An attempt is counted before its code is evaluated: one UPDATE increments `failed_attempts`
 * if the factor is not locked and sets `locked_until` from the new count. Concurrent guesses
 * therefore cannot all be evaluated before any of them is counted. A success resets the
 * counter afterwards, so `failed_attempts` counts the consecutive attempts that have not
 * succeeded, including any still being evaluated.
 */
import { Op, type Sequelize, type Transaction } from 'sequelize';
import type { MfaFactorRow, PluginModels } from '../db/models.js';

/**
 * Consecutive failures that cost nothing. A patient who mistypes or enters a code just as it
 * changes rarely fails more than a few times in a row, so the first four never delay them.
 */
export const MFA_FREE_FAILURES = 4;

/**
 * Lock after the first failure beyond the free ones. Each further failure doubles the lock
 * (1, 2, 4, 8, 16, 32 minutes) up to the maximum, so a patient who errs a few more times waits
 * briefly while online guessing slows to one guess an hour.
 */
export const MFA_FIRST_LOCK_MINUTES = 1;

/** The longest timed lock, so a patient locked out by someone else's guesses waits at most an hour at a time. */
export const MFA_MAX_LOCK_MINUTES = 60;

/**
 * Consecutive failures after which the factor stays locked until staff reset MFA. NIST SP
 * 800-63B (revision 3, section 5.2.2) allows at most 100. With three codes accepted per
 * attempt (±1 time step), 50 random guesses succeed with a probability of at most
 * 50 × 3 / 10^6 = 1.5 × 10^-4.
 */
export const MFA_HARD_LOCK_FAILURES = 50;

/** Whether a factor accepts attempts, and if not, until when. */
export type LockState =
  | { locked: false }
  | { locked: true; hardLock: false; until: Date }
  | { locked: true; hardLock: true };

/**
 * Returns how long the lock lasts after `failedAttempts` consecutive failures, in
 * milliseconds: 0 for the free failures, and null from the hard-lock count on, because that
 * lock has no end.
 */
export function lockDurationAfter(failedAttempts: number): number | null {
  if (failedAttempts >= MFA_HARD_LOCK_FAILURES) {
    return null;
  }
  if (failedAttempts <= MFA_FREE_FAILURES) {
    return 0;
  }
  const doublings = failedAttempts - MFA_FREE_FAILURES - 1;
  const minutes = Math.min(MFA_FIRST_LOCK_MINUTES * 2 ** doublings, MFA_MAX_LOCK_MINUTES);
  return minutes * 60_000;
}

/** Reads the lock state of a factor row at `now`. */
export function lockStateOf(factor: Pick<MfaFactorRow, 'failedAttempts' | 'lockedUntil'>, now: Date): LockState {
  if (Number(factor.failedAttempts) >= MFA_HARD_LOCK_FAILURES) {
    return { locked: true, hardLock: true };
  }
  if (factor.lockedUntil !== null && factor.lockedUntil.getTime() > now.getTime()) {
    return { locked: true, hardLock: false, until: factor.lockedUntil };
  }
  return { locked: false };
}

/**
 * Counts one attempt against the factor before its code is evaluated, and locks the factor
 * as the new count requires. Returns false, counting nothing, when the factor is locked or
 * no longer exists.
 *
 * It is one conditional UPDATE, so concurrent attempts from any process are counted one
 * after another, and none passes a lock that another has just set. It runs outside any
 * transaction because Sequelize gives each SQLite transaction its own connection, and
 * concurrent SQLite transactions in one process wait on each other's locks until they time out.
 */
export async function claimAttempt(
  dependencies: { sequelize: Sequelize; models: PluginModels },
  factorId: number,
  now: Date,
): Promise<boolean> {
  const { sequelize, models } = dependencies;

  // `locked_until` comes first: MySQL and MariaDB evaluate SET assignments left to right, so
  // a later assignment would see the incremented count, while SQLite always uses the old one.
  const [counted] = await models.MfaFactor.update(
    stampFactorUpdate(
      {
        lockedUntil: sequelize.literal(lockedUntilAfterIncrementSql(sequelize, now)),
        failedAttempts: sequelize.literal('failed_attempts + 1'),
      },
      now,
    ),
    {
      where: {
        id: factorId,
        failedAttempts: { [Op.lt]: MFA_HARD_LOCK_FAILURES },
        [Op.or]: [{ lockedUntil: null }, { lockedUntil: { [Op.lte]: now } }],
      },
      silent: true,
    },
  );
  return counted === 1;
}

/**
 * Builds the SQL expression for `locked_until` once `failed_attempts` has gone up by one: a
 * CASE over the counts whose lock is shorter than the maximum, then the maximum, then NULL
 * for the hard lock, which needs no end time.
 */
function lockedUntilAfterIncrementSql(sequelize: Sequelize, now: Date): string {
  const newCount = '(failed_attempts + 1)';
  const maxDuration = MFA_MAX_LOCK_MINUTES * 60_000;
  const branches: string[] = [];

  for (let count = 1; count < MFA_HARD_LOCK_FAILURES; count += 1) {
    const duration = lockDurationAfter(count)!;
    if (duration >= maxDuration) {
      break;
    }
    const value = duration === 0 ? 'NULL' : sequelize.escape(lockEnd(now, duration));
    branches.push(`WHEN ${newCount} = ${count} THEN ${value}`);
  }
  branches.push(`WHEN ${newCount} < ${MFA_HARD_LOCK_FAILURES} THEN ${sequelize.escape(lockEnd(now, maxDuration))}`);

  return `CASE ${branches.join(' ')} ELSE NULL END`;
}

/**
 * Returns the end of a lock that starts at `now`. MySQL and MariaDB store DATE columns to the
 * whole second, so the end is rounded up to a whole second rather than shortened there.
 */
function lockEnd(now: Date, duration: number): Date {
  return new Date(Math.ceil((now.getTime() + duration) / 1000) * 1000);
}

/** Clears the counter and any timed lock after a successful attempt. */
export async function resetAttempts(models: PluginModels, factorId: number, now: Date, transaction?: Transaction): Promise<void> {
  await models.MfaFactor.update(stampFactorUpdate({ failedAttempts: 0, lockedUntil: null }, now), {
    where: { id: factorId },
    silent: true,
    ...(transaction ? { transaction } : {}),
  });
}

/** Values for `MfaFactor.update`: column values, or SQL expressions such as an increment. */
export type FactorUpdate = Parameters<PluginModels['MfaFactor']['update']>[0];

/**
 * Adds `updatedAt` from the injected clock. Pass `silent: true` with the update, because
 * Sequelize otherwise overwrites `updatedAt` with the system time.
 */
export function stampFactorUpdate(values: FactorUpdate, now: Date): FactorUpdate {
  return { ...values, updatedAt: now } as FactorUpdate;
}
