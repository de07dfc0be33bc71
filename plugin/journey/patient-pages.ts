import Joi from 'joi';
import type { Request, Response } from 'express';
import type { PluginContext } from '../plugin-context.js';
import type { RequestContext } from '../host/contract.js';
import { resolveJourneyStep, type JourneyStep } from './journey-state.js';
import type { ClinicalSessionCheck } from '../access/clinical-sessions.js';
import { completeEnrolment } from '../access/enrolment.js';
import { MAX_VERIFICATIONS_PER_DAY } from '../identity/identity-service.js';
import { MfaStateError } from '../mfa/mfa-service.js';
import { renderOverviewHtml, renderSectionHtml, SECTION_SLUGS, sectionForSlug } from '../records/section-page.js';

/** Stripe `last_error` codes the patient page explains in its own words; others get a general text. */
const explainedFailureCodes = new Set([
  'document_expired',
  'document_unverified_other',
  'document_type_not_supported',
  'selfie_face_mismatch',
  'selfie_unverified_other',
  'consent_declined',
  'device_not_supported',
  'under_supported_age',
  'abandoned',
  'canceled',
]);

/** Returns the failure code the page explains, or `other` for codes it has no words for. */
function explainedFailureCode(code: string): string {
  return explainedFailureCodes.has(code) ? code : 'other';
}

/** Returns why a clinical session ended, for the challenge page, or null when there was none. */
function endedReasonOf(check: ClinicalSessionCheck): string | null {
  if (check.valid || check.reason === 'none') {
    return null;
  }
  return check.reason;
}

const codeFormSchema = Joi.object({
  _csrf: Joi.string().max(1000),
  code: Joi.string().allow('').max(64).required(),
});

/** The challenge form: a code, and the section the patient asked for before it, if any. */
const challengeFormSchema = codeFormSchema.keys({
  next: Joi.string().valid(...Object.values(SECTION_SLUGS)),
});

/** Returns the section slug in `value` when it names a section, or null for anything else. */
function sectionSlugOf(value: unknown): string | null {
  const section = sectionForSlug(value);
  return section === null ? null : SECTION_SLUGS[section];
}

const emptyFormSchema = Joi.object({ _csrf: Joi.string().max(1000) });

interface PageOptions {
  status?: number;
  error?: string | null;
  errorField?: string | null;
  [name: string]: unknown;
}

function contextOf(plugin: PluginContext, request: Request): RequestContext & { patient: NonNullable<RequestContext['patient']> } {
  const context = plugin.host.requestContext(request);
  if (!context.patient) {
    throw new Error('Patient routes need a signed-in portal patient.');
  }
  return context as RequestContext & { patient: NonNullable<RequestContext['patient']> };
}

/** Renders a patient page inside the portal layout. */
function renderPage(plugin: PluginContext, request: Request, response: Response, template: string, titleKey: string, options: PageOptions = {}) {
  const context = contextOf(plugin, request);
  const t = plugin.translator.forLocale(context.locale);
  const { status, ...data } = options;
  const bodyHtml = plugin.templates.render(template, {
    t,
    csrfToken: plugin.host.sessions.csrfToken(request),
    basePath: request.baseUrl,
    practiceName: context.practice.name,
    ...data,
  });
  plugin.host.views.render(request, response, { surface: 'portal', title: t(titleKey), bodyHtml, status: status ?? 200 });
}

async function stepFor(plugin: PluginContext, request: Request): Promise<JourneyStep> {
  const context = contextOf(plugin, request);
  return resolveJourneyStep(plugin, context.practice.id, context.patient.id, plugin.host.sessions.sessionId(request));
}

/** Formats a time to try again at, rounded up to the minute, so the patient is never shown a time that is too early. */
function formatDateTime(date: Date, context: RequestContext): string {
  const minute = 60_000;
  const roundedUp = new Date(Math.ceil(date.getTime() / minute) * minute);
  return new Intl.DateTimeFormat(context.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: context.practice.timeZone }).format(roundedUp);
}

/** GET /: the page for wherever the patient is in the journey. */
export async function showJourney(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = contextOf(plugin, request);
  const step = await stepFor(plugin, request);
  const notice = typeof request.query.notice === 'string' ? request.query.notice : null;

  switch (step.step) {
    case 'unavailable':
      renderPage(plugin, request, response, 'patient/journey/unavailable', 'clinicalAccess.journey.unavailable.title', { reason: step.reason });
      return;
    case 'notRequested':
      renderPage(plugin, request, response, 'patient/journey/start', 'clinicalAccess.journey.start.title');
      return;
    case 'identityPending':
      renderPage(plugin, request, response, 'patient/journey/identity-pending', 'clinicalAccess.journey.identityPending.title', {
        started: step.request.currentVerificationId !== null,
      });
      return;
    case 'identityFailed':
      renderPage(plugin, request, response, 'patient/journey/identity-failed', 'clinicalAccess.journey.identityFailed.title', {
        failureCode: explainedFailureCode(step.failureCode),
        underAge: step.failureCode === 'under_supported_age',
        dailyLimit: MAX_VERIFICATIONS_PER_DAY,
      });
      return;
    case 'identityMismatch':
      renderPage(plugin, request, response, 'patient/journey/identity-mismatch', 'clinicalAccess.journey.identityMismatch.title');
      return;
    case 'authenticatorSetup':
      await showAuthenticatorSetup(plugin, request, response);
      return;
    case 'recoveryCodes':
      if (!(await showRecoveryCodes(plugin, request, response))) {
        // The codes were saved but the request did not move on (the process stopped between
        // the two steps): finish it now.
        await completeEnrolment(plugin, context.practice.id, context.patient.id, context.locale);
        renderPage(plugin, request, response, 'patient/journey/pending', 'clinicalAccess.journey.pending.title', { checkAgain: true });
      }
      return;
    case 'pendingApproval':
      renderPage(plugin, request, response, 'patient/journey/pending', 'clinicalAccess.journey.pending.title');
      return;
    case 'denied':
    case 'revoked':
      renderPage(plugin, request, response, 'patient/journey/decision', `clinicalAccess.journey.${step.step}.title`, {
        decision: step.step,
        reason: step.request.decisionReason,
      });
      return;
    case 'challenge':
      renderPage(plugin, request, response, 'patient/journey/challenge', 'clinicalAccess.journey.challenge.title', {
        sessionEnded: endedReasonOf(step.sessionEnded),
        next: sectionSlugOf(request.query.next),
      });
      return;
    case 'record': {
      const mfa = await plugin.mfa.status(context.practice.id, context.patient.id);
      const t = plugin.translator.forLocale(context.locale);
      const bodyHtml = renderOverviewHtml(plugin, {
        locale: context.locale,
        csrfToken: plugin.host.sessions.csrfToken(request),
        basePath: request.baseUrl,
        notice: notice === 'recoveryCodeUsed' ? 'recoveryCodeUsed' : null,
        remainingRecoveryCodes: mfa.remainingRecoveryCodes,
        recoveryCodesPending: step.recoveryCodesPending,
      });
      await audit(plugin, context, 'record.viewed', { section: 'overview' });
      plugin.host.views.render(request, response, { surface: 'portal', title: t('clinicalAccess.records.overview.title'), bodyHtml });
      return;
    }
  }
}

async function audit(plugin: PluginContext, context: RequestContext & { patient: { id: string } }, action: string, details: Record<string, unknown>) {
  await plugin.audit.record({ practiceId: context.practice.id, actor: { type: 'patient', id: context.patient.id }, action, patientId: context.patient.id, details });
}

/** POST /request: creates the request and sends the patient to Stripe. */
export async function requestAccess(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = contextOf(plugin, request);
  if (emptyFormSchema.validate(request.body ?? {}).error) {
    await rejectForm(plugin, request, response);
    return;
  }
  const step = await stepFor(plugin, request);
  if (step.step !== 'notRequested') {
    response.redirect(303, `${request.baseUrl}/`);
    return;
  }

  const patient = (await plugin.host.patients.get(context.practice.id, context.patient.id))!;
  await plugin.access.create(context.practice.id, patient);
  await startIdentityCheck(plugin, request, response);
}

/** POST /identity/start: continues or retries the identity check. */
export async function startIdentityCheck(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = contextOf(plugin, request);
  if (emptyFormSchema.validate(request.body ?? {}).error) {
    await rejectForm(plugin, request, response);
    return;
  }
  const step = await stepFor(plugin, request);
  if (step.step !== 'identityPending' && step.step !== 'identityFailed') {
    response.redirect(303, `${request.baseUrl}/`);
    return;
  }
  if (step.step === 'identityFailed' && step.failureCode === 'under_supported_age') {
    response.redirect(303, `${request.baseUrl}/`);
    return;
  }

  const returnUrl = plugin.host.routes.absoluteUrl(request, `${request.baseUrl}/identity/return`);
  const result = await plugin.identity.startVerification(context.practice.id, context.patient.id, returnUrl);
  if (result.ok) {
    response.redirect(303, result.url);
    return;
  }
  if (result.reason === 'inProgress') {
    // Another tab is starting the check; its page shows where things stand.
    response.redirect(303, `${request.baseUrl}/`);
    return;
  }

  const t = plugin.translator.forLocale(context.locale);
  const error =
    result.reason === 'dailyLimit'
      ? t('clinicalAccess.journey.errors.dailyLimit', { limit: MAX_VERIFICATIONS_PER_DAY, retryAt: formatDateTime(result.retryAt, context) })
      : t(`clinicalAccess.journey.errors.${result.reason}`);
  const statusByReason = { dailyLimit: 429, stripeUnavailable: 503, stripeNotConfigured: 409, notAllowed: 409 } as const;
  const status = statusByReason[result.reason];
  const template = step.step === 'identityFailed' ? 'patient/journey/identity-failed' : 'patient/journey/identity-pending';
  const titleKey = step.step === 'identityFailed' ? 'clinicalAccess.journey.identityFailed.title' : 'clinicalAccess.journey.identityPending.title';
  renderPage(plugin, request, response, template, titleKey, {
    status,
    error,
    started: step.step === 'identityPending' && step.request.currentVerificationId !== null,
    failureCode: step.step === 'identityFailed' ? explainedFailureCode(step.failureCode) : null,
    dailyLimit: MAX_VERIFICATIONS_PER_DAY,
    limitReached: result.reason === 'dailyLimit',
  });
}

/**
 * GET /identity/return: Stripe sends the patient back here. The state comes from Stripe's
 * API, never from the browser, and the webhook may already have applied it.
 */
export async function returnFromIdentityCheck(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = contextOf(plugin, request);
  const accessRequest = await plugin.access.find(context.practice.id, context.patient.id);
  const verification = accessRequest ? await plugin.identity.current(context.practice.id, accessRequest.id, accessRequest.currentVerificationId) : null;
  if (verification?.stripeSessionId && verification.outcome === 'pending') {
    try {
      await plugin.identity.synchronise(context.practice.id, verification.stripeSessionId);
    } catch (error) {
      // The status page shows the check as still in progress; the webhook will finish it.
      plugin.host.logger.warn({ err: error, practiceId: context.practice.id, verificationId: verification.id }, 'could not read the verification session on return');
    }
  }
  response.redirect(303, `${request.baseUrl}/`);
}

async function showAuthenticatorSetup(plugin: PluginContext, request: Request, response: Response, options: PageOptions = {}) {
  const context = contextOf(plugin, request);
  const enrolment = await plugin.mfa.beginEnrolment(context.practice.id, context.patient.id, {
    issuer: context.practice.name,
    label: context.patient.portalLogin,
  });
  renderPage(plugin, request, response, 'patient/journey/authenticator', 'clinicalAccess.journey.authenticator.title', {
    qrCodeDataUrl: enrolment.qrCodeDataUrl,
    secretForTyping: enrolment.secretForTyping,
    ...options,
  });
}

/**
 * Shows the set-up page again with an error, or sends the patient to the journey page when a
 * concurrent submission confirmed the factor after this one was rejected.
 */
async function showAuthenticatorSetupAgain(plugin: PluginContext, request: Request, response: Response, options: PageOptions): Promise<void> {
  try {
    await showAuthenticatorSetup(plugin, request, response, options);
  } catch (error) {
    if (error instanceof MfaStateError && error.code === 'alreadyEnrolled') {
      response.redirect(303, `${request.baseUrl}/`);
      return;
    }
    throw error;
  }
}

function codeError(plugin: PluginContext, context: RequestContext, error: string, retryAt?: Date | null, options: { setup?: boolean } = {}): string {
  const t = plugin.translator.forLocale(context.locale);
  // While setting up, the patient has no recovery codes yet, so the message must not mention them.
  if (options.setup && error === 'invalid') {
    return t('clinicalAccess.mfa.errors.setupInvalid');
  }
  if (error === 'lockedOut') {
    return retryAt ? t('clinicalAccess.mfa.errors.lockedOut', { retryAt: formatDateTime(retryAt, context) }) : t('clinicalAccess.mfa.errors.lockedOutUntilReset');
  }
  return t(`clinicalAccess.mfa.errors.${error}`);
}

/**
 * Turns a wrong code that started a lock into the lock's message, so the patient learns at
 * once that they must wait, instead of on their next try.
 */
async function withLockAfterFailure(
  plugin: PluginContext,
  context: RequestContext & { patient: { id: string } },
  failure: { error: string; retryAt?: Date },
): Promise<{ error: string; retryAt?: Date | null }> {
  if (failure.error !== 'invalid') {
    return failure;
  }
  const status = await plugin.mfa.status(context.practice.id, context.patient.id);
  if (status.hardLocked) {
    return { error: 'lockedOut', retryAt: null };
  }
  if (status.lockedUntil && status.lockedUntil > plugin.host.clock.now()) {
    return { error: 'lockedOut', retryAt: status.lockedUntil };
  }
  return failure;
}

/** POST /authenticator: confirms the authenticator with a code from it. */
export async function confirmAuthenticator(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = contextOf(plugin, request);
  const step = await stepFor(plugin, request);
  if (step.step !== 'authenticatorSetup') {
    response.redirect(303, `${request.baseUrl}/`);
    return;
  }
  const { error: formError, value } = codeFormSchema.validate(request.body ?? {});
  if (formError) {
    await showAuthenticatorSetupAgain(plugin, request, response, { status: 400, error: codeError(plugin, context, 'invalidForm'), errorField: 'code' });
    return;
  }

  const result = await plugin.mfa.confirmEnrolment(context.practice.id, context.patient.id, value.code);
  if (!result.ok) {
    if (result.error === 'alreadyConfirmed') {
      // Another submission of the form, from a double click or a second tab, confirmed the
      // factor. The journey page then shows the recovery codes.
      response.redirect(303, `${request.baseUrl}/`);
      return;
    }
    const failure = await withLockAfterFailure(plugin, context, result);
    const status = failure.error === 'lockedOut' ? 429 : 400;
    await showAuthenticatorSetupAgain(plugin, request, response, { status, error: codeError(plugin, context, failure.error, failure.retryAt, { setup: true }), errorField: 'code' });
    return;
  }

  // The code just proved the second factor, so this browser session gets clinical access
  // (it counts only once the request is approved) under a new session id.
  await plugin.host.sessions.regenerate(request);
  await plugin.clinicalSessions.start(context.practice.id, context.patient.id, plugin.host.sessions.sessionId(request));
  response.redirect(303, `${request.baseUrl}/recovery-codes`);
}

/** Renders the pending recovery codes; returns false when there are none to show. */
async function showRecoveryCodes(plugin: PluginContext, request: Request, response: Response): Promise<boolean> {
  const context = contextOf(plugin, request);
  const codes = await plugin.mfa.pendingRecoveryCodes(context.practice.id, context.patient.id);
  if (!codes) {
    return false;
  }
  renderPage(plugin, request, response, 'patient/journey/recovery-codes', 'clinicalAccess.journey.recoveryCodes.title', { codes });
  return true;
}

/** Checks that the patient may see pending recovery codes: while setting up, or with clinical access. */
async function mayHandleRecoveryCodes(plugin: PluginContext, request: Request): Promise<boolean> {
  const step = await stepFor(plugin, request);
  return step.step === 'recoveryCodes' || step.step === 'record';
}

/** GET /recovery-codes: the new codes, until the patient confirms they saved them. */
export async function recoveryCodesPage(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  if (!(await mayHandleRecoveryCodes(plugin, request)) || !(await showRecoveryCodes(plugin, request, response))) {
    response.redirect(303, `${request.baseUrl}/`);
  }
}

/** GET /recovery-codes/download: the pending codes as a text file. */
export async function downloadRecoveryCodes(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = contextOf(plugin, request);
  const codes = (await mayHandleRecoveryCodes(plugin, request)) ? await plugin.mfa.pendingRecoveryCodes(context.practice.id, context.patient.id) : null;
  if (!codes) {
    response.redirect(303, `${request.baseUrl}/`);
    return;
  }
  const t = plugin.translator.forLocale(context.locale);
  const text = [t('clinicalAccess.journey.recoveryCodes.fileHeading', { practice: context.practice.name }), '', ...codes, '', t('clinicalAccess.journey.recoveryCodes.fileFooter'), ''].join('\r\n');
  response.setHeader('Cache-Control', 'no-store');
  response.attachment('recovery-codes.txt');
  response.type('text/plain; charset=utf-8').send(text);
}

/** POST /recovery-codes/confirm: the patient saved the codes; only hashes remain from now on. */
export async function confirmRecoveryCodes(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = contextOf(plugin, request);
  if (emptyFormSchema.validate(request.body ?? {}).error) {
    await rejectForm(plugin, request, response);
    return;
  }
  if (!(await mayHandleRecoveryCodes(plugin, request))) {
    response.redirect(303, `${request.baseUrl}/`);
    return;
  }
  await plugin.mfa.confirmRecoveryCodesSaved(context.practice.id, context.patient.id);
  await completeEnrolment(plugin, context.practice.id, context.patient.id, context.locale);
  response.redirect(303, `${request.baseUrl}/`);
}

/** POST /recovery-codes/regenerate: replaces the set once the new one is saved; needs clinical access. */
export async function regenerateRecoveryCodes(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = contextOf(plugin, request);
  if (emptyFormSchema.validate(request.body ?? {}).error) {
    await rejectForm(plugin, request, response);
    return;
  }
  const step = await stepFor(plugin, request);
  if (step.step !== 'record') {
    response.redirect(303, `${request.baseUrl}/`);
    return;
  }
  await plugin.mfa.regenerateRecoveryCodes(context.practice.id, context.patient.id);
  response.redirect(303, `${request.baseUrl}/recovery-codes`);
}

/** POST /challenge: an authenticator or recovery code opens clinical access for this session. */
export async function answerChallenge(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = contextOf(plugin, request);
  const step = await stepFor(plugin, request);
  if (step.step !== 'challenge') {
    response.redirect(303, `${request.baseUrl}/`);
    return;
  }
  const { error: formError, value } = challengeFormSchema.validate(request.body ?? {});
  if (formError) {
    renderPage(plugin, request, response, 'patient/journey/challenge', 'clinicalAccess.journey.challenge.title', {
      status: 400,
      error: codeError(plugin, context, 'invalidForm'),
      errorField: 'code',
    });
    return;
  }
  const next: string | null = value.next ?? null;

  const result = await plugin.mfa.verifyChallenge(context.practice.id, context.patient.id, value.code);
  if (!result.ok) {
    const failure = await withLockAfterFailure(plugin, context, result);
    const errorKey = failure.error === 'invalid' && result.method === 'recoveryCode' ? 'invalidRecoveryCode' : failure.error;
    renderPage(plugin, request, response, 'patient/journey/challenge', 'clinicalAccess.journey.challenge.title', {
      status: failure.error === 'lockedOut' ? 429 : 400,
      error: codeError(plugin, context, errorKey, failure.retryAt),
      errorField: 'code',
      next,
    });
    return;
  }

  // A new session id once the second factor succeeds, so an id fixed before sign-in is useless.
  await plugin.host.sessions.regenerate(request);
  await plugin.clinicalSessions.start(context.practice.id, context.patient.id, plugin.host.sessions.sessionId(request));
  if (result.method === 'recoveryCode') {
    await plugin.notifier.recoveryCodeUsed(step.request, context.locale, result.remainingRecoveryCodes);
  }
  // After a recovery code the overview comes first, because it shows how many codes are left.
  if (result.method === 'recoveryCode') {
    response.redirect(303, `${request.baseUrl}/?notice=recoveryCodeUsed`);
    return;
  }
  response.redirect(303, next === null ? `${request.baseUrl}/` : `${request.baseUrl}/section/${next}`);
}

/** POST /request-again: after a denial or revocation, requests that staff look again. */
export async function requestAgain(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = contextOf(plugin, request);
  if (emptyFormSchema.validate(request.body ?? {}).error) {
    await rejectForm(plugin, request, response);
    return;
  }
  const step = await stepFor(plugin, request);
  if (step.step !== 'denied' && step.step !== 'revoked') {
    response.redirect(303, `${request.baseUrl}/`);
    return;
  }
  const result = await plugin.access.transition(step.request, {
    from: ['denied', 'revoked'],
    to: 'pending',
    expectedVersion: step.request.version,
    actor: { type: 'patient', id: context.patient.id },
    action: 'access.requestedAgain',
  });
  if (result.applied) {
    await plugin.notifier.pendingApproval(result.request, context.locale);
  }
  response.redirect(303, `${request.baseUrl}/`);
}

/** GET /section/:slug: one section of the record, behind the same checks as every clinical page. */
export async function showSection(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = contextOf(plugin, request);
  const section = sectionForSlug(String(request.params.slug));
  if (!section) {
    renderPage(plugin, request, response, 'patient/journey/not-found', 'clinicalAccess.journey.notFound.title', { status: 404 });
    return;
  }
  const step = await stepFor(plugin, request);
  if (step.step === 'challenge') {
    // The challenge page sends the patient on to this section once the code is accepted.
    response.redirect(303, `${request.baseUrl}/?next=${SECTION_SLUGS[section]}`);
    return;
  }
  if (step.step !== 'record') {
    response.redirect(303, `${request.baseUrl}/`);
    return;
  }

  const view = await plugin.records.loadSection(context.practice.id, context.patient.id, section, { locale: context.locale });
  const t = plugin.translator.forLocale(context.locale);
  const bodyHtml = renderSectionHtml(plugin, {
    section,
    view,
    locale: context.locale,
    csrfToken: plugin.host.sessions.csrfToken(request),
    basePath: request.baseUrl,
  });
  await audit(plugin, context, 'record.viewed', { section });
  plugin.host.views.render(request, response, { surface: 'portal', title: t(`clinicalAccess.records.sections.${section}.title`), bodyHtml });
}

async function rejectForm(plugin: PluginContext, request: Request, response: Response) {
  renderPage(plugin, request, response, 'patient/journey/form-rejected', 'clinicalAccess.journey.formRejected.title', { status: 400 });
}
