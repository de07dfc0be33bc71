/**
 * The `/v1` routes: the subset of Stripe's API for Identity verification sessions that the
 * plugin uses, with the headers, JSON bodies and errors that Stripe sends.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';

import { parseCreateParams, parseExpandOnlyParams, parseReportParams } from './create-params.js';
import {
  StripeApiError,
  apiKeyInvalid,
  apiKeyMissing,
  internalError,
  invalidRequest,
  parameterInvalid,
  resourceMissing,
  unrecognizedUrl,
} from './errors.js';
import { type FormMap, FormParamsError, parseFormParams } from './form-params.js';
import type { IdempotencyStore } from './idempotency.js';
import { createRequestId } from './ids.js';
import type { ApiObject, SessionRecord } from './objects.js';
import type { SessionChange, SessionStore } from './sessions.js';

/** Stripe's limit on the length of an Idempotency-Key. */
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export interface ApiLogger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/** The API request that caused an event, as events report it in `request`. */
export interface EventRequest {
  id: string | null;
  idempotency_key: string | null;
}

export interface ApiDependencies {
  clock: { now(): Date };
  logger: ApiLogger;
  /** Sent as `Stripe-Version` when the request names no version. */
  apiVersion: string;
  /** Returns the account id for a secret key, or null for an unknown key. */
  authenticate(secretKey: string): Promise<string | null>;
  sessions: SessionStore;
  idempotency: IdempotencyStore;
  /** Base URL of the hosted page, for the `url` of sessions created by this request. */
  hostedPageBaseUrl(request: Request): string;
  /** Emits the events of session changes. */
  publish(changes: SessionChange[], request: EventRequest): void;
  /** Completes a redaction that the redact endpoint started, after the configured delay. */
  scheduleRedactionFinish(record: SessionRecord): void;
}

/** A call of one endpoint by an authenticated account. */
interface ApiCall {
  accountId: string;
  params: FormMap;
  request: Request;
  eventRequest: EventRequest;
}

type Operation = (call: ApiCall) => ApiObject;

export function createApiRouter(deps: ApiDependencies): Router {
  const router = express.Router();

  router.use(startResponse(deps));
  router.use(express.text({ type: () => true, limit: '100kb' }));
  router.use(requireAccount(deps));

  router.post('/identity/verification_sessions', runOperation(deps, (call) => createSession(deps, call)));
  router.get('/identity/verification_sessions/:session', runOperation(deps, (call) => retrieveSession(deps, call)));
  router.post(
    '/identity/verification_sessions/:session/cancel',
    runOperation(deps, (call) => cancelSession(deps, call)),
  );
  router.post(
    '/identity/verification_sessions/:session/redact',
    runOperation(deps, (call) => redactSession(deps, call)),
  );
  router.get('/identity/verification_reports/:report', runOperation(deps, (call) => retrieveReport(deps, call)));

  router.use((request: Request) => {
    throw unrecognizedUrl(request.method, request.originalUrl.split('?')[0]);
  });
  router.use(handleApiError(deps));
  return router;
}

function createSession(deps: ApiDependencies, call: ApiCall): ApiObject {
  const input = parseCreateParams(call.params);
  const { record, changes } = deps.sessions.create(
    call.accountId,
    input,
    deps.clock.now(),
    deps.hostedPageBaseUrl(call.request),
  );

  deps.publish(changes, call.eventRequest);
  return deps.sessions.render(record, input.expand);
}

function retrieveSession(deps: ApiDependencies, call: ApiCall): ApiObject {
  const expand = parseExpandOnlyParams(call.params);
  const record = findSession(deps, call);
  return deps.sessions.render(record, expand);
}

function cancelSession(deps: ApiDependencies, call: ApiCall): ApiObject {
  const expand = parseExpandOnlyParams(call.params);
  const record = findSession(deps, call);

  deps.publish(deps.sessions.cancel(record), call.eventRequest);
  return deps.sessions.render(record, expand);
}

function redactSession(deps: ApiDependencies, call: ApiCall): ApiObject {
  const expand = parseExpandOnlyParams(call.params);
  const record = findSession(deps, call);

  deps.publish(deps.sessions.redact(record), call.eventRequest);
  deps.scheduleRedactionFinish(record);
  return deps.sessions.render(record, expand);
}

function retrieveReport(deps: ApiDependencies, call: ApiCall): ApiObject {
  parseReportParams(call.params);

  const reportId = String(call.request.params.report);
  const report = deps.sessions.getReportForAccount(reportId, call.accountId);
  if (report === undefined) {
    throw resourceMissing('identity.verification_report', reportId);
  }
  return { ...report };
}

function findSession(deps: ApiDependencies, call: ApiCall): SessionRecord {
  const sessionId = String(call.request.params.session);
  const record = deps.sessions.getForAccount(sessionId, call.accountId);
  if (record === undefined) {
    throw resourceMissing('identity.verification_session', sessionId);
  }
  return record;
}

/** Sets the headers that Stripe sends with every response, before anything can fail. */
function startResponse(deps: ApiDependencies) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const requestId = createRequestId();
    response.locals.requestId = requestId;
    response.set('Request-Id', requestId);
    response.set('Stripe-Version', request.get('Stripe-Version') ?? deps.apiVersion);
    response.set('Cache-Control', 'no-cache, no-store');
    next();
  };
}

/**
 * Resolves the account from the secret key in `Authorization` (Bearer, or Basic with the key as
 * user name, as `curl -u` sends it). The key itself is never logged.
 */
function requireAccount(deps: ApiDependencies) {
  return async (request: Request, response: Response, next: NextFunction): Promise<void> => {
    const secretKey = readSecretKey(request.get('Authorization'));
    if (secretKey === null) {
      throw apiKeyMissing();
    }

    const accountId = await deps.authenticate(secretKey);
    if (accountId === null) {
      deps.logger.warn(
        { requestId: response.locals.requestId, method: request.method, path: request.path },
        'Rejected an API request with an unknown API key',
      );
      throw apiKeyInvalid(secretKey);
    }

    if (request.get('Stripe-Account') !== undefined) {
      throw invalidRequest(
        'The Stripe Identity emulator does not emulate Connect: remove the Stripe-Account header.',
      );
    }

    response.locals.accountId = accountId;
    next();
  };
}

function readSecretKey(authorization: string | undefined): string | null {
  if (authorization === undefined) {
    return null;
  }

  const match = /^(\w+)\s+(.+)$/.exec(authorization.trim());
  if (match === null) {
    return null;
  }

  const scheme = match[1].toLowerCase();
  if (scheme === 'bearer') {
    return match[2];
  }
  if (scheme === 'basic') {
    const user = Buffer.from(match[2], 'base64').toString('utf8').split(':')[0];
    return user === '' ? null : user;
  }
  return null;
}

/**
 * Decodes the parameters, applies the Idempotency-Key of a POST, runs the endpoint and sends
 * its JSON. A replayed result carries `Idempotent-Replayed: true`, as on Stripe.
 */
function runOperation(deps: ApiDependencies, operation: Operation) {
  return (request: Request, response: Response): void => {
    const accountId = response.locals.accountId as string;
    const requestId = response.locals.requestId as string;
    const params = readParams(request);
    const idempotencyKey = request.method === 'POST' ? readIdempotencyKey(request, response) : null;
    const call: ApiCall = {
      accountId,
      params,
      request,
      eventRequest: { id: requestId, idempotency_key: idempotencyKey },
    };

    if (idempotencyKey === null) {
      sendJson(response, 200, operation(call));
      logRequest(deps, request, response, 200);
      return;
    }

    const fingerprint = JSON.stringify([request.method, request.baseUrl + request.path, params]);
    const stored = deps.idempotency.find(accountId, idempotencyKey, fingerprint, deps.clock.now());
    if (stored !== null) {
      response.set('Idempotent-Replayed', 'true');
      sendJson(response, stored.statusCode, stored.body);
      logRequest(deps, request, response, stored.statusCode);
      return;
    }

    let body: ApiObject;
    try {
      body = operation(call);
    } catch (error) {
      if (error instanceof StripeApiError && error.storedForIdempotency) {
        const result = { statusCode: error.statusCode, body: error.toJSON() };
        deps.idempotency.store(accountId, idempotencyKey, fingerprint, result, deps.clock.now());
      }
      throw error;
    }

    deps.idempotency.store(accountId, idempotencyKey, fingerprint, { statusCode: 200, body }, deps.clock.now());
    sendJson(response, 200, body);
    logRequest(deps, request, response, 200);
  };
}

/** Reads the query string of a GET, or the form body of a POST. */
function readParams(request: Request): FormMap {
  let text: string;
  if (request.method === 'GET') {
    const queryStart = request.originalUrl.indexOf('?');
    text = queryStart === -1 ? '' : request.originalUrl.slice(queryStart + 1);
  } else {
    text = typeof request.body === 'string' ? request.body : '';
    if (text !== '' && !request.is('application/x-www-form-urlencoded')) {
      throw invalidRequest(
        `Invalid request: unsupported Content-Type ${request.get('Content-Type') ?? '(none)'}. ` +
          'Send parameters as application/x-www-form-urlencoded.',
      );
    }
  }

  try {
    return parseFormParams(text);
  } catch (error) {
    if (error instanceof FormParamsError) {
      throw parameterInvalid(error.param, error.message);
    }
    throw error;
  }
}

function readIdempotencyKey(request: Request, response: Response): string | null {
  const key = request.get('Idempotency-Key');
  if (key === undefined || key === '') {
    return null;
  }
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw invalidRequest(
      `Invalid Idempotency-Key: it has ${key.length} characters, and at most ${MAX_IDEMPOTENCY_KEY_LENGTH} are allowed.`,
    );
  }

  response.set('Idempotency-Key', key);
  return key;
}

function sendJson(response: Response, statusCode: number, body: unknown): void {
  response.status(statusCode).type('application/json').send(JSON.stringify(body, null, 2));
}

function logRequest(deps: ApiDependencies, request: Request, response: Response, statusCode: number): void {
  deps.logger.debug(
    {
      requestId: response.locals.requestId,
      accountId: response.locals.accountId,
      method: request.method,
      path: request.baseUrl + request.path,
      statusCode,
    },
    'API request handled',
  );
}

/** Sends every failure in Stripe's error shape; unexpected ones become a logged 500 api_error. */
function handleApiError(deps: ApiDependencies) {
  return (error: unknown, request: Request, response: Response, _next: NextFunction): void => {
    let apiError: StripeApiError;
    if (error instanceof StripeApiError) {
      apiError = error;
    } else if (isBodyTooLarge(error)) {
      apiError = new StripeApiError(413, {
        type: 'invalid_request_error',
        message: 'The request body is larger than the emulator accepts (100 kB).',
      });
    } else {
      deps.logger.error(
        { err: error, requestId: response.locals.requestId, method: request.method, path: request.path },
        'API request failed with an unexpected error',
      );
      apiError = internalError();
    }

    if (apiError.statusCode === 401) {
      response.set('WWW-Authenticate', 'Basic realm="Stripe"');
    }
    sendJson(response, apiError.statusCode, apiError.toJSON());
    logRequest(deps, request, response, apiError.statusCode);
  };
}

function isBodyTooLarge(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { type?: unknown }).type === 'entity.too.large';
}
