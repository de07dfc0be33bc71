/**
 * Stripe Identity emulator: an HTTP server that serves the part of Stripe's API that the
 * plugin uses. It creates, retrieves, cancels and redacts verification sessions and
 * retrieves reports, so the official `stripe` SDK talks to it unchanged through its `host`,
 * `port` and `protocol` options. It serves a hosted page where the tester chooses the result
 * of the document check, and it delivers signed webhook events for every status change.
 *
 * NOTE: sessions, reports, events and idempotency keys live in memory only. A restart loses
 * them, and retrieving a session created before it returns 404.
 */
import { once } from 'node:events';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import pino from 'pino';

import { type EventRequest, createApiRouter } from './api.js';
import { type DocumentHolder, createHostedPageRouter } from './hosted-page.js';
import { IdempotencyStore } from './idempotency.js';
import { renderMessagePage } from './hosted-page-html.js';
import type { ApiObject, SessionRecord } from './objects.js';
import type { VerificationOutcome } from './outcomes.js';
import { type SessionChange, SessionStore } from './sessions.js';
import {
  type DeliveryAttempt,
  type DeliverySettings,
  type StripeEvent,
  type WebhookEndpoint,
  WebhookDispatcher,
  buildEvent,
} from './webhooks.js';

export type { DocumentHolder } from './hosted-page.js';
export type { VerificationOutcome, SessionErrorCode } from './outcomes.js';
export type { DeliveryAttempt, DeliverySettings, StripeEvent } from './webhooks.js';
export { signPayload } from './webhooks.js';
export { OutcomeRejectedError } from './sessions.js';

/** An emulated Stripe account: one per practice, found by its secret key. */
export interface StripeEmulatorAccount {
  accountId: string;
  webhookSigningSecret: string;
  /** Endpoint that receives the account's events; an empty string sends none. */
  webhookUrl: string;
  /** Event types sent to `webhookUrl`. Defaults to DEFAULT_ENABLED_EVENTS. */
  enabledEvents?: readonly string[];
}

/**
 * Event types an endpoint receives when the account lists no `enabledEvents`: every status
 * change of a session. `identity.verification_session.created` is recorded in `events` but sent
 * only to accounts that enable it.
 */
export const DEFAULT_ENABLED_EVENTS: readonly string[] = [
  'identity.verification_session.processing',
  'identity.verification_session.verified',
  'identity.verification_session.requires_input',
  'identity.verification_session.canceled',
  'identity.verification_session.redacted',
];

/** API version of the OpenAPI description the emulator follows, used for events by default. */
export const DEFAULT_API_VERSION = '2026-09-30.endive';

/** A pino-compatible logger. */
export interface StripeEmulatorLogger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export interface StripeEmulatorOptions {
  /** Returns the account that owns a secret key, or null to reject the key with Stripe's 401. */
  resolveAccount(secretKey: string): Promise<StripeEmulatorAccount | null>;
  /**
   * Returns the person that a session's metadata names, to prefill the hosted page's
   * "read from the document" fields. The API never uses it.
   */
  lookupDocumentHolder?(metadata: Record<string, string>): Promise<DocumentHolder | null>;
  /**
   * Base URL of the emulator as browsers reach it, such as `http://127.0.0.1:4243`, used in
   * each session's `url`. Defaults to the address `listen` bound, or else the Host header.
   */
  publicUrl?: string;
  /** Time source for `created` fields and signature timestamps. Defaults to the system clock. */
  clock?: { now(): Date };
  /** Defaults to a pino logger named stripe-emulator. API keys and document details are never logged. */
  logger?: StripeEmulatorLogger;
  /** `api_version` of events. Defaults to DEFAULT_API_VERSION. */
  apiVersion?: string;
  /**
   * Milliseconds between a redact request and the end of the redaction (redaction.status
   * redacted and the redacted event). Stripe can take up to four days. Defaults to 0.
   */
  redactionDelayMs?: number;
}

export interface StripeEmulator {
  /** The express application, for supertest or for mounting in another server. */
  readonly app: Express;
  /** Starts listening; port 0 picks a free port. Returns the base URL. */
  listen(port: number, host?: string): Promise<{ url: string }>;
  /** Stops deliveries and pending redactions, then stops the server. */
  close(): Promise<void>;
  /** Replaces the delivery settings for events emitted from now on; fields left out take their defaults. */
  setDelivery(settings: Partial<DeliverySettings>): void;
  /** Every delivery attempt so far, oldest first. */
  readonly deliveries: readonly DeliveryAttempt[];
  /** Every event emitted so far, oldest first, including events no endpoint receives. */
  readonly events: readonly StripeEvent[];
  /**
   * Applies an outcome as the hosted page's form does, without a browser, and returns the
   * session as the API renders it without expansion. Besides a submission from requires_input,
   * it accepts a verified result or a failed check for a session left in processing.
   * Rejects with an Error for an unknown session id and with OutcomeRejectedError when the
   * outcome does not fit the session.
   */
  completeSession(sessionId: string, outcome: VerificationOutcome): Promise<ApiObject>;
  /** Waits until every queued delivery and pending redaction has finished. */
  flushDeliveries(): Promise<void>;
}

const AUTOMATIC_REQUEST: EventRequest = { id: null, idempotency_key: null };

export function createStripeEmulator(options: StripeEmulatorOptions): StripeEmulator {
  const clock = options.clock ?? { now: () => new Date() };
  const logger = options.logger ?? pino({ name: 'stripe-emulator' });
  const apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
  const redactionDelayMs = options.redactionDelayMs ?? 0;
  if (!Number.isInteger(redactionDelayMs) || redactionDelayMs < 0) {
    throw new RangeError(`Invalid redactionDelayMs: ${redactionDelayMs}. Use a whole number of 0 or more.`);
  }

  const sessions = new SessionStore();
  const idempotency = new IdempotencyStore();
  const dispatcher = new WebhookDispatcher(clock, logger);
  const accounts = new Map<string, StripeEmulatorAccount>();
  const emittedEvents: StripeEvent[] = [];
  const pendingTasks = new Set<Promise<void>>();
  const stopping = new AbortController();
  let server: Server | null = null;
  let listeningUrl: string | null = null;

  /** Resolves a key and remembers the account's latest webhook settings for deliveries. */
  async function authenticate(secretKey: string): Promise<string | null> {
    const account = await options.resolveAccount(secretKey);
    if (account === null) {
      return null;
    }
    accounts.set(account.accountId, account);
    return account.accountId;
  }

  function webhookEndpoint(accountId: string): WebhookEndpoint | null {
    const account = accounts.get(accountId);
    if (account === undefined || account.webhookUrl === '') {
      return null;
    }
    return {
      url: account.webhookUrl,
      signingSecret: account.webhookSigningSecret,
      enabledEvents: new Set(account.enabledEvents ?? DEFAULT_ENABLED_EVENTS),
    };
  }

  function publish(changes: SessionChange[], request: EventRequest): void {
    if (changes.length === 0) {
      return;
    }

    const endpoint = webhookEndpoint(changes[0].accountId);
    const queued = changes.map((change) => {
      logger.info({ accountId: change.accountId, sessionId: change.sessionId, type: change.type }, 'Session changed');
      const pendingWebhooks = endpoint?.enabledEvents.has(change.type) === true ? 1 : 0;
      const event = buildEvent(change, { apiVersion, created: clock.now(), pendingWebhooks, request });
      emittedEvents.push(event);
      return { event, sessionId: change.sessionId };
    });
    dispatcher.dispatch(endpoint, queued);
  }

  function applyOutcome(sessionId: string, outcome: VerificationOutcome): void {
    const record = sessions.get(sessionId);
    if (record === undefined) {
      throw new Error(`No verification session has the id ${sessionId}.`);
    }

    const changes = sessions.applyOutcome(record, outcome, clock.now());
    logger.info(
      { accountId: record.accountId, sessionId, outcome: outcome.kind === 'error' ? outcome.code : outcome.kind },
      'Verification outcome applied',
    );
    publish(changes, AUTOMATIC_REQUEST);
  }

  function scheduleRedactionFinish(record: SessionRecord): void {
    const task = sleep(redactionDelayMs, undefined, { signal: stopping.signal }).then(
      () => publish(sessions.finishRedaction(record), AUTOMATIC_REQUEST),
      () => logger.warn({ sessionId: record.id }, 'Emulator closed before a redaction finished'),
    );
    pendingTasks.add(task);
    void task.finally(() => pendingTasks.delete(task));
  }

  function hostedPageBaseUrl(request: Request): string {
    const base = options.publicUrl ?? listeningUrl ?? `${request.protocol}://${request.get('host') ?? '127.0.0.1'}`;
    return base.replace(/\/+$/, '');
  }

  const app = express();
  app.disable('x-powered-by');
  app.use(
    '/v1',
    createApiRouter({
      clock,
      logger,
      apiVersion,
      authenticate,
      sessions,
      idempotency,
      hostedPageBaseUrl,
      publish,
      scheduleRedactionFinish,
    }),
  );
  app.use(
    '/verify',
    createHostedPageRouter({
      clock,
      logger,
      sessions,
      lookupDocumentHolder: options.lookupDocumentHolder?.bind(options),
      applyOutcome,
    }),
  );
  app.use((_request: Request, response: Response) => {
    response.status(404).type('text/plain').send('Not found. The emulator serves /v1/identity/… and /verify/….');
  });
  app.use((error: unknown, request: Request, response: Response, _next: NextFunction) => {
    logger.error({ err: error, method: request.method, path: request.path }, 'Hosted page request failed');
    response
      .status(500)
      .type('text/html')
      .send(renderMessagePage('Emulator error', 'The Stripe Identity emulator failed to handle this page. See its log.'));
  });

  async function flushDeliveries(): Promise<void> {
    do {
      await Promise.all([...pendingTasks]);
      await dispatcher.flush();
    } while (pendingTasks.size > 0);
  }

  return {
    app,

    async listen(port: number, host = '127.0.0.1'): Promise<{ url: string }> {
      if (server !== null) {
        throw new Error(`The Stripe Identity emulator is already listening at ${listeningUrl}.`);
      }

      const started = createServer(app);
      started.listen(port, host);
      await once(started, 'listening');
      server = started;

      const address = started.address() as AddressInfo;
      const hostInUrl = host.includes(':') ? `[${host}]` : host;
      listeningUrl = `http://${hostInUrl}:${address.port}`;
      logger.info({ url: listeningUrl }, 'Stripe Identity emulator started');
      return { url: listeningUrl };
    },

    async close(): Promise<void> {
      stopping.abort();
      await dispatcher.close();
      await Promise.all([...pendingTasks]);

      if (server !== null) {
        const stopped = server;
        server = null;
        const closed = new Promise<void>((resolve, reject) => {
          stopped.close((error) => (error === undefined ? resolve() : reject(error)));
        });
        stopped.closeAllConnections();
        await closed;
        logger.info({ url: listeningUrl }, 'Stripe Identity emulator stopped');
      }
    },

    setDelivery(settings: Partial<DeliverySettings>): void {
      dispatcher.setDelivery(settings);
    },

    get deliveries(): readonly DeliveryAttempt[] {
      return dispatcher.deliveries;
    },

    get events(): readonly StripeEvent[] {
      return structuredClone(emittedEvents);
    },

    async completeSession(sessionId: string, outcome: VerificationOutcome): Promise<ApiObject> {
      applyOutcome(sessionId, outcome);
      return sessions.render(sessions.get(sessionId) as SessionRecord, []);
    },

    flushDeliveries,
  };
}
