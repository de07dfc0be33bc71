import { createHash } from 'node:crypto';
import { Op, type Transaction } from 'sequelize';
import type { PluginModels } from '../db/models.js';

export interface ClinicalSessionLimits {
  /** Clinical access ends after this long without a request, in milliseconds. */
  idleMilliseconds: number;
  /** Clinical access ends this long after MFA succeeded, however active the patient is. */
  absoluteMilliseconds: number;
}

export const DEFAULT_CLINICAL_SESSION_LIMITS: ClinicalSessionLimits = {
  idleMilliseconds: 15 * 60 * 1000,
  absoluteMilliseconds: 12 * 60 * 60 * 1000,
};

export type ClinicalSessionCheck = { valid: true } | { valid: false; reason: 'none' | 'idle' | 'expired' | 'ended' };

export interface ClinicalSessions {
  /** Opens clinical access for the host session; call after the host regenerated the session id. */
  start(practiceId: string, patientId: string, hostSessionId: string): Promise<void>;
  /** Checks the host session's clinical access and, when valid, records this request as activity. */
  touch(practiceId: string, patientId: string, hostSessionId: string): Promise<ClinicalSessionCheck>;
  /** Ends every open clinical session of the patient, in every process, at once. */
  endAllForPatient(practiceId: string, patientId: string, reason: string, transaction?: Transaction): Promise<number>;
}

/** Hashes the host session id, so the table contains no usable session id. */
function sessionKeyHash(hostSessionId: string): string {
  return createHash('sha256').update(`cra-clinical-session:${hostSessionId}`).digest('hex');
}

export function createClinicalSessions(dependencies: { models: PluginModels; clock: { now(): Date }; limits: ClinicalSessionLimits }): ClinicalSessions {
  const { models, clock, limits } = dependencies;

  const start = async (practiceId: string, patientId: string, hostSessionId: string) => {
    const now = clock.now();
    await models.ClinicalSession.create({
      sessionKeyHash: sessionKeyHash(hostSessionId),
      practiceId,
      patientId,
      startedAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + limits.absoluteMilliseconds),
      endedAt: null,
      endedReason: null,
    });
  };

  const touch = async (practiceId: string, patientId: string, hostSessionId: string): Promise<ClinicalSessionCheck> => {
    const session = await models.ClinicalSession.findOne({ where: { sessionKeyHash: sessionKeyHash(hostSessionId), practiceId, patientId } });
    if (!session) {
      return { valid: false, reason: 'none' };
    }
    if (session.endedAt) {
      // Keep telling the patient why the session ended, on this request and the next ones.
      const reason = session.endedReason === 'idle' || session.endedReason === 'expired' ? session.endedReason : 'ended';
      return { valid: false, reason };
    }

    const now = clock.now();
    const reason = now >= session.expiresAt ? 'expired' : now.getTime() - session.lastSeenAt.getTime() >= limits.idleMilliseconds ? 'idle' : null;
    if (reason) {
      await models.ClinicalSession.update({ endedAt: now, endedReason: reason }, { where: { id: session.id, endedAt: null } });
      return { valid: false, reason };
    }

    await models.ClinicalSession.update({ lastSeenAt: now }, { where: { id: session.id, endedAt: null } });
    return { valid: true };
  };

  const endAllForPatient = async (practiceId: string, patientId: string, reason: string, transaction?: Transaction) => {
    const [ended] = await models.ClinicalSession.update(
      { endedAt: clock.now(), endedReason: reason },
      { where: { practiceId, patientId, endedAt: { [Op.is]: null } }, ...(transaction ? { transaction } : {}) },
    );
    return ended;
  };

  return { start, touch, endAllForPatient };
}
