import type { AccessRequestRow } from '../db/models.js';
import type { PluginContext } from '../plugin-context.js';
import type { ClinicalSessionCheck } from '../access/clinical-sessions.js';

/**
 * The page shown to a patient at the clinical record's address, worked out afresh from the
 * database on every request, so a revocation or a disabled practice takes effect at once.
 */
export type JourneyStep =
  | { step: 'unavailable'; reason: 'disabled' | 'patientNotActive' }
  | { step: 'notRequested' }
  | { step: 'identityPending'; request: AccessRequestRow }
  | { step: 'identityFailed'; request: AccessRequestRow; failureCode: string }
  | { step: 'identityMismatch'; request: AccessRequestRow }
  | { step: 'authenticatorSetup'; request: AccessRequestRow }
  | { step: 'recoveryCodes'; request: AccessRequestRow }
  | { step: 'pendingApproval'; request: AccessRequestRow }
  | { step: 'denied'; request: AccessRequestRow }
  | { step: 'revoked'; request: AccessRequestRow }
  | { step: 'challenge'; request: AccessRequestRow; sessionEnded: ClinicalSessionCheck }
  | { step: 'record'; request: AccessRequestRow; recoveryCodesPending: boolean };

/** Works out the patient's step. Reads settings, the host's patient, the request and MFA state. */
export async function resolveJourneyStep(plugin: PluginContext, practiceId: string, patientId: string, hostSessionId: string): Promise<JourneyStep> {
  const settings = await plugin.settings.get(practiceId);
  if (!settings.enabled) {
    return { step: 'unavailable', reason: 'disabled' };
  }
  const patient = await plugin.host.patients.get(practiceId, patientId);
  if (!patient || patient.status !== 'active') {
    return { step: 'unavailable', reason: 'patientNotActive' };
  }

  const request = await plugin.access.find(practiceId, patientId);
  if (!request) {
    return { step: 'notRequested' };
  }

  switch (request.status) {
    case 'identity_pending':
      return { step: 'identityPending', request };
    case 'identity_failed':
      return { step: 'identityFailed', request, failureCode: request.statusReason ?? 'unknown' };
    case 'identity_mismatch':
      return { step: 'identityMismatch', request };
    case 'denied':
      return { step: 'denied', request };
    case 'revoked':
      return { step: 'revoked', request };
    default:
      break;
  }

  const mfa = await plugin.mfa.status(practiceId, patientId);
  if (!mfa.confirmed) {
    return { step: 'authenticatorSetup', request };
  }
  if (request.status === 'mfa_pending') {
    return { step: 'recoveryCodes', request };
  }
  if (request.status === 'pending') {
    return { step: 'pendingApproval', request };
  }

  // Approved: every new portal session requires a code before any clinical data.
  const session = await plugin.clinicalSessions.touch(practiceId, patientId, hostSessionId);
  if (!session.valid) {
    return { step: 'challenge', request, sessionEnded: session };
  }
  return { step: 'record', request, recoveryCodesPending: mfa.recoveryCodesPending };
}
