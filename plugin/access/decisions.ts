import type { AccessRequestRow, AccessStatus } from '../db/models.js';
import type { AccessService } from './access-service.js';
import type { ClinicalSessions } from './clinical-sessions.js';
import type { AccessNotifier } from './notifier.js';
import type { AuditTrail } from '../audit/audit-trail.js';

export type Decision = 'approve' | 'deny' | 'revoke';

/** Statuses each decision applies to; anything else is refused with `notAllowedFromStatus`. */
export const DECISION_RULES: Record<Decision, { from: readonly AccessStatus[]; to: AccessStatus; action: string }> = {
  approve: { from: ['pending', 'denied', 'revoked'], to: 'approved', action: 'access.approved' },
  deny: { from: ['pending'], to: 'denied', action: 'access.denied' },
  revoke: { from: ['approved'], to: 'revoked', action: 'access.revoked' },
};

export interface DecisionInput {
  practiceId: string;
  staffId: string;
  /** The staff member's name at the time, kept in the trail. */
  staffName: string;
  requestId: number;
  decision: Decision;
  /** Version of the request shown on the staff member's page. */
  expectedVersion: number;
  reason?: string | null;
  messageToPatient?: string | null;
}

export type DecisionResult =
  | { outcome: 'applied'; request: AccessRequestRow }
  | { outcome: 'rejected'; reason: 'notFound' | 'staleVersion' | 'notAllowedFromStatus' | 'identityNotVerified'; current: AccessRequestRow | null };

export interface Decisions {
  decide(input: DecisionInput): Promise<DecisionResult>;
}

export function createDecisions(dependencies: {
  access: AccessService;
  clinicalSessions: ClinicalSessions;
  notifier: AccessNotifier;
  audit: AuditTrail;
  clock: { now(): Date };
}): Decisions {
  const { access, clinicalSessions, notifier, audit, clock } = dependencies;

  /** Records a refused decision too, so the trail shows both of two concurrent attempts. */
  const reject = async (input: DecisionInput, reason: Exclude<DecisionResult, { outcome: 'applied' }>['reason'], current: AccessRequestRow): Promise<DecisionResult> => {
    await audit.record({
      practiceId: input.practiceId,
      actor: { type: 'staff', id: input.staffId },
      action: 'access.decisionRejected',
      patientId: current.subjectPatientId,
      details: { decision: input.decision, reason, status: current.status, staffName: input.staffName },
    });
    return { outcome: 'rejected', reason, current };
  };

  const decide = async (input: DecisionInput): Promise<DecisionResult> => {
    const request = await access.findById(input.practiceId, input.requestId);
    if (!request) {
      return { outcome: 'rejected', reason: 'notFound', current: null };
    }
    if (request.version !== input.expectedVersion) {
      return reject(input, 'staleVersion', request);
    }
    const rule = DECISION_RULES[input.decision];
    if (!rule.from.includes(request.status)) {
      return reject(input, 'notAllowedFromStatus', request);
    }
    if (input.decision === 'approve' && !request.identityVerifiedAt) {
      return reject(input, 'identityNotVerified', request);
    }

    const result = await access.transition(request, {
      from: rule.from,
      to: rule.to,
      expectedVersion: input.expectedVersion,
      actor: { type: 'staff', id: input.staffId },
      action: rule.action,
      fields: { decisionReason: input.reason ?? null, decidedByStaffId: input.staffId, decidedAt: clock.now(), statusReason: null },
      details: { reason: input.reason ?? null, messageSent: Boolean(input.messageToPatient), staffName: input.staffName },
    });
    if (!result.applied) {
      return reject(input, 'staleVersion', result.current);
    }

    if (input.decision === 'revoke') {
      await clinicalSessions.endAllForPatient(input.practiceId, request.subjectPatientId, 'revoked');
    }
    await notifier.decisionMade(result.request, input.decision, input.messageToPatient ?? null);
    return { outcome: 'applied', request: result.request };
  };

  return { decide };
}
