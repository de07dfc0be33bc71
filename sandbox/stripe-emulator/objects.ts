/**
 * The emulator's stored sessions and reports, and their rendering in the shape of the
 * `identity.verification_session` and `identity.verification_report` schemas.
 */
import type { DocumentOptions, ExpandableSessionField, SessionOptions } from './create-params.js';

export type SessionStatus = 'canceled' | 'processing' | 'requires_input' | 'verified';

/** A calendar date as Stripe sends it in identity objects. */
export interface StripeDate {
  day: number | null;
  month: number | null;
  year: number | null;
}

/** `verified_outputs` of a session. */
export interface VerifiedOutputs {
  address: null;
  dob: StripeDate | null;
  email: string | null;
  first_name: string | null;
  id_number: string | null;
  id_number_type: null;
  last_name: string | null;
  phone: string | null;
  sex: null;
  unparsed_place_of_birth: string | null;
  unparsed_sex: string | null;
}

export interface DocumentReport {
  address: null;
  dob: StripeDate | null;
  error: { code: string | null; reason: string | null } | null;
  expiration_date: StripeDate | null;
  files: string[];
  first_name: string | null;
  issued_date: StripeDate | null;
  issuing_country: string | null;
  last_name: string | null;
  number: string | null;
  sex: null;
  status: 'unverified' | 'verified';
  type: string | null;
  unparsed_place_of_birth: string | null;
  unparsed_sex: string | null;
}

export interface SelfieReport {
  document: string | null;
  error: { code: string | null; reason: string | null } | null;
  selfie: string | null;
  status: 'unverified' | 'verified';
}

/** A verification report in the shape of the API object, stored as Stripe returns it. */
export interface VerificationReport {
  id: string;
  object: 'identity.verification_report';
  client_reference_id: string | null;
  created: number;
  document: DocumentReport;
  livemode: false;
  options: { document: DocumentOptions };
  selfie?: SelfieReport;
  type: 'document';
  verification_session: string;
}

/** A verification session as the emulator stores it. */
export interface SessionRecord {
  id: string;
  accountId: string;
  created: number;
  status: SessionStatus;
  clientReferenceId: string | null;
  /** Present only while the status is requires_input. */
  clientSecret: string | null;
  /** Hosted page address, returned as `url` while the status is requires_input. */
  hostedPageUrl: string;
  lastError: { code: string; reason: string } | null;
  lastVerificationReportId: string | null;
  metadata: Record<string, string>;
  options: SessionOptions;
  providedDetails: { email?: string; phone?: string } | null;
  redaction: { status: 'processing' | 'redacted' } | null;
  relatedCustomer: string | null;
  relatedCustomerAccount: string | null;
  relatedPerson: { account: string; person: string } | null;
  returnUrl: string | null;
  verifiedOutputs: VerifiedOutputs | null;
}

/** A JSON object as the API returns it. */
export type ApiObject = Record<string, unknown>;

/**
 * Renders a session as the API returns it. Fields that Stripe leaves out unless expanded
 * (`verified_outputs`, `provided_details`) are absent without `expand`, and
 * `last_verification_report` is the report id (or null) unless expanded to the report.
 * The result is a deep copy, so later changes to the session do not alter it.
 */
export function renderSession(
  record: SessionRecord,
  expand: ReadonlySet<ExpandableSessionField>,
  reports: ReadonlyMap<string, VerificationReport>,
): ApiObject {
  const session: ApiObject = {
    id: record.id,
    object: 'identity.verification_session',
    client_reference_id: record.clientReferenceId,
    client_secret: record.status === 'requires_input' ? record.clientSecret : null,
    created: record.created,
    last_error: record.lastError,
    last_verification_report: renderReportReference(record.lastVerificationReportId, expand, reports),
    livemode: false,
    metadata: record.metadata,
    options: record.options,
  };

  if (expand.has('provided_details')) {
    session.provided_details = record.providedDetails;
  }
  session.redaction = record.redaction;
  session.related_customer = record.relatedCustomer;
  session.related_customer_account = record.relatedCustomerAccount;
  if (record.relatedPerson !== null) {
    session.related_person = record.relatedPerson;
  }
  session.status = record.status;
  session.type = 'document';
  session.url = record.status === 'requires_input' ? record.hostedPageUrl : null;
  if (expand.has('verified_outputs')) {
    session.verified_outputs = record.verifiedOutputs;
  }

  return structuredClone(session);
}

function renderReportReference(
  reportId: string | null,
  expand: ReadonlySet<ExpandableSessionField>,
  reports: ReadonlyMap<string, VerificationReport>,
): string | VerificationReport | null {
  if (reportId === null || !expand.has('last_verification_report')) {
    return reportId;
  }
  return reports.get(reportId) ?? null;
}

/** Converts a checked YYYY-MM-DD string to Stripe's date object. */
export function toStripeDate(isoDate: string): StripeDate {
  const [year, month, day] = isoDate.split('-').map(Number);
  return { day, month, year };
}
