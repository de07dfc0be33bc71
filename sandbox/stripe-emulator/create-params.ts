/**
 * Validation of request parameters for the verification session endpoints, following the
 * request schemas of the Stripe OpenAPI description (`/v1/identity/verification_sessions`).
 */
import {
  notEmulated,
  parameterInvalid,
  parameterInvalidEmpty,
  parameterMissing,
  parameterUnknown,
} from './errors.js';
import { type FormMap, type FormValue, listItems, paramPath } from './form-params.js';

/** Fields of a session that are left out of responses unless the request expands them. */
export const EXPANDABLE_SESSION_FIELDS = ['last_verification_report', 'provided_details', 'verified_outputs'] as const;
export type ExpandableSessionField = (typeof EXPANDABLE_SESSION_FIELDS)[number];

export const DOCUMENT_TYPES = ['driving_license', 'id_card', 'passport'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

/** `options.document` of a session, as Stripe returns it. */
export interface DocumentOptions {
  allowed_types?: DocumentType[];
  require_id_number?: boolean;
  require_live_capture?: boolean;
  require_matching_selfie?: boolean;
}

export interface SessionOptions {
  document?: DocumentOptions;
}

/** Validated parameters of a create request. */
export interface CreateSessionInput {
  clientReferenceId: string | null;
  metadata: Record<string, string>;
  options: SessionOptions;
  providedDetails: { email?: string; phone?: string } | null;
  relatedCustomer: string | null;
  relatedCustomerAccount: string | null;
  relatedPerson: { account: string; person: string } | null;
  returnUrl: string | null;
  expand: ExpandableSessionField[];
}

const CREATE_PARAMETERS = [
  'client_reference_id',
  'expand',
  'metadata',
  'options',
  'provided_details',
  'related_customer',
  'related_customer_account',
  'related_person',
  'return_url',
  'type',
  'verification_flow',
];

const MAX_STRING_LENGTH = 5000;
const MAX_METADATA_KEYS = 50;
const MAX_METADATA_KEY_LENGTH = 40;
const MAX_METADATA_VALUE_LENGTH = 500;

/** Validates the parameters of `POST /v1/identity/verification_sessions`. Throws StripeApiError. */
export function parseCreateParams(params: FormMap): CreateSessionInput {
  rejectUnknownParams(params, CREATE_PARAMETERS, '');
  checkSessionType(params);

  return {
    clientReferenceId: optionalString(params, 'client_reference_id', ''),
    metadata: parseMetadata(params.metadata),
    options: parseOptions(params.options),
    providedDetails: parseProvidedDetails(params.provided_details),
    relatedCustomer: optionalString(params, 'related_customer', ''),
    relatedCustomerAccount: optionalString(params, 'related_customer_account', ''),
    relatedPerson: parseRelatedPerson(params.related_person),
    returnUrl: parseReturnUrl(params),
    expand: parseExpand(params.expand),
  };
}

/** Validates a request whose only parameter is `expand` (retrieve, cancel, redact). Throws StripeApiError. */
export function parseExpandOnlyParams(params: FormMap): ExpandableSessionField[] {
  rejectUnknownParams(params, ['expand'], '');
  return parseExpand(params.expand);
}

/**
 * Validates `expand`. Stripe accepts `expand[]=x` and the SDK's `expand[0]=x`, and every
 * item must name an expandable field of a verification session.
 */
export function parseExpand(value: FormValue | undefined): ExpandableSessionField[] {
  if (value === undefined || value === '') {
    return [];
  }

  const items = listItems(value);
  if (items === null) {
    throw parameterInvalid('expand', 'Invalid array: expand must be a list, sent as expand[]=field.');
  }

  return items.map((item) => {
    if (typeof item !== 'string') {
      throw parameterInvalid('expand', 'Invalid expand: each item must be a field name.');
    }
    if (!(EXPANDABLE_SESSION_FIELDS as readonly string[]).includes(item)) {
      throw parameterInvalid('expand', `This property cannot be expanded (${item}).`);
    }
    return item as ExpandableSessionField;
  });
}

function rejectUnknownParams(params: FormMap, allowed: readonly string[], parent: string): void {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key)) {
      throw parameterUnknown(paramPath(parent, key));
    }
  }
}

/**
 * Requires `type=document`, the only check the emulator runs. Stripe also accepts
 * `id_number` and a `verification_flow` instead of a type; both are rejected with a message
 * that names the emulator.
 */
function checkSessionType(params: FormMap): void {
  if (params.verification_flow !== undefined) {
    throw notEmulated(
      'verification_flow',
      'The Stripe Identity emulator does not emulate verification flows. Send type=document instead of verification_flow.',
    );
  }

  const type = params.type;
  if (type === undefined) {
    throw parameterMissing('type');
  }
  if (type === '') {
    throw parameterInvalidEmpty('type');
  }
  if (type === 'id_number') {
    throw notEmulated('type', 'The Stripe Identity emulator emulates only type=document sessions, not id_number.');
  }
  if (type !== 'document') {
    throw parameterInvalid('type', 'Invalid type: must be one of document or id_number.');
  }
}

/** Reads an optional string parameter of at most 5000 characters; an empty string is rejected. */
function optionalString(container: FormMap, key: string, parent: string): string | null {
  const value = container[key];
  const param = paramPath(parent, key);

  if (value === undefined) {
    return null;
  }
  if (typeof value !== 'string') {
    throw parameterInvalid(param, `Invalid string: ${param} must be a string, not an object.`);
  }
  if (value === '') {
    throw parameterInvalidEmpty(param);
  }
  if (value.length > MAX_STRING_LENGTH) {
    throw parameterInvalid(param, `Invalid string: ${param} can have at most ${MAX_STRING_LENGTH} characters.`);
  }
  return value;
}

/**
 * Validates metadata: at most 50 keys of at most 40 characters, values of at most 500.
 * `metadata=` (empty) sets no metadata, and a key with an empty value is left out, as on Stripe.
 */
function parseMetadata(value: FormValue | undefined): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (value === undefined || value === '') {
    return metadata;
  }
  if (typeof value === 'string') {
    throw parameterInvalid('metadata', 'Invalid metadata: send it as key-value pairs, metadata[key]=value.');
  }

  for (const [key, item] of Object.entries(value)) {
    const param = paramPath('metadata', key);
    if (typeof item !== 'string') {
      throw parameterInvalid(param, `Invalid metadata: the value of ${param} must be a string.`);
    }
    if (key.length > MAX_METADATA_KEY_LENGTH) {
      throw parameterInvalid(param, `Metadata keys can have at most ${MAX_METADATA_KEY_LENGTH} characters.`);
    }
    if (item.length > MAX_METADATA_VALUE_LENGTH) {
      throw parameterInvalid(param, `Metadata values can have at most ${MAX_METADATA_VALUE_LENGTH} characters.`);
    }
    if (item !== '') {
      Object.defineProperty(metadata, key, { value: item, enumerable: true, writable: true, configurable: true });
    }
  }

  if (Object.keys(metadata).length > MAX_METADATA_KEYS) {
    throw parameterInvalid('metadata', `Metadata can have at most ${MAX_METADATA_KEYS} keys.`);
  }
  return metadata;
}

function parseOptions(value: FormValue | undefined): SessionOptions {
  if (value === undefined) {
    return {};
  }
  if (typeof value === 'string') {
    throw parameterInvalid('options', 'Invalid options: send them as options[document][...]=value.');
  }
  rejectUnknownParams(value, ['document'], 'options');

  const document = value.document;
  if (document === undefined || document === '') {
    return {};
  }
  if (typeof document === 'string') {
    throw parameterInvalid('options[document]', 'Invalid options[document]: send it as options[document][...]=value.');
  }
  return { document: parseDocumentOptions(document) };
}

function parseDocumentOptions(document: FormMap): DocumentOptions {
  const parent = 'options[document]';
  rejectUnknownParams(
    document,
    ['allowed_types', 'require_id_number', 'require_live_capture', 'require_matching_selfie'],
    parent,
  );

  const options: DocumentOptions = {};
  if (document.allowed_types !== undefined) {
    options.allowed_types = parseDocumentTypes(document.allowed_types, paramPath(parent, 'allowed_types'));
  }
  for (const key of ['require_id_number', 'require_live_capture', 'require_matching_selfie'] as const) {
    if (document[key] !== undefined) {
      options[key] = parseBoolean(document[key], paramPath(parent, key));
    }
  }
  return options;
}

function parseDocumentTypes(value: FormValue, param: string): DocumentType[] {
  const items = value === '' ? [] : listItems(value);
  if (items === null) {
    throw parameterInvalid(param, `Invalid array: ${param} must be a list, sent as ${param}[]=type.`);
  }

  return items.map((item) => {
    if (typeof item !== 'string' || !(DOCUMENT_TYPES as readonly string[]).includes(item)) {
      throw parameterInvalid(param, `Invalid ${param}: each item must be one of ${DOCUMENT_TYPES.join(', ')}.`);
    }
    return item as DocumentType;
  });
}

function parseBoolean(value: FormValue, param: string): boolean {
  if (value === 'true') {
    return true;
  }
  if (value === 'false') {
    return false;
  }
  throw parameterInvalid(param, `Invalid boolean: ${param} must be true or false.`);
}

function parseProvidedDetails(value: FormValue | undefined): { email?: string; phone?: string } | null {
  if (value === undefined) {
    return null;
  }
  if (typeof value === 'string') {
    throw parameterInvalid('provided_details', 'Invalid provided_details: send it as provided_details[email]=value.');
  }
  rejectUnknownParams(value, ['email', 'phone'], 'provided_details');

  const details: { email?: string; phone?: string } = {};
  const email = optionalString(value, 'email', 'provided_details');
  const phone = optionalString(value, 'phone', 'provided_details');
  if (email !== null) {
    details.email = email;
  }
  if (phone !== null) {
    details.phone = phone;
  }
  return details;
}

function parseRelatedPerson(value: FormValue | undefined): { account: string; person: string } | null {
  if (value === undefined) {
    return null;
  }
  if (typeof value === 'string') {
    throw parameterInvalid('related_person', 'Invalid related_person: send it as related_person[person]=value.');
  }
  rejectUnknownParams(value, ['account', 'person'], 'related_person');

  const account = optionalString(value, 'account', 'related_person');
  const person = optionalString(value, 'person', 'related_person');
  if (account === null) {
    throw parameterMissing('related_person[account]');
  }
  if (person === null) {
    throw parameterMissing('related_person[person]');
  }
  return { account, person };
}

/** Requires an absolute http or https URL, the places a browser can be redirected to. */
function parseReturnUrl(params: FormMap): string | null {
  const returnUrl = optionalString(params, 'return_url', '');
  if (returnUrl === null) {
    return null;
  }

  let parsed: URL;
  try {
    parsed = new URL(returnUrl);
  } catch {
    throw parameterInvalid('return_url', 'Not a valid URL: return_url must be an absolute http or https URL.', 'url_invalid');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw parameterInvalid('return_url', 'Not a valid URL: return_url must be an absolute http or https URL.', 'url_invalid');
  }
  return returnUrl;
}

/** Validates the parameters of a report retrieve, which accepts only an empty `expand`. Throws StripeApiError. */
export function parseReportParams(params: FormMap): void {
  rejectUnknownParams(params, ['expand'], '');

  const items = params.expand === undefined || params.expand === '' ? [] : listItems(params.expand);
  if (items === null) {
    throw parameterInvalid('expand', 'Invalid array: expand must be a list, sent as expand[]=field.');
  }
  if (items.length > 0) {
    const field = typeof items[0] === 'string' ? items[0] : 'an object';
    throw parameterInvalid('expand', `This property cannot be expanded (${field}).`);
  }
}
