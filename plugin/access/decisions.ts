import type { AccessRequestRow, AccessStatus } from '../db/models.js';
import type { AccessService } from './access-service.js';
import type { ClinicalSessions } from './clinical-sessions.js';
import type { AccessNotifier } from './notifier.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { HostApi } from '../host/contract.js';

export type Decision = 'approve' | 'deny' | 'revoke';

/**
 * Statuses each decision applies to. Anything else is refused with `notAllowedFromStatus`,
 * except an approval of an unverified identity, which is refused with `identityNotVerified`.
 */
export const DECISION_RULES: Record<Decision, { from: readonly AccessStatus[]; to: AccessStatus; action: string }> = {
  approve: { from: ['pending', 'denied', 'revoked'], to: 'approved', action: 'access.approved' },
  deny: { from: ['pending'], to: 'denied', action: 'access.denied' },
  revoke: { from: ['approved'], to: 'revoked', action: 'access.revoked' },
};

/** The decisions, in the order staff pages offer them. */
export const DECISIONS = Object.keys(DECISION_RULES) as Decision[];

/** Returns true when `value` names a decision. */
export function isDecision(value: unknown): value is Decision {
  return typeof value === 'string' && Object.hasOwn(DECISION_RULES, value);
}

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
  | { outcome: 'rejected'; reason: 'notFound' | 'staleVersion' | 'notAllowedFromStatus' | 'identityNotVerified' | 'patientNotActive'; current: AccessRequestRow | null };

export interface Decisions {
  decide(input: DecisionInput): Promise<DecisionResult>;
}

export function createDecisions(dependencies: {
  access: AccessService;
  clinicalSessions: ClinicalSessions;
  notifier: AccessNotifier;
  audit: AuditTrail;
  patients: HostApi['patients'];
  clock: { now(): Date };
}): Decisions {
  const { access, clinicalSessions, notifier, audit, patients, clock } = dependencies;

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
    // An unverified identity is checked before the status, because its message names the next
    // step (verify the identity in person) where "not allowed from this status" does not.
    if (input.decision === 'approve' && !request.identityVerifiedAt) {
      return reject(input, 'identityNotVerified', request);
    }
    const rule = DECISION_RULES[input.decision];
    if (!rule.from.includes(request.status)) {
      return reject(input, 'notAllowedFromStatus', request);
    }
    // A patient who is inactive, deceased or merged in the host record cannot be given access.
    if (input.decision === 'approve' && (await patients.get(input.practiceId, request.subjectPatientId))?.status !== 'active') {
      return reject(input, 'patientNotActive', request);
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
