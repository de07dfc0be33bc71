import { UniqueConstraintError, type Sequelize, type Transaction } from 'sequelize';
import type { HostPatient } from '../host/contract.js';
import type { AccessRequestRow, AccessStatus, PluginModels } from '../db/models.js';
import type { AuditActor, AuditTrail } from '../audit/audit-trail.js';
import { replaceSearchIndex, searchNameOf, syncSearchOrder, writeSearchIndex } from './search-index.js';

export interface Transition {
  /** Statuses the request may be in for the transition to apply. */
  from: readonly AccessStatus[];
  to: AccessStatus;
  actor: AuditActor;
  /** Audit action, for example `access.approved`. */
  action: string;
  /** Other columns to set with the status. */
  fields?: Partial<Pick<AccessRequestRow, 'identityMethod' | 'identityVerifiedAt' | 'currentVerificationId' | 'statusReason' | 'decisionReason' | 'decidedByStaffId' | 'decidedAt'>>;
  /** The version the caller read; when given, a request changed since then is not touched. */
  expectedVersion?: number;
  details?: Record<string, unknown>;
}

export type TransitionResult = { applied: true; request: AccessRequestRow } | { applied: false; current: AccessRequestRow };

export interface AccessService {
  /** The patient's current request for their own record, or null. */
  find(practiceId: string, patientId: string, transaction?: Transaction): Promise<AccessRequestRow | null>;
  findById(practiceId: string, requestId: number, transaction?: Transaction): Promise<AccessRequestRow | null>;
  /** Creates the patient's request in `identity_pending`, or returns the one that exists. */
  create(practiceId: string, patient: HostPatient): Promise<AccessRequestRow>;
  /**
   * Moves a request to another status if it is still in one of `from` (and at
   * `expectedVersion`, when given), and records the change in the audit trail in the same
   * transaction. Two concurrent transitions of one request never both apply.
   */
  transition(request: AccessRequestRow, transition: Transition, transaction?: Transaction): Promise<TransitionResult>;
  /** Copies the patient's current name and date of birth into the request and its search index. */
  refreshPatientDetails(request: AccessRequestRow, patient: HostPatient, transaction: Transaction): Promise<void>;
}

/** Every status a request can be in, in the order the staff list shows them. */
export const ACCESS_STATUSES: readonly AccessStatus[] = [
  'pending',
  'approved',
  'denied',
  'revoked',
  'identity_pending',
  'identity_failed',
  'identity_mismatch',
  'mfa_pending',
];

/** Adds `change` to the practice's count of requests in `status`, inside the caller's transaction. */
async function adjustStatusCount(models: PluginModels, practiceId: string, status: AccessStatus, change: 1 | -1, transaction: Transaction): Promise<void> {
  const sequelize = models.StatusCount.sequelize!;
  const [updated] = await models.StatusCount.update(
    { total: sequelize.literal(`total ${change > 0 ? '+' : '-'} 1`) as unknown as number },
    { where: { practiceId, status }, transaction },
  );
  if (updated === 0) {
    await models.StatusCount.bulkCreate(
      ACCESS_STATUSES.map((each) => ({ practiceId, status: each, total: 0 })),
      { ignoreDuplicates: true, transaction },
    );
    await models.StatusCount.update(
      { total: sequelize.literal(`total ${change > 0 ? '+' : '-'} 1`) as unknown as number },
      { where: { practiceId, status }, transaction },
    );
  }
}

/**
 * Recounts a practice's requests per status from the requests themselves. For data loaded
 * around the service (bulk imports, tests); the service keeps the counts in step itself.
 */
export async function rebuildStatusCounts(models: PluginModels, practiceId: string): Promise<void> {
  const sequelize = models.StatusCount.sequelize!;
  await sequelize.transaction(async (transaction) => {
    const rows = (await models.AccessRequest.findAll({
      attributes: ['status', [sequelize.fn('COUNT', sequelize.col('id')), 'total']],
      where: { practiceId },
      group: ['status'],
      raw: true,
      transaction,
    })) as unknown as Array<{ status: AccessStatus; total: number | string }>;
    await models.StatusCount.destroy({ where: { practiceId }, transaction });
    await models.StatusCount.bulkCreate(
      ACCESS_STATUSES.map((status) => ({ practiceId, status, total: Number(rows.find((row) => row.status === status)?.total ?? 0) })),
      { transaction },
    );
  });
}

export function createAccessService(dependencies: { sequelize: Sequelize; models: PluginModels; audit: AuditTrail; clock: { now(): Date } }): AccessService {
  const { sequelize, models, audit, clock } = dependencies;

  const find = (practiceId: string, patientId: string, transaction?: Transaction) =>
    models.AccessRequest.findOne({
      where: { practiceId, viewerPatientId: patientId, subjectPatientId: patientId },
      ...(transaction ? { transaction } : {}),
    });

  const findById = (practiceId: string, requestId: number, transaction?: Transaction) =>
    models.AccessRequest.findOne({ where: { practiceId, id: requestId }, ...(transaction ? { transaction } : {}) });

  const refreshPatientDetails = async (request: AccessRequestRow, patient: HostPatient, transaction: Transaction) => {
    const searchName = searchNameOf(patient);
    await models.AccessRequest.update(
      { displayName: [...patient.givenNames, patient.familyName].join(' ').slice(0, 400), searchName, birthDate: patient.birthDate },
      { where: { id: request.id, practiceId: request.practiceId }, transaction },
    );
    await replaceSearchIndex(models, request, patient, transaction);
  };

  const create = async (practiceId: string, patient: HostPatient): Promise<AccessRequestRow> => {
    const existing = await find(practiceId, patient.id);
    if (existing) {
      return existing;
    }
    const now = clock.now();
    try {
      return await sequelize.transaction(async (transaction) => {
        const request = await models.AccessRequest.create(
          {
            practiceId,
            viewerPatientId: patient.id,
            subjectPatientId: patient.id,
            status: 'identity_pending',
            version: 1,
            identityMethod: null,
            identityVerifiedAt: null,
            currentVerificationId: null,
            statusReason: null,
            decisionReason: null,
            decidedByStaffId: null,
            decidedAt: null,
            displayName: [...patient.givenNames, patient.familyName].join(' ').slice(0, 400),
            searchName: searchNameOf(patient),
            birthDate: patient.birthDate,
            detailsChangedInHost: false,
            lastChangedAt: now,
          },
          { transaction },
        );
        await writeSearchIndex(models, request, patient, transaction);
        await adjustStatusCount(models, practiceId, 'identity_pending', 1, transaction);
        await audit.record({ practiceId, actor: { type: 'patient', id: patient.id }, action: 'access.requested', patientId: patient.id }, transaction);
        return request;
      });
    } catch (error) {
      // A second tab submitted at the same moment; its request is the patient's request.
      if (error instanceof UniqueConstraintError) {
        return (await find(practiceId, patient.id))!;
      }
      throw error;
    }
  };

  const transition = async (request: AccessRequestRow, change: Transition, outer?: Transaction): Promise<TransitionResult> => {
    const run = async (transaction: Transaction): Promise<TransitionResult> => {
      // The status read by the caller is part of the condition, so the counts below move
      // exactly one request from that status to the new one.
      if (!change.from.includes(request.status)) {
        return { applied: false, current: (await findById(request.practiceId, request.id, transaction))! };
      }
      const where: Record<string | symbol, unknown> = {
        id: request.id,
        practiceId: request.practiceId,
        status: request.status,
      };
      if (change.expectedVersion !== undefined) {
        where.version = change.expectedVersion;
      }

      const [updatedRows] = await models.AccessRequest.update(
        { ...change.fields, status: change.to, version: sequelize.literal('version + 1') as unknown as number, lastChangedAt: clock.now() },
        { where, transaction },
      );
      const current = (await findById(request.practiceId, request.id, transaction))!;
      if (updatedRows !== 1) {
        return { applied: false, current };
      }
      await syncSearchOrder(models, request.id, transaction);

      if (request.status !== change.to) {
        // The two count rows are locked in name order, whatever the direction of the change.
        // Otherwise two requests moving between the same two statuses in opposite directions at
        // once would each hold one row and wait for the other, and MariaDB would end one of
        // them with a deadlock error.
        const adjustments: Array<[AccessStatus, 1 | -1]> = [
          [request.status, -1],
          [change.to, 1],
        ];
        adjustments.sort(([left], [right]) => (left < right ? -1 : 1));
        for (const [status, amount] of adjustments) {
          await adjustStatusCount(models, request.practiceId, status, amount, transaction);
        }
      }
      await audit.record(
        {
          practiceId: request.practiceId,
          actor: change.actor,
          action: change.action,
          patientId: request.subjectPatientId,
          details: { from: request.status, to: change.to, ...change.details },
        },
        transaction,
      );
      return { applied: true, request: current };
    };

    return outer ? run(outer) : sequelize.transaction(run);
  };

  return { find, findById, create, transition, refreshPatientDetails };
}
