import type { AccessService } from './access-service.js';
import type { AccessNotifier } from './notifier.js';
import type { SettingsService } from '../settings/settings-service.js';

/**
 * Finishes the patient's set-up once their recovery codes are saved: approved at once when
 * the practice auto-approves verified patients, otherwise pending until staff decide.
 * A request that staff denied or revoked never reaches here, so auto-approve cannot undo a
 * staff decision.
 */
export async function completeEnrolment(
  dependencies: { access: AccessService; settings: SettingsService; notifier: AccessNotifier },
  practiceId: string,
  patientId: string,
  locale: string,
): Promise<void> {
  const request = await dependencies.access.find(practiceId, patientId);
  if (!request || request.status !== 'mfa_pending' || !request.identityVerifiedAt) {
    return;
  }

  const settings = await dependencies.settings.get(practiceId);
  const to = settings.autoApprove ? 'approved' : 'pending';
  const result = await dependencies.access.transition(request, {
    from: ['mfa_pending'],
    to,
    actor: { type: 'system', id: null },
    action: settings.autoApprove ? 'access.autoApproved' : 'access.pendingApproval',
  });
  if (!result.applied) {
    return;
  }

  if (to === 'approved') {
    await dependencies.notifier.autoApproved(result.request, locale);
  } else {
    await dependencies.notifier.pendingApproval(result.request, locale);
  }
}
