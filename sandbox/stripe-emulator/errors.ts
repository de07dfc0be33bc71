/**
 * Errors in the shape of the Stripe API's `error` object (`{ "error": { type, code, message,
 * param, doc_url } }`), so the stripe SDK raises the same error classes as against Stripe:
 * 400 and 404 give StripeInvalidRequestError (StripeIdempotencyError for `idempotency_error`),
 * 401 gives StripeAuthenticationError.
 */

export type StripeErrorType = 'api_error' | 'idempotency_error' | 'invalid_request_error';

/** Body of Stripe's `api_errors` schema, limited to the fields the emulator sets. */
export interface StripeErrorBody {
  type: StripeErrorType;
  code?: string;
  message: string;
  param?: string;
  doc_url?: string;
}

/** An API error with its HTTP status code. */
export class StripeApiError extends Error {
  /**
   * @param storedForIdempotency whether a POST with an Idempotency-Key records this result.
   *   Stripe records results only once the endpoint starts executing, so parameter
   *   validation errors are not recorded and a corrected retry with the same key runs.
   */
  constructor(
    readonly statusCode: number,
    readonly body: StripeErrorBody,
    readonly storedForIdempotency = true,
  ) {
    super(body.message);
    this.name = 'StripeApiError';
  }

  toJSON(): { error: StripeErrorBody } {
    return { error: this.body };
  }
}

/** Builds an error body with Stripe's documentation link for the code, as Stripe does. */
function errorBody(type: StripeErrorType, message: string, code?: string, param?: string): StripeErrorBody {
  const body: StripeErrorBody = { type, message };
  if (code !== undefined) {
    body.code = code;
    body.doc_url = `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}`;
  }
  if (param !== undefined) {
    body.param = param;
  }
  return body;
}

/** Creates the error for a parameter that the endpoint does not accept. */
export function parameterUnknown(param: string): StripeApiError {
  return new StripeApiError(
    400,
    errorBody('invalid_request_error', `Received unknown parameter: ${param}`, 'parameter_unknown', param),
    false,
  );
}

/** Creates the error for a required parameter that the request left out. */
export function parameterMissing(param: string): StripeApiError {
  return new StripeApiError(
    400,
    errorBody('invalid_request_error', `Missing required param: ${param}.`, 'parameter_missing', param),
    false,
  );
}

/** Creates the error for an empty string in a parameter that cannot be unset. */
export function parameterInvalidEmpty(param: string): StripeApiError {
  const message =
    `You passed an empty string for '${param}'. An empty value unsets a parameter, but '${param}' ` +
    `cannot be unset. Remove '${param}' from the request or send a non-empty value.`;
  return new StripeApiError(400, errorBody('invalid_request_error', message, 'parameter_invalid_empty', param), false);
}

/** Creates the error for a parameter value of the wrong type or outside the allowed values. */
export function parameterInvalid(param: string, message: string, code?: string): StripeApiError {
  return new StripeApiError(400, errorBody('invalid_request_error', message, code, param), false);
}

/**
 * Creates the error for a request that Stripe accepts but the emulator does not support,
 * such as `type=id_number`. The message names the emulator.
 */
export function notEmulated(param: string, message: string): StripeApiError {
  return new StripeApiError(400, errorBody('invalid_request_error', message, undefined, param), false);
}

/**
 * Creates the 404 for an object that does not exist or that belongs to another account.
 * Stripe returns the same error for both, so a key never reveals another account's ids.
 */
export function resourceMissing(objectName: string, id: string): StripeApiError {
  return new StripeApiError(
    404,
    errorBody('invalid_request_error', `No such ${objectName}: '${id}'`, 'resource_missing', 'id'),
  );
}

/** Creates the error for an operation that the object's current status does not allow. */
export function invalidState(message: string): StripeApiError {
  return new StripeApiError(400, errorBody('invalid_request_error', message));
}

/** Creates the 401 for a request without an API key. */
export function apiKeyMissing(): StripeApiError {
  const message =
    'You did not provide an API key. Send your secret key in the Authorization header as ' +
    "'Authorization: Bearer <secret key>'.";
  return new StripeApiError(401, errorBody('invalid_request_error', message), false);
}

/** Creates the 401 for a key that belongs to no account. The message shows the key masked. */
export function apiKeyInvalid(secretKey: string): StripeApiError {
  return new StripeApiError(
    401,
    errorBody('invalid_request_error', `Invalid API Key provided: ${maskApiKey(secretKey)}`),
    false,
  );
}

/** Creates the error for an Idempotency-Key reused with other parameters or another endpoint. */
export function idempotencyKeyReused(key: string): StripeApiError {
  const message =
    'Keys for idempotent requests can only be used with the same parameters they were first used with. ' +
    `Use a key other than '${key}' for a different request.`;
  return new StripeApiError(400, errorBody('idempotency_error', message), false);
}

/** Creates the error for a malformed request that no endpoint-specific check covers. */
export function invalidRequest(message: string, param?: string): StripeApiError {
  return new StripeApiError(400, errorBody('invalid_request_error', message, undefined, param), false);
}

/** Creates the 404 for a URL that matches no endpoint of the emulator. */
export function unrecognizedUrl(method: string, path: string): StripeApiError {
  const message =
    `Unrecognized request URL (${method}: ${path}). The Stripe Identity emulator answers create, retrieve, ` +
    'cancel and redact of /v1/identity/verification_sessions and retrieve of /v1/identity/verification_reports.';
  return new StripeApiError(404, errorBody('invalid_request_error', message), false);
}

/** Creates the 500 for a failure inside the emulator. */
export function internalError(): StripeApiError {
  return new StripeApiError(500, errorBody('api_error', 'The Stripe Identity emulator failed to handle the request.'));
}

/**
 * Masks an API key as Stripe's 401 message does: the `sk_test_`-style prefix and the last
 * four characters stay, every other character becomes `*`. A key with four or fewer
 * characters after its prefix is masked completely.
 */
export function maskApiKey(secretKey: string): string {
  const prefix = /^[a-z]{2,4}_(?:test|live)_/.exec(secretKey)?.[0] ?? '';
  const rest = secretKey.slice(prefix.length);
  const visibleLength = rest.length > 4 ? 4 : 0;
  return prefix + '*'.repeat(rest.length - visibleLength) + rest.slice(rest.length - visibleLength);
}
