import type { Transaction } from 'sequelize';
import type { AuditActorType, PluginModels } from '../db/models.js';

export interface AuditActor {
  type: AuditActorType;
  /** Staff member or patient id; null for the system. */
  id: string | null;
}

export interface AuditEntry {
  practiceId: string;
  actor: AuditActor;
  /** Dotted action name, for example `settings.changed` or `access.approved`. */
  action: string;
  patientId?: string | null;
  /** Facts of the event. Never put names, dates of birth, codes or secrets here. */
  details?: Record<string, unknown>;
}

export interface AuditTrail {
  record(entry: AuditEntry, transaction?: Transaction): Promise<void>;
  listForPractice(practiceId: string, options?: { patientId?: string; limit?: number }): Promise<
    Array<{ id: number; actor: AuditActor; action: string; patientId: string | null; details: Record<string, unknown>; occurredAt: Date }>
  >;
}

/** Creates the append-only audit trail. Callers pass their transaction so the event commits with the change. */
export function createAuditTrail(dependencies: { models: PluginModels; clock: { now(): Date } }): AuditTrail {
  const { models, clock } = dependencies;

  return {
    async record(entry, transaction) {
      await models.AuditEvent.create(
        {
          practiceId: entry.practiceId,
          actorType: entry.actor.type,
          actorId: entry.actor.id,
          action: entry.action,
          patientId: entry.patientId ?? null,
          details: entry.details ? JSON.stringify(entry.details) : null,
          occurredAt: clock.now(),
        },
        transaction ? { transaction } : {},
      );
    },

    async listForPractice(practiceId, options = {}) {
      const where: Record<string, unknown> = { practiceId };
      if (options.patientId !== undefined) {
        where.patientId = options.patientId;
      }
      const rows = await models.AuditEvent.findAll({ where, order: [['id', 'DESC']], limit: options.limit ?? 100 });
      return rows.map((row) => ({
        id: Number(row.id),
        actor: { type: row.actorType, id: row.actorId },
        action: row.action,
        patientId: row.patientId,
        details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : {},
        occurredAt: row.occurredAt,
      }));
    },
  };
}
