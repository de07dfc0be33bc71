import Joi from 'joi';
import type { Request, Response } from 'express';
import type { PluginContext } from '../plugin-context.js';
import { decisionsOpenTo, prepareStaffAction, requestFromUrl, sendRequestNotFound, showPatientAccess } from './patient-page.js';
import type { AccessRequestRow } from '../db/models.js';
import { ACCESS_STATUSES } from './access-list.js';
import { listHref } from './list-page.js';
import { DECISIONS, type Decision } from '../access/decisions.js';

const printableText = /^[^\p{Cc}]*$/u;

const MAX_VERSION = 2_147_483_647;

// A tab pasted with the text becomes a space rather than rejecting the form.
const reasonField = Joi.string().allow('').replace(/\t/g, ' ').trim().max(500).pattern(printableText);
// Line breaks are allowed in the message to the patient; other control characters are not.
// Browsers send a line break as CR LF but count it as one character against maxlength, so it
// becomes LF before the length is checked.
const messageField = Joi.string().allow('').replace(/\r\n/g, '\n').replace(/\t/g, ' ').trim().max(1000).pattern(/^(?:[^\p{Cc}]|\n)*$/u);

/** The patient's page sends the decision and the version of the request it showed. */
export const decisionFormSchema = Joi.object({
  _csrf: Joi.string().max(1000),
  decision: Joi.string().valid(...DECISIONS).required(),
  version: Joi.number().integer().min(1).max(MAX_VERSION).required(),
  reason: reasonField,
  message: messageField,
});

/** A list button's value: the decision, the request and the version the row showed. */
const rowDecisionPattern = new RegExp(`^(${DECISIONS.join('|')}):([1-9][0-9]{0,17}):([1-9][0-9]{0,9})$`);

/**
 * The list has one form for all its rows. Each row's button sends its decision, request and
 * version in one field, rowDecision=approve:52670:3. The list's filter, search and order come
 * too, so the decision returns to the same view. The confirmation page sends the same fields
 * with confirmed=yes, and the reason and message typed there.
 */
export const listDecisionFormSchema = Joi.object({
  _csrf: Joi.string().max(1000),
  rowDecision: Joi.string()
    .pattern(rowDecisionPattern)
    .custom((text: string, helpers) => (Number(rowDecisionPattern.exec(text)![3]) <= MAX_VERSION ? text : helpers.error('any.invalid')))
    .required(),
  confirmed: Joi.string().valid('yes'),
  reason: reasonField,
  message: messageField,
  listStatus: Joi.string().valid('all', ...ACCESS_STATUSES),
  listQ: Joi.string().allow('').max(100).pattern(printableText),
  listOrder: Joi.string().valid('newest', 'oldest'),
});

/**
 * Decisions that a list button only proposes. A confirmation page, with the reason and the
 * message, comes before each, because each ends a request or access and notifies the patient.
 * An approval from the list applies at once.
 */
const CONFIRMED_FROM_LIST: ReadonlySet<Decision> = new Set(['deny', 'revoke']);

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

/**
 * Applies a staff member's decision to a request and returns true. A rejected decision shows
 * the request's page with the reason, and returns false.
 */
async function applyDecision(
  plugin: PluginContext,
  request: Request,
  response: Response,
  accessRequest: AccessRequestRow,
  input: { decision: Decision; version: number; reason: string | null; message: string | null },
  /** The list view the decision came from, which the request's page links back to on an error. */
  listView?: string,
): Promise<boolean> {
  const context = plugin.host.requestContext(request);
  const result = await plugin.decisions.decide({
    practiceId: context.practice.id,
    staffId: context.staff!.id,
    staffName: context.staff!.displayName,
    requestId: accessRequest.id,
    decision: input.decision,
    expectedVersion: input.version,
    reason: input.reason,
    messageToPatient: input.message,
  });
  if (result.outcome === 'rejected') {
    plugin.host.logger.info({ practiceId: context.practice.id, staffId: context.staff!.id, requestId: accessRequest.id, decision: input.decision, reason: result.reason }, 'access decision rejected');
    const t = plugin.translator.forLocale(context.locale);
    await showPatientAccess(plugin, request, response, {
      requestId: accessRequest.id,
      status: decisionRejectionStatus[result.reason],
      error: t(`clinicalAccess.decisions.errors.${result.reason}`),
      ...(listView === undefined ? {} : { listHref: listView }),
    });
    return false;
  }
  plugin.host.logger.info({ practiceId: context.practice.id, staffId: context.staff!.id, requestId: accessRequest.id, decision: input.decision }, 'access decision recorded');
  return true;
}

/** POST /access/:requestId/decision: approve, deny or revoke one patient's access from their page. */
export async function decideOnRequest(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const prepared = await prepareStaffAction(plugin, request, response, decisionFormSchema, 'clinicalAccess.decisions.errors.invalidForm');
  if (!prepared) {
    return;
  }
  const { accessRequest, value } = prepared;
  if (await applyDecision(plugin, request, response, accessRequest, { decision: value.decision, version: value.version, reason: value.reason || null, message: value.message || null })) {
    response.redirect(303, `${request.baseUrl}/access/${accessRequest.id}?notice=${value.decision}`);
  }
}

/**
 * POST /access/decision: approve, deny or revoke with a row's button on the list. Deny and revoke
 * show a confirmation page first, which posts here again with confirmed=yes.
 */
export async function decideFromList(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = plugin.host.requestContext(request);
  const t = plugin.translator.forLocale(context.locale);
  const { error, value } = listDecisionFormSchema.validate(request.body ?? {});
  if (error) {
    plugin.host.logger.info({ practiceId: context.practice.id, staffId: context.staff!.id, field: error.details[0]?.path.join('.') }, 'list decision form invalid');
    const bodyHtml = plugin.templates.render('staff/error', {
      t,
      csrfToken: plugin.host.sessions.csrfToken(request),
      message: t('clinicalAccess.decisions.errors.invalidForm'),
      backHref: `${request.baseUrl}/access`,
    });
    plugin.host.views.render(request, response, { surface: 'staff', status: 400, title: t('clinicalAccess.staffList.title'), bodyHtml });
    return;
  }
  const [, decisionText, requestId, versionText] = rowDecisionPattern.exec(value.rowDecision)!;
  const decision = decisionText as Decision;
  const version = Number(versionText);
  const list = { status: value.listStatus ?? 'all', q: value.listQ ?? '', order: value.listOrder ?? 'newest' };
  const listView = listHref(request.baseUrl, list);
  const accessRequest = await plugin.access.findById(context.practice.id, Number(requestId));
  if (!accessRequest) {
    plugin.host.logger.info({ practiceId: context.practice.id, staffId: context.staff!.id, requestId }, 'list decision names no request of this practice');
    sendRequestNotFound(plugin, request, response, listView);
    return;
  }

  if (CONFIRMED_FROM_LIST.has(decision) && value.confirmed !== 'yes') {
    // Nothing changes yet. A row that changed since the list was shown, or a decision its status
    // does not allow, gets the error the decision itself would get, not a confirmation page.
    const open = decisionsOpenTo(context.staff!.permissions, { status: accessRequest.status, identityVerified: accessRequest.identityVerifiedAt !== null });
    let rejection: 'staleVersion' | 'notAllowedFromStatus' | null = null;
    if (accessRequest.version !== version) {
      rejection = 'staleVersion';
    } else if (!open[decision]) {
      rejection = 'notAllowedFromStatus';
    }
    if (rejection) {
      plugin.host.logger.info({ practiceId: context.practice.id, staffId: context.staff!.id, requestId: accessRequest.id, decision, reason: rejection }, 'list decision not offered for confirmation');
      await showPatientAccess(plugin, request, response, { requestId: accessRequest.id, status: 409, error: t(`clinicalAccess.decisions.errors.${rejection}`), listHref: listView });
      return;
    }
    const title = t(`clinicalAccess.listDecision.titles.${decision}`, { name: accessRequest.displayName });
    const bodyHtml = plugin.templates.render('staff/list-decision', {
      t,
      csrfToken: plugin.host.sessions.csrfToken(request),
      basePath: request.baseUrl,
      title,
      decision,
      rowDecision: value.rowDecision,
      list,
      cancelHref: listView,
      request: {
        birthDate: accessRequest.birthDate,
        status: accessRequest.status,
        statusLabel: t(`clinicalAccess.statuses.${accessRequest.status}`),
      },
    });
    plugin.host.views.render(request, response, { surface: 'staff', title, bodyHtml });
    return;
  }

  if (await applyDecision(plugin, request, response, accessRequest, { decision, version, reason: value.reason || null, message: value.message || null }, listView)) {
    // The address names the request of the notice, so the list can check the notice against it.
    response.redirect(303, `${listView}${listView.includes('?') ? '&' : '?'}notice=${decision}&noticeRequest=${accessRequest.id}`);
  }
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
