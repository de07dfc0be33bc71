/**
 * The hosted verification page at `/verify/:sessionId`, the emulator's stand-in for the page
 * that a session's `url` opens on Stripe. The tester picks the result of the document check;
 * the page applies it and redirects the browser to the session's `return_url`.
 */
import express, { type Request, type Response, type Router } from 'express';

import {
  HOSTED_PAGE_CSS,
  type VerificationPageView,
  offeredOutcomes,
  renderMessagePage,
  renderVerificationPage,
} from './hosted-page-html.js';
import type { SessionRecord } from './objects.js';
import { type VerificationOutcome, checkVerifiedDetails, isSessionErrorCode } from './outcomes.js';
import { OutcomeRejectedError, type SessionStore } from './sessions.js';

/** Details of the document holder that prefill the page, as the sandbox's patient records hold them. */
export interface DocumentHolder {
  givenNames: string[];
  familyName: string;
  /** YYYY-MM-DD */
  birthDate: string;
}

export interface HostedPageLogger {
  warn(object: object, message?: string): void;
}

export interface HostedPageDependencies {
  clock: { now(): Date };
  logger: HostedPageLogger;
  sessions: SessionStore;
  lookupDocumentHolder?: (metadata: Record<string, string>) => Promise<DocumentHolder | null>;
  /** Applies an outcome and emits its events; throws OutcomeRejectedError when it does not fit. */
  applyOutcome(sessionId: string, outcome: VerificationOutcome): void;
}

interface SubmittedForm {
  outcome: string;
  givenNames: string;
  familyName: string;
  dob: string;
}

export function createHostedPageRouter(deps: HostedPageDependencies): Router {
  const router = express.Router();

  router.get('/assets/hosted-page.css', (_request: Request, response: Response) => {
    response.set('Cache-Control', 'no-cache');
    response.type('text/css').send(HOSTED_PAGE_CSS);
  });

  router.get('/:sessionId', async (request: Request, response: Response) => {
    const record = deps.sessions.get(String(request.params.sessionId));
    if (record === undefined || record.status !== 'requires_input') {
      sendUnavailable(response, record);
      return;
    }

    const values = await prefillValues(deps, record);
    sendPage(response, 200, record, renderFormPage(record, values, {}));
  });

  router.post(
    '/:sessionId',
    express.urlencoded({ extended: false, limit: '20kb' }),
    (request: Request, response: Response) => {
      const record = deps.sessions.get(String(request.params.sessionId));
      if (record === undefined || record.status !== 'requires_input') {
        sendUnavailable(response, record);
        return;
      }

      const form = readForm(request.body);
      if (readField(request.body, 'client_secret') !== record.clientSecret) {
        sendPage(
          response,
          403,
          record,
          renderMessagePage(
            'Out-of-date form',
            'This form does not belong to the current attempt of the session. Open the verification link again and submit from the new page.',
          ),
        );
        return;
      }

      const checked = checkForm(form, record, deps.clock.now());
      if ('errors' in checked) {
        sendPage(response, 400, record, renderFormPage(record, form, checked.errors));
        return;
      }

      try {
        deps.applyOutcome(record.id, checked.outcome);
      } catch (error) {
        if (error instanceof OutcomeRejectedError) {
          sendPage(response, 409, record, renderMessagePage('Submission not accepted', error.message));
          return;
        }
        throw error;
      }

      if (record.returnUrl === null) {
        sendPage(
          response,
          200,
          record,
          renderMessagePage('Result submitted', 'The session has no return_url, so you can close this page.'),
        );
        return;
      }
      response.redirect(303, record.returnUrl);
    },
  );

  return router;
}

/**
 * Reads the prefill from `lookupDocumentHolder`. A failed lookup is logged with the session id
 * only, and the fields stay empty for the tester to fill in.
 */
async function prefillValues(deps: HostedPageDependencies, record: SessionRecord): Promise<SubmittedForm> {
  const values: SubmittedForm = { outcome: 'verified', givenNames: '', familyName: '', dob: '' };
  if (deps.lookupDocumentHolder === undefined) {
    return values;
  }

  try {
    const holder = await deps.lookupDocumentHolder({ ...record.metadata });
    if (holder !== null) {
      values.givenNames = holder.givenNames.join(' ');
      values.familyName = holder.familyName;
      values.dob = holder.birthDate;
    }
  } catch (error) {
    deps.logger.warn(
      { sessionId: record.id, errorName: error instanceof Error ? error.name : typeof error },
      'Looking up the document holder for the hosted page failed; the fields stay empty',
    );
  }
  return values;
}

function readForm(body: unknown): SubmittedForm {
  return {
    outcome: readField(body, 'outcome'),
    givenNames: readField(body, 'given_names'),
    familyName: readField(body, 'family_name'),
    dob: readField(body, 'dob'),
  };
}

function readField(body: unknown, name: string): string {
  if (typeof body !== 'object' || body === null) {
    return '';
  }
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

/** Turns the form into an outcome, or into field errors to show on the page again. */
function checkForm(
  form: SubmittedForm,
  record: SessionRecord,
  now: Date,
): { outcome: VerificationOutcome } | { errors: VerificationPageView['errors'] } {
  const requiresSelfie = record.options.document?.require_matching_selfie === true;
  if (!offeredOutcomes(requiresSelfie).includes(form.outcome)) {
    return { errors: { outcome: 'Choose one of the listed results.' } };
  }

  if (form.outcome === 'verified') {
    const details = { firstName: form.givenNames, lastName: form.familyName, dob: form.dob };
    const detailErrors = checkVerifiedDetails(details, now);
    if (Object.keys(detailErrors).length > 0) {
      return { errors: { givenNames: detailErrors.firstName, familyName: detailErrors.lastName, dob: detailErrors.dob } };
    }
    return { outcome: { kind: 'verified', ...details } };
  }
  if (form.outcome === 'abandoned') {
    return { outcome: { kind: 'abandoned' } };
  }
  if (form.outcome === 'processing') {
    return { outcome: { kind: 'processing' } };
  }
  if (isSessionErrorCode(form.outcome)) {
    return { outcome: { kind: 'error', code: form.outcome } };
  }
  return { errors: { outcome: 'Choose one of the listed results.' } };
}

function renderFormPage(record: SessionRecord, values: SubmittedForm, errors: VerificationPageView['errors']): string {
  const definedErrors = Object.fromEntries(Object.entries(errors).filter(([, message]) => message !== undefined));
  return renderVerificationPage({
    sessionId: record.id,
    clientSecret: record.clientSecret ?? '',
    requiresSelfie: record.options.document?.require_matching_selfie === true,
    lastError: record.lastError,
    values,
    errors: definedErrors,
  });
}

/** Sends the page for a session that does not exist (404) or accepts no submission now (409). */
function sendUnavailable(response: Response, record: SessionRecord | undefined): void {
  if (record === undefined) {
    sendPage(
      response,
      404,
      undefined,
      renderMessagePage('Verification session not found', 'No verification session has this id. Check the link.'),
    );
    return;
  }

  const message =
    record.status === 'processing'
      ? 'This verification session is processing a submission, so it accepts no other submission now.'
      : `This verification session is ${record.status}, so it accepts no more submissions.`;
  sendPage(response, 409, record, renderMessagePage('Verification session not available', message));
}

/**
 * Sends a page with headers that keep it private and script-free. `form-action` includes the
 * origin of the session's return_url, because browsers apply it to the redirect after the form.
 */
function sendPage(response: Response, statusCode: number, record: SessionRecord | undefined, html: string): void {
  const formTargets = ["'self'"];
  if (record?.returnUrl !== null && record?.returnUrl !== undefined) {
    formTargets.push(new URL(record.returnUrl).origin);
  }

  response.set({
    'Content-Security-Policy': `default-src 'none'; style-src 'self'; form-action ${formTargets.join(
      ' ',
    )}; frame-ancestors 'none'; base-uri 'none'`,
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
  });
  response.status(statusCode).type('text/html').send(html);
}
