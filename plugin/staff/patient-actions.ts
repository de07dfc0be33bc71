import Joi from 'joi';
import type { Request, Response } from 'express';
import type { PluginContext } from '../plugin-context.js';
import { prepareStaffAction, requestFromUrl, sendRequestNotFound, showPatientAccess } from './patient-page.js';
import { ACCESS_STATUSES } from './access-list.js';
import { listHref } from './list-page.js';
import { DECISIONS, type Decision } from '../access/decisions.js';

const printableText = /^[^\p{Cc}]*$/u;

const MAX_VERSION = 2_147_483_647;
const rowDecisionPattern = new RegExp(`^(${DECISIONS.join('|')}):([1-9][0-9]{0,9})$`);

/**
 * The patient's page sends decision and version as two fields. The list shares one form among
 * all its rows, so each row's button sends both in one field, rowDecision=approve:3.
 */
export const decisionFormSchema = Joi.object({
  _csrf: Joi.string().max(1000),
  decision: Joi.string().valid(...DECISIONS),
  version: Joi.number().integer().min(1).max(MAX_VERSION),
  rowDecision: Joi.string()
    .pattern(rowDecisionPattern)
    .custom((text: string, helpers) => (Number(rowDecisionPattern.exec(text)![2]) <= MAX_VERSION ? text : helpers.error('any.invalid'))),
  // A tab pasted with the text becomes a space rather than rejecting the form.
  reason: Joi.string().allow('').replace(/\t/g, ' ').trim().max(500).pattern(printableText),
  // Line breaks are allowed in the message to the patient; other control characters are not.
  message: Joi.string().allow('').replace(/\t/g, ' ').trim().max(1000).pattern(/^(?:[^\p{Cc}]|\r?\n)*$/u),
  returnTo: Joi.string().valid('list', 'patient'),
  // The list's filter, search and order, so a decision made on the list returns to the same view.
  listStatus: Joi.string().valid('all', ...ACCESS_STATUSES),
  listQ: Joi.string().allow('').max(100).pattern(printableText),
  listOrder: Joi.string().valid('newest', 'oldest'),
})
  .xor('decision', 'rowDecision')
  .and('decision', 'version')
  .without('rowDecision', 'version');

/** Returns the decision and the version it was made on, from either form. */
function decisionOf(value: { decision?: Decision; version?: number; rowDecision?: string }): { decision: Decision; version: number } {
  if (value.rowDecision !== undefined) {
    const [, decision, version] = rowDecisionPattern.exec(value.rowDecision)!;
    return { decision: decision as Decision, version: Number(version) };
  }
  return { decision: value.decision!, version: value.version! };
}

/** The identity documents staff may record; the patient page offers these in a list. */
export const IN_PERSON_DOCUMENTS = ['passport', 'driving_licence', 'national_identity_card', 'other_photo_id'] as const;

export const inPersonFormSchema = Joi.object({
  _csrf: Joi.string().max(1000),
  version: Joi.number().integer().min(1).max(2_147_483_647).required(),
  document: Joi.string().valid(...IN_PERSON_DOCUMENTS).required(),
  confirmed: Joi.string().valid('on').required(),
});

export const resetMfaFormSchema = Joi.object({
  _csrf: Joi.string().max(1000),
  reason: Joi.string().trim().min(3).max(500).pattern(printableText).required(),
});

const decisionRejectionStatus = { notFound: 404, staleVersion: 409, notAllowedFromStatus: 409, identityNotVerified: 422, patientNotActive: 422 } as const;

/** POST /access/:requestId/decision: approve, deny or revoke one patient's access. */
export async function decideOnRequest(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const prepared = await prepareStaffAction(plugin, request, response, decisionFormSchema, 'clinicalAccess.decisions.errors.invalidForm');
  if (!prepared) {
    return;
  }
  const { context, t, accessRequest, value } = prepared;
  const { decision, version } = decisionOf(value);

  const result = await plugin.decisions.decide({
    practiceId: context.practice.id,
    staffId: context.staff!.id,
    staffName: context.staff!.displayName,
    requestId: accessRequest.id,
    decision,
    expectedVersion: version,
    reason: value.reason || null,
    messageToPatient: value.message || null,
  });
  if (result.outcome === 'rejected') {
    await showPatientAccess(plugin, request, response, {
      status: decisionRejectionStatus[result.reason],
      error: t(`clinicalAccess.decisions.errors.${result.reason}`),
    });
    return;
  }

  plugin.host.logger.info({ practiceId: context.practice.id, staffId: context.staff!.id, requestId: accessRequest.id, decision }, 'access decision recorded');
  if (value.returnTo === 'list') {
    // The address names the request of the notice, so the list can check the notice against it.
    const list = listHref(request.baseUrl, { status: value.listStatus ?? 'all', q: value.listQ ?? '', order: value.listOrder ?? 'newest' });
    response.redirect(303, `${list}${list.includes('?') ? '&' : '?'}notice=${decision}&noticeRequest=${accessRequest.id}`);
    return;
  }
  response.redirect(303, `${request.baseUrl}/access/${accessRequest.id}?notice=${decision}`);
}

/** POST /access/:requestId/verify-in-person: staff saw the patient's photo ID at the practice. */
export async function verifyInPerson(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = plugin.host.requestContext(request);
  const t = plugin.translator.forLocale(context.locale);
  const accessRequest = await requestFromUrl(plugin, request);
  if (!accessRequest) {
    sendRequestNotFound(plugin, request, response);
    return;
  }
  const { error, value } = inPersonFormSchema.validate(request.body ?? {});
  if (error) {
    const keyByField: Record<string, string> = { confirmed: 'confirmMissing', document: 'documentMissing' };
    const key = keyByField[String(error.details[0]?.path[0])] ?? 'invalidForm';
    await showPatientAccess(plugin, request, response, { status: 400, error: t(`clinicalAccess.inPerson.errors.${key}`) });
    return;
  }
  if (accessRequest.version !== value.version) {
    await showPatientAccess(plugin, request, response, { status: 409, error: t('clinicalAccess.decisions.errors.staleVersion') });
    return;
  }

  const sequelize = plugin.host.database.sequelize;
  const now = plugin.host.clock.now();
  const applied = await sequelize.transaction(async (transaction) => {
    const verification = await plugin.models.IdentityVerification.create(
      {
        practiceId: context.practice.id,
        requestId: accessRequest.id,
        patientId: accessRequest.subjectPatientId,
        method: 'in_person',
        stripeSessionId: null,
        stripeStatus: null,
        outcome: 'matched',
        failureCode: null,
        mismatchFields: null,
        inPersonDocument: value.document,
        recordedByStaffId: context.staff!.id,
        completedAt: now,
        createdAt: now,
      },
      { transaction },
    );
    const result = await plugin.access.transition(
      accessRequest,
      {
        from: ['identity_pending', 'identity_failed', 'identity_mismatch'],
        to: 'mfa_pending',
        expectedVersion: value.version,
        actor: { type: 'staff', id: context.staff!.id },
        action: 'identity.verifiedInPerson',
        fields: { identityMethod: 'in_person', identityVerifiedAt: now, currentVerificationId: verification.id, statusReason: null },
        details: { document: value.document, staffName: context.staff!.displayName, verificationId: verification.id },
      },
      transaction,
    );
    if (!result.applied) {
      // Roll back the verification row with the refused transition.
      throw new StaleRequestError();
    }
    return true;
  }).catch((failure: unknown) => {
    if (failure instanceof StaleRequestError) {
      return false;
    }
    throw failure;
  });

  if (!applied) {
    await showPatientAccess(plugin, request, response, { status: 409, error: t('clinicalAccess.inPerson.errors.notAllowed') });
    return;
  }
  plugin.host.logger.info({ practiceId: context.practice.id, staffId: context.staff!.id, requestId: accessRequest.id }, 'identity verified in person');
  response.redirect(303, `${request.baseUrl}/access/${accessRequest.id}?notice=verifiedInPerson`);
}

class StaleRequestError extends Error {}

/** POST /access/:requestId/reset-mfa: removes the authenticator and recovery codes after a lost phone. */
export async function resetMfa(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const prepared = await prepareStaffAction(plugin, request, response, resetMfaFormSchema, 'clinicalAccess.mfaReset.errors.reasonMissing');
  if (!prepared) {
    return;
  }
  const { context, t, accessRequest, value } = prepared;

  const practiceId = context.practice.id;
  const patientId = accessRequest.subjectPatientId;
  const actor = { type: 'staff' as const, id: context.staff!.id };
  const settings = await plugin.settings.get(practiceId);

  const removed = await plugin.host.database.sequelize.transaction(async (transaction) => {
    const anything = await plugin.mfa.reset(practiceId, patientId, actor, transaction);
    if (!anything) {
      return false;
    }
    await plugin.clinicalSessions.endAllForPatient(practiceId, patientId, 'mfaReset', transaction);
    await plugin.audit.record(
      { practiceId, actor, action: 'mfa.resetByStaff', patientId, details: { reason: value.reason, staffName: context.staff!.displayName, reverify: settings.reverifyAfterMfaReset } },
      transaction,
    );
    if (settings.reverifyAfterMfaReset) {
      await plugin.access.transition(
        accessRequest,
        {
          from: ['mfa_pending', 'pending', 'approved'],
          to: 'identity_pending',
          actor,
          action: 'identity.reverificationRequired',
          fields: { identityMethod: null, identityVerifiedAt: null, currentVerificationId: null, statusReason: 'mfaReset' },
        },
        transaction,
      );
    }
    return true;
  });

  if (!removed) {
    await showPatientAccess(plugin, request, response, { status: 409, error: t('clinicalAccess.mfaReset.errors.nothingToReset') });
    return;
  }
  await plugin.notifier.mfaReset(accessRequest, context.locale);
  plugin.host.logger.info({ practiceId, staffId: context.staff!.id, requestId: accessRequest.id }, 'patient MFA reset by staff');
  response.redirect(303, `${request.baseUrl}/access/${accessRequest.id}?notice=mfaReset`);
}
