import type { HostApi } from '../host/contract.js';
import type { AccessRequestRow } from '../db/models.js';
import type { Translator } from '../i18n.js';
import type { Decision } from './decisions.js';

export interface AccessNotifier {
  /** Tells staff that a request waits for their decision. */
  pendingApproval(request: AccessRequestRow, locale: string): Promise<void>;
  /** Tells the patient about a staff decision, with the staff member's message if any. */
  decisionMade(request: AccessRequestRow, decision: Decision, messageToPatient: string | null): Promise<void>;
  /** Tells the patient their access was approved without staff, under auto-approve. */
  autoApproved(request: AccessRequestRow, locale: string): Promise<void>;
  /** Tells the patient staff removed their authenticator, so they set it up again. */
  mfaReset(request: AccessRequestRow, locale: string): Promise<void>;
  /** Tells the patient a recovery code was used, in case it was not them. */
  recoveryCodeUsed(request: AccessRequestRow, locale: string, remaining: number): Promise<void>;
}

/**
 * Sends notifications through the host. Messages name no clinical data, because the host may
 * deliver them by email or text message.
 */
export function createAccessNotifier(dependencies: { host: Pick<HostApi, 'notifications' | 'logger'>; translator: Translator; defaultLocale: string }): AccessNotifier {
  const { host, translator, defaultLocale } = dependencies;

  const sendToPatient = async (request: AccessRequestRow, key: string, locale: string, message: string | null, values: Record<string, unknown> = {}) => {
    const t = translator.forLocale(locale);
    const text = t(`clinicalAccess.notifications.${key}.body`, values);
    const body = message ? `${text}\n\n${t('clinicalAccess.notifications.messageFromPractice')}\n${message}` : text;
    try {
      await host.notifications.sendToPatient(request.practiceId, request.subjectPatientId, { subject: t(`clinicalAccess.notifications.${key}.subject`), body });
    } catch (error) {
      // The decision remains even if the message could not be sent, and staff see it in the trail.
      host.logger.error({ err: error, practiceId: request.practiceId, requestId: request.id }, 'could not send a notification to the patient');
    }
  };

  return {
    async pendingApproval(request, locale) {
      const t = translator.forLocale(locale);
      try {
        await host.notifications.sendToStaff(request.practiceId, {
          subject: t('clinicalAccess.notifications.pendingApproval.subject'),
          body: t('clinicalAccess.notifications.pendingApproval.body', { requestId: request.id }),
        });
      } catch (error) {
        host.logger.error({ err: error, practiceId: request.practiceId, requestId: request.id }, 'could not send a notification to staff');
      }
    },
    async decisionMade(request, decision, message) {
      const key = { approve: 'approved', deny: 'denied', revoke: 'revoked' }[decision];
      await sendToPatient(request, key, defaultLocale, message);
    },
    async autoApproved(request, locale) {
      await sendToPatient(request, 'approved', locale, null);
    },
    async mfaReset(request, locale) {
      await sendToPatient(request, 'mfaReset', locale, null);
    },
    async recoveryCodeUsed(request, locale, remaining) {
      await sendToPatient(request, 'recoveryCodeUsed', locale, null, { count: remaining });
    },
  };
}
