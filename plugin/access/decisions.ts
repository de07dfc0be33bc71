import type { AccessRequestRow, AccessStatus } from '../db/models.js';
import type { AccessService } from './access-service.js';
import type { ClinicalSessions } from './clinical-sessions.js';
import type { AccessNotifier } from './notifier.js';

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

export function createDecisions(dependencies: { access: AccessService; clinicalSessions: ClinicalSessions; notifier: AccessNotifier; clock: { now(): Date } }): Decisions {
  const { access, clinicalSessions, notifier, clock } = dependencies;

  const decide = async (input: DecisionInput): Promise<DecisionResult> => {
    const request = await access.findById(input.practiceId, input.requestId);
    if (!request) {
      return { outcome: 'rejected', reason: 'notFound', current: null };
    }
    if (request.version !== input.expectedVersion) {
      return { outcome: 'rejected', reason: 'staleVersion', current: request };
    }
    const rule = DECISION_RULES[input.decision];
    if (!rule.from.includes(request.status)) {
      return { outcome: 'rejected', reason: 'notAllowedFromStatus', current: request };
    }
    if (input.decision === 'approve' && !request.identityVerifiedAt) {
      return { outcome: 'rejected', reason: 'identityNotVerified', current: request };
    }

    const result = await access.transition(request, {
      from: rule.from,
      to: rule.to,
      expectedVersion: input.expectedVersion,
      actor: { type: 'staff', id: input.staffId },
      action: rule.action,
      fields: { decisionReason: input.reason ?? null, decidedByStaffId: input.staffId, decidedAt: clock.now(), statusReason: null },
      details: { reason: input.reason ?? null, messageSent: Boolean(input.messageToPatient) },
    });
    if (!result.applied) {
      return { outcome: 'rejected', reason: 'staleVersion', current: result.current };
    }

    if (input.decision === 'revoke') {
      await clinicalSessions.endAllForPatient(input.practiceId, request.subjectPatientId, 'revoked');
    }
    await notifier.decisionMade(result.request, input.decision, input.messageToPatient ?? null);
    return { outcome: 'applied', request: result.request };
  };

  return { decide };
}
