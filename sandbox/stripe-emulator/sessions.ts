/**
 * In-memory store of verification sessions and reports, and the status changes that the API,
 * the hosted page and the test controls make. Every change returns the events it causes,
 * each with the session rendered as it was at that moment.
 */
import type { CreateSessionInput, DocumentType, ExpandableSessionField } from './create-params.js';
import { invalidState } from './errors.js';
import { createClientSecret, createObjectId } from './ids.js';
import {
  type ApiObject,
  type DocumentReport,
  type SessionRecord,
  type VerificationReport,
  renderSession,
  toStripeDate,
} from './objects.js';
import {
  ERROR_REASONS,
  type SessionErrorCode,
  type VerificationOutcome,
  checkVerifiedDetails,
  isDocumentErrorCode,
  isSelfieErrorCode,
  isUserSessionErrorCode,
} from './outcomes.js';

export const SESSION_EVENT_TYPES = [
  'identity.verification_session.canceled',
  'identity.verification_session.created',
  'identity.verification_session.processing',
  'identity.verification_session.redacted',
  'identity.verification_session.requires_input',
  'identity.verification_session.verified',
] as const;

export type SessionEventType = (typeof SESSION_EVENT_TYPES)[number];

/** A change that emits an event: its type and the unexpanded session right after the change. */
export interface SessionChange {
  type: SessionEventType;
  accountId: string;
  sessionId: string;
  session: ApiObject;
}

/** Raised when an outcome does not fit the session: wrong status, or invalid details. */
export class OutcomeRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutcomeRejectedError';
  }
}

/** Placeholder that Stripe writes over personal data when a session is redacted. */
const REDACTED = '[redacted]';

export class SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly reports = new Map<string, VerificationReport>();

  /** Creates a session in requires_input whose hosted page lives under `hostedPageBaseUrl`. */
  create(
    accountId: string,
    input: CreateSessionInput,
    now: Date,
    hostedPageBaseUrl: string,
  ): { record: SessionRecord; changes: SessionChange[] } {
    const id = createObjectId('vs');
    const record: SessionRecord = {
      id,
      accountId,
      created: unixSeconds(now),
      status: 'requires_input',
      clientReferenceId: input.clientReferenceId,
      clientSecret: createClientSecret(id),
      hostedPageUrl: `${hostedPageBaseUrl}/verify/${id}`,
      lastError: null,
      lastVerificationReportId: null,
      metadata: input.metadata,
      options: input.options,
      providedDetails: input.providedDetails,
      redaction: null,
      relatedCustomer: input.relatedCustomer,
      relatedCustomerAccount: input.relatedCustomerAccount,
      relatedPerson: input.relatedPerson,
      returnUrl: input.returnUrl,
      verifiedOutputs: null,
    };

    this.sessions.set(id, record);
    return { record, changes: [this.change(record, 'identity.verification_session.created')] };
  }

  get(sessionId: string): SessionRecord | undefined {
    return this.sessions.get(sessionId);
  }

  /** Returns the session only when it belongs to the account, so other accounts' ids stay hidden. */
  getForAccount(sessionId: string, accountId: string): SessionRecord | undefined {
    const record = this.sessions.get(sessionId);
    return record?.accountId === accountId ? record : undefined;
  }

  /** Returns a copy of the report only when its session belongs to the account. */
  getReportForAccount(reportId: string, accountId: string): VerificationReport | undefined {
    const report = this.reports.get(reportId);
    if (report === undefined || this.sessions.get(report.verification_session)?.accountId !== accountId) {
      return undefined;
    }
    return structuredClone(report);
  }

  render(record: SessionRecord, expand: readonly ExpandableSessionField[]): ApiObject {
    return renderSession(record, new Set(expand), this.reports);
  }

  /**
   * Applies the result of a verification attempt.
   *
   * From requires_input: a submission moves the session to processing and then to verified or,
   * when a check fails, back to requires_input with `last_error`. `consent_declined` and
   * `device_not_supported` happen before anything is submitted, so the session stays in
   * requires_input and only a requires_input event is emitted.
   * From processing (after a `processing` outcome): a verified result or a check failure
   * finishes the session without a second processing event.
   * Throws OutcomeRejectedError for any other combination.
   *
   * A user who leaves the flow does not cancel the session, because only the integration's
   * cancel call cancels. Stripe's API reference describes `last_error.code` `abandoned` as
   * "the user began the verification but didn't submit it", so `abandoned` keeps
   * requires_input, sets `last_error` and emits no event (Stripe creates session events on
   * status changes).
   * NOTE: Stripe documents neither when it sets `abandoned` nor whether the two user-session
   * failures above send requires_input. The emulator applies both at once, so the plugin
   * must also read the session when the browser comes back to return_url.
   */
  applyOutcome(record: SessionRecord, outcome: VerificationOutcome, now: Date): SessionChange[] {
    this.checkOutcomeAllowed(record, outcome, now);

    const changes: SessionChange[] = [];
    if (outcome.kind === 'abandoned') {
      record.lastError = { code: 'abandoned', reason: ERROR_REASONS.abandoned };
      return changes;
    }
    if (outcome.kind === 'error' && isUserSessionErrorCode(outcome.code)) {
      this.returnToRequiresInput(record, outcome.code);
      changes.push(this.change(record, 'identity.verification_session.requires_input'));
      return changes;
    }

    if (record.status === 'requires_input') {
      record.status = 'processing';
      record.clientSecret = null;
      changes.push(this.change(record, 'identity.verification_session.processing'));
    }
    if (outcome.kind === 'processing') {
      return changes;
    }

    const report = this.createReport(record, outcome, now);
    record.lastVerificationReportId = report.id;

    if (outcome.kind === 'verified') {
      record.status = 'verified';
      record.lastError = null;
      record.verifiedOutputs = {
        address: null,
        dob: toStripeDate(outcome.dob),
        email: null,
        first_name: outcome.firstName.trim(),
        id_number: null,
        id_number_type: null,
        last_name: outcome.lastName.trim(),
        phone: null,
        sex: null,
        unparsed_place_of_birth: null,
        unparsed_sex: null,
      };
      changes.push(this.change(record, 'identity.verification_session.verified'));
    } else {
      this.returnToRequiresInput(record, outcome.code);
      changes.push(this.change(record, 'identity.verification_session.requires_input'));
    }
    return changes;
  }

  /** Cancels a session in requires_input. Throws StripeApiError for any other status. */
  cancel(record: SessionRecord): SessionChange[] {
    if (record.status !== 'requires_input') {
      throw invalidState(
        `This VerificationSession cannot be canceled because its status is ${record.status}. ` +
          'Only a VerificationSession in requires_input status can be canceled.',
      );
    }

    record.status = 'canceled';
    record.clientSecret = null;
    return [this.change(record, 'identity.verification_session.canceled')];
  }

  /**
   * Starts redaction: personal data becomes `[redacted]` (or null for dates), metadata is
   * erased, and `redaction.status` is processing until `finishRedaction`. A session in
   * requires_input is canceled first. Stripe's API reference allows redaction only in
   * requires_input and verified status, so every other status, and a second redaction,
   * raise StripeApiError.
   */
  redact(record: SessionRecord): SessionChange[] {
    if (record.redaction !== null) {
      throw invalidState('This VerificationSession has already been redacted.');
    }
    if (record.status !== 'requires_input' && record.status !== 'verified') {
      throw invalidState(
        `This VerificationSession cannot be redacted because its status is ${record.status}. ` +
          'Only a VerificationSession in requires_input or verified status can be redacted.',
      );
    }

    const wasRequiringInput = record.status === 'requires_input';
    if (wasRequiringInput) {
      record.status = 'canceled';
      record.clientSecret = null;
    }
    this.erasePersonalData(record);
    record.redaction = { status: 'processing' };

    return wasRequiringInput ? [this.change(record, 'identity.verification_session.canceled')] : [];
  }

  /** Completes a redaction that `redact` started, and emits the redacted event. */
  finishRedaction(record: SessionRecord): SessionChange[] {
    if (record.redaction?.status !== 'processing') {
      return [];
    }
    record.redaction = { status: 'redacted' };
    return [this.change(record, 'identity.verification_session.redacted')];
  }

  private checkOutcomeAllowed(record: SessionRecord, outcome: VerificationOutcome, now: Date): void {
    const finishesProcessing =
      outcome.kind === 'verified' || (outcome.kind === 'error' && !isUserSessionErrorCode(outcome.code));

    if (record.status === 'processing' && !finishesProcessing) {
      throw new OutcomeRejectedError(
        `Session ${record.id} is processing; only a verified result or a failed check can finish it.`,
      );
    }
    if (record.status !== 'requires_input' && record.status !== 'processing') {
      throw new OutcomeRejectedError(
        `Session ${record.id} is ${record.status}; only a session in requires_input accepts a submission.`,
      );
    }

    if (outcome.kind === 'error' && isSelfieErrorCode(outcome.code) && !requiresSelfie(record)) {
      throw new OutcomeRejectedError(
        `Session ${record.id} does not require a matching selfie, so ${outcome.code} cannot occur.`,
      );
    }

    if (outcome.kind === 'verified') {
      const problems = Object.values(checkVerifiedDetails(outcome, now));
      if (problems.length > 0) {
        throw new OutcomeRejectedError(`Invalid verified details: ${problems.join(' ')}`);
      }
    }
  }

  private returnToRequiresInput(record: SessionRecord, code: SessionErrorCode): void {
    record.status = 'requires_input';
    record.lastError = { code, reason: ERROR_REASONS[code] };
    record.clientSecret = createClientSecret(record.id);
  }

  private createReport(
    record: SessionRecord,
    outcome: Exclude<VerificationOutcome, { kind: 'abandoned' | 'processing' }>,
    now: Date,
  ): VerificationReport {
    const documentOptions = record.options.document ?? {};
    const report: VerificationReport = {
      id: createObjectId('vr'),
      object: 'identity.verification_report',
      client_reference_id: record.clientReferenceId,
      created: unixSeconds(now),
      document: buildDocumentReport(outcome, documentOptions.allowed_types, now),
      livemode: false,
      options: { document: structuredClone(documentOptions) },
      type: 'document',
      verification_session: record.id,
    };

    if (requiresSelfie(record)) {
      const selfieFailed = outcome.kind === 'error' && isSelfieErrorCode(outcome.code);
      const selfieChecked = outcome.kind === 'verified' || selfieFailed;
      report.selfie = {
        document: selfieChecked ? createObjectId('file') : null,
        error: selfieFailed ? { code: outcome.code, reason: ERROR_REASONS[outcome.code] } : null,
        selfie: selfieChecked ? createObjectId('file') : null,
        status: outcome.kind === 'verified' ? 'verified' : 'unverified',
      };
    }

    this.reports.set(report.id, report);
    return report;
  }

  private erasePersonalData(record: SessionRecord): void {
    record.metadata = {};
    if (record.clientReferenceId !== null) {
      record.clientReferenceId = REDACTED;
    }
    if (record.providedDetails !== null) {
      record.providedDetails = {
        ...(record.providedDetails.email !== undefined ? { email: REDACTED } : {}),
        ...(record.providedDetails.phone !== undefined ? { phone: REDACTED } : {}),
      };
    }
    if (record.verifiedOutputs !== null) {
      record.verifiedOutputs = { ...record.verifiedOutputs, dob: null, first_name: REDACTED, last_name: REDACTED };
    }

    for (const report of this.reports.values()) {
      if (report.verification_session !== record.id) {
        continue;
      }
      if (report.client_reference_id !== null) {
        report.client_reference_id = REDACTED;
      }
      report.document = {
        ...report.document,
        dob: null,
        expiration_date: null,
        files: [],
        first_name: report.document.first_name === null ? null : REDACTED,
        issued_date: null,
        last_name: report.document.last_name === null ? null : REDACTED,
        number: null,
      };
      if (report.selfie !== undefined) {
        report.selfie = { ...report.selfie, document: null, selfie: null };
      }
    }
  }

  private change(record: SessionRecord, type: SessionEventType): SessionChange {
    return { type, accountId: record.accountId, sessionId: record.id, session: this.render(record, []) };
  }
}

function requiresSelfie(record: SessionRecord): boolean {
  return record.options.document?.require_matching_selfie === true;
}

/**
 * Builds the document part of a report. A verified document carries the details that the
 * tester entered, and a document failure carries its error. Selfie and age failures leave
 * the document without details, because the tester entered none for them.
 */
function buildDocumentReport(
  outcome: Exclude<VerificationOutcome, { kind: 'abandoned' | 'processing' }>,
  allowedTypes: DocumentType[] | undefined,
  now: Date,
): DocumentReport {
  const documentType = allowedTypes?.[0] ?? 'driving_license';
  const empty: DocumentReport = {
    address: null,
    dob: null,
    error: null,
    expiration_date: null,
    files: [],
    first_name: null,
    issued_date: null,
    issuing_country: null,
    last_name: null,
    number: null,
    sex: null,
    status: 'unverified',
    type: null,
    unparsed_place_of_birth: null,
    unparsed_sex: null,
  };

  if (outcome.kind === 'verified') {
    const year = now.getUTCFullYear();
    return {
      ...empty,
      dob: toStripeDate(outcome.dob),
      expiration_date: { day: 1, month: 12, year: year + 5 },
      files: [createObjectId('file'), createObjectId('file')],
      first_name: outcome.firstName.trim(),
      issued_date: { day: 1, month: 12, year: year - 5 },
      last_name: outcome.lastName.trim(),
      status: 'verified',
      type: documentType,
    };
  }
  if (isDocumentErrorCode(outcome.code)) {
    return { ...empty, error: { code: outcome.code, reason: ERROR_REASONS[outcome.code] }, files: [createObjectId('file')] };
  }
  if (isSelfieErrorCode(outcome.code)) {
    return { ...empty, files: [createObjectId('file')], status: 'verified', type: documentType };
  }
  return { ...empty, files: [createObjectId('file')], type: documentType };
}

function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
