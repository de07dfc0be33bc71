import type { Request, Response } from 'express';
import type Joi from 'joi';
import type { TFunction } from 'i18next';
import type { PluginContext } from '../plugin-context.js';
import type { RequestContext } from '../host/contract.js';
import type { AccessRequestRow } from '../db/models.js';
import { DECISION_RULES } from '../access/decisions.js';

const requestIdPattern = /^[1-9][0-9]{0,17}$/;

/** Reads the request named in the URL, only within the staff member's own practice. */
export async function requestFromUrl(plugin: PluginContext, request: Request) {
  const context = plugin.host.requestContext(request);
  const requestId = String(request.params.requestId);
  if (!requestIdPattern.test(requestId)) {
    return null;
  }
  return plugin.access.findById(context.practice.id, Number(requestId));
}

/**
 * Sends the staff "not found" page; ids from another practice get the same response. Its link
 * goes back to `listView`, or to the whole list.
 */
export function sendRequestNotFound(plugin: PluginContext, request: Request, response: Response, listView?: string): void {
  const context = plugin.host.requestContext(request);
  const t = plugin.translator.forLocale(context.locale);
  const bodyHtml = plugin.templates.render('staff/error', {
    t,
    csrfToken: plugin.host.sessions.csrfToken(request),
    message: t('clinicalAccess.staffPatient.errors.notFound'),
    backHref: listView ?? `${request.baseUrl}/access`,
  });
  plugin.host.views.render(request, response, { surface: 'staff', status: 404, title: t('clinicalAccess.staffPatient.notFoundTitle'), bodyHtml });
}

/**
 * Starts a staff action on one request: reads the request (404 outside the staff member's
 * practice) and validates the form (400 with `invalidFormKey`'s message). Returns null once
 * it has sent the response itself.
 */
export async function prepareStaffAction<Value>(
  plugin: PluginContext,
  request: Request,
  response: Response,
  schema: Joi.ObjectSchema<Value>,
  invalidFormKey: string,
): Promise<{ context: RequestContext; t: TFunction; accessRequest: AccessRequestRow; value: Value } | null> {
  const context = plugin.host.requestContext(request);
  const t = plugin.translator.forLocale(context.locale);
  const accessRequest = await requestFromUrl(plugin, request);
  if (!accessRequest) {
    sendRequestNotFound(plugin, request, response);
    return null;
  }
  const { error, value } = schema.validate(request.body ?? {});
  if (error) {
    await showPatientAccess(plugin, request, response, { status: 400, error: t(invalidFormKey) });
    return null;
  }
  return { context, t, accessRequest, value };
}

/**
 * Returns which decisions a staff member may make on a request now: those whose rule applies to
 * the request's status, and approval only with a verified identity.
 */
export function decisionsOpenTo(
  permissions: ReadonlySet<string>,
  request: Pick<AccessRequestRow, 'status'> & { identityVerified: boolean },
): { approve: boolean; deny: boolean; revoke: boolean } {
  const decide = permissions.has('clinicalAccess.decide');
  return {
    approve: decide && DECISION_RULES.approve.from.includes(request.status) && request.identityVerified,
    deny: decide && DECISION_RULES.deny.from.includes(request.status),
    revoke: decide && DECISION_RULES.revoke.from.includes(request.status),
  };
}

/** GET /access/:requestId: one patient's status, history and the actions staff may take. */
export async function showPatientAccess(
  plugin: PluginContext,
  request: Request,
  response: Response,
  options: { requestId?: number; status?: number; error?: string | null; notice?: string | null; listHref?: string } = {},
): Promise<void> {
  const context = plugin.host.requestContext(request);
  const t = plugin.translator.forLocale(context.locale);
  // A decision from the list names its request in the form, not in the address.
  const accessRequest = options.requestId === undefined ? await requestFromUrl(plugin, request) : await plugin.access.findById(context.practice.id, options.requestId);
  if (!accessRequest) {
    sendRequestNotFound(plugin, request, response);
    return;
  }

  const practiceId = context.practice.id;
  const patientId = accessRequest.subjectPatientId;
  const [mfa, events, verifications] = await Promise.all([
    plugin.mfa.status(practiceId, patientId),
    plugin.audit.listForPractice(practiceId, { patientId, limit: 200 }),
    plugin.models.IdentityVerification.findAll({ where: { practiceId, requestId: accessRequest.id }, order: [['id', 'DESC']], limit: 20 }),
  ]);

  const dateTime = new Intl.DateTimeFormat(context.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: context.practice.timeZone });
  const permissions = context.staff!.permissions;
  const status = accessRequest.status;
  const queryNotice = typeof request.query.notice === 'string' ? request.query.notice : null;
  // A notice in the address is shown only while the request is in the state it reports, so a
  // link made up by someone else cannot report a state the request is not in.
  const noticeHolds: Record<string, boolean> = {
    approve: status === DECISION_RULES.approve.to,
    deny: status === DECISION_RULES.deny.to,
    revoke: status === DECISION_RULES.revoke.to,
    verifiedInPerson: accessRequest.identityMethod === 'in_person',
    mfaReset: !mfa.enrolled && !mfa.confirmed,
    detailsReviewed: !accessRequest.detailsChangedInHost,
  };

  const bodyHtml = plugin.templates.render('staff/access-patient', {
    t,
    csrfToken: plugin.host.sessions.csrfToken(request),
    basePath: request.baseUrl,
    // A decision made on the list links back to the view it came from.
    listHref: options.listHref ?? `${request.baseUrl}/access`,
    error: options.error ?? null,
    notice: options.notice ?? (queryNotice !== null && Object.hasOwn(noticeHolds, queryNotice) && noticeHolds[queryNotice] ? queryNotice : null),
    request: {
      id: accessRequest.id,
      name: accessRequest.displayName,
      birthDate: accessRequest.birthDate,
      status,
      statusReason: accessRequest.statusReason,
      version: accessRequest.version,
      identityMethod: accessRequest.identityMethod,
      identityVerifiedAt: accessRequest.identityVerifiedAt ? dateTime.format(accessRequest.identityVerifiedAt) : null,
      detailsChanged: accessRequest.detailsChangedInHost,
      decisionReason: accessRequest.decisionReason,
    },
    mfa: {
      confirmed: mfa.confirmed,
      remainingRecoveryCodes: mfa.remainingRecoveryCodes,
      lockedUntil: mfa.lockedUntil ? dateTime.format(mfa.lockedUntil) : null,
      hardLocked: mfa.hardLocked,
      failedAttempts: mfa.failedAttempts,
    },
    verifications: verifications.map((verification) => ({
      method: verification.method,
      outcome: verification.outcome,
      failureCode: verification.failureCode,
      mismatchFields: verification.mismatchFields,
      document: verification.inPersonDocument,
      at: dateTime.format(verification.completedAt ?? verification.createdAt),
    })),
    history: events.map((event) => ({
      at: dateTime.format(event.occurredAt),
      action: event.action,
      actorType: event.actor.type,
      staffName: typeof event.details.staffName === 'string' ? event.details.staffName : null,
      // A refused decision stores a reason code, which the page translates; other reasons are staff's words.
      reason: typeof event.details.reason === 'string' && event.action !== 'access.decisionRejected' ? event.details.reason : null,
      rejectionReason: event.action === 'access.decisionRejected' && typeof event.details.reason === 'string' ? event.details.reason : null,
      section: typeof event.details.section === 'string' ? event.details.section : null,
      failureCode: typeof event.details.failureCode === 'string' ? event.details.failureCode : null,
      document: typeof event.details.document === 'string' ? event.details.document : null,
      to: typeof event.details.to === 'string' ? event.details.to : null,
    })),
    can: {
      ...decisionsOpenTo(permissions, { status, identityVerified: accessRequest.identityVerifiedAt !== null }),
      approveBlocked: permissions.has('clinicalAccess.decide') && DECISION_RULES.approve.from.includes(status) && accessRequest.identityVerifiedAt === null,
      verifyInPerson: permissions.has('clinicalAccess.verifyInPerson') && ['identity_pending', 'identity_failed', 'identity_mismatch'].includes(status),
      resetMfa: permissions.has('clinicalAccess.resetMfa') && (mfa.enrolled || mfa.confirmed),
      markDetailsReviewed: permissions.has('clinicalAccess.decide') && accessRequest.detailsChangedInHost,
    },
  });
  plugin.host.views.render(request, response, { surface: 'staff', status: options.status ?? 200, title: accessRequest.displayName, bodyHtml });
}
