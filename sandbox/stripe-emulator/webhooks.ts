/**
 * Events in Stripe's `event` shape and their delivery to each account's webhook endpoint,
 * signed as Stripe signs them, with test controls for duplicates, delay and order.
 */
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { createObjectId } from './ids.js';
import type { ApiObject } from './objects.js';
import type { SessionChange } from './sessions.js';

/** A Stripe event as the emulator sends it. */
export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: ApiObject };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

/** Webhook endpoint of an account. */
export interface WebhookEndpoint {
  url: string;
  signingSecret: string;
  /** Event types sent to the endpoint. */
  enabledEvents: ReadonlySet<string>;
}

/** Test controls for delivery. Every call of `setDelivery` starts again from the defaults. */
export interface DeliverySettings {
  /** Extra sends of each event with the same event id, after the first. Default 0. */
  duplicates: number;
  /** Wait before sending an event and before each of its duplicates, in milliseconds. Default 0. */
  delayMs: number;
  /** Sends the events of one change (such as processing then verified) last first. Default false. */
  reverseOrder: boolean;
  /** Further attempts after a failed one (no response or a status outside 2xx). Default 2. */
  maxRetries: number;
  /** Wait before the first retry, in milliseconds, doubled for each further retry. Default 100. */
  retryDelayMs: number;
  /** Time in milliseconds after which an attempt that has not received a response fails. Default 10000. */
  timeoutMs: number;
}

export const DEFAULT_DELIVERY_SETTINGS: Readonly<DeliverySettings> = {
  duplicates: 0,
  delayMs: 0,
  reverseOrder: false,
  maxRetries: 2,
  retryDelayMs: 100,
  timeoutMs: 10_000,
};

/** One attempt to send an event. */
export interface DeliveryAttempt {
  eventId: string;
  type: string;
  sessionId: string;
  /** Counts every send of the event, duplicates and retries included, from 1. */
  attempt: number;
  /** Whether this send is one of the extra copies that `duplicates` requests. */
  duplicate: boolean;
  /** HTTP status code of the response, or null when no response arrived. */
  statusCode: number | null;
  /** Reason that no response arrived (such as ECONNREFUSED or timed out), or null. */
  error: string | null;
  sentAt: Date;
}

export interface DeliveryLogger {
  debug(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/**
 * Builds the `Stripe-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload">`
 * keyed with the endpoint's signing secret, the scheme that `stripe.webhooks.constructEvent` checks.
 */
export function signPayload(payload: string, signingSecret: string, timestamp: number): string {
  const signature = createHmac('sha256', signingSecret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

/** Builds the event for a session change. */
export function buildEvent(
  change: SessionChange,
  details: {
    apiVersion: string;
    created: Date;
    pendingWebhooks: number;
    request: { id: string | null; idempotency_key: string | null };
  },
): StripeEvent {
  return {
    id: createObjectId('evt'),
    object: 'event',
    api_version: details.apiVersion,
    created: Math.floor(details.created.getTime() / 1000),
    data: { object: change.session },
    livemode: false,
    pending_webhooks: details.pendingWebhooks,
    request: details.request,
    type: change.type,
  };
}

interface QueuedEvent {
  event: StripeEvent;
  sessionId: string;
}

/**
 * Sends events one at a time, in the order they were queued, to their account's endpoint.
 * `dispatch` only queues, so a delivery does not delay the response that caused it.
 */
export class WebhookDispatcher {
  private settings: DeliverySettings = { ...DEFAULT_DELIVERY_SETTINGS };
  private readonly attempts: DeliveryAttempt[] = [];
  private queue: Promise<void> = Promise.resolve();
  private readonly closing = new AbortController();

  constructor(
    private readonly clock: { now(): Date },
    private readonly logger: DeliveryLogger,
  ) {}

  /** Replaces the delivery settings; fields left out take their defaults. */
  setDelivery(settings: Partial<DeliverySettings>): void {
    const merged = { ...DEFAULT_DELIVERY_SETTINGS, ...settings };
    for (const [name, value] of Object.entries(merged)) {
      if (typeof value === 'number' && (!Number.isInteger(value) || value < 0)) {
        throw new RangeError(`Invalid delivery setting ${name}: ${value}. Use a whole number of 0 or more.`);
      }
    }
    this.settings = merged;
  }

  /** Every attempt so far, oldest first. */
  get deliveries(): readonly DeliveryAttempt[] {
    return [...this.attempts];
  }

  /**
   * Queues the events of one change for delivery. `endpoint` null (the account has no
   * endpoint) and event types the endpoint has not enabled are skipped.
   */
  dispatch(endpoint: WebhookEndpoint | null, events: QueuedEvent[]): void {
    if (endpoint === null || this.closing.signal.aborted) {
      return;
    }

    const settings = this.settings;
    const enabled = events.filter((queued) => endpoint.enabledEvents.has(queued.event.type));
    const ordered = settings.reverseOrder ? [...enabled].reverse() : enabled;

    this.queue = this.queue
      .then(async () => {
        for (const queued of ordered) {
          await this.deliverEvent(endpoint, queued, settings);
        }
      })
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'Webhook delivery stopped after an unexpected error');
      });
  }

  /** Waits until every queued delivery has finished, retries included. */
  async flush(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.queue;
      await current;
    } while (current !== this.queue);
  }

  /** Stops waiting and sending: pending waits end and requests in flight are aborted. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.flush();
  }

  private async deliverEvent(endpoint: WebhookEndpoint, queued: QueuedEvent, settings: DeliverySettings): Promise<void> {
    let attempt = 0;

    for (let copy = 0; copy <= settings.duplicates; copy += 1) {
      for (let retry = 0; retry <= settings.maxRetries; retry += 1) {
        const wait = retry === 0 ? settings.delayMs : settings.retryDelayMs * 2 ** (retry - 1);
        if (!(await this.pause(wait))) {
          return;
        }

        attempt += 1;
        const delivered = await this.send(endpoint, queued, settings, attempt, copy > 0);
        if (delivered) {
          break;
        }
        if (retry === settings.maxRetries) {
          this.logger.warn(
            { eventId: queued.event.id, type: queued.event.type, sessionId: queued.sessionId, attempts: attempt },
            'Webhook delivery failed on every attempt; the emulator does not retry it again',
          );
        }
      }
    }
  }

  /** Waits, and returns false when the dispatcher closed meanwhile. */
  private async pause(milliseconds: number): Promise<boolean> {
    if (this.closing.signal.aborted) {
      return false;
    }
    if (milliseconds === 0) {
      return true;
    }
    try {
      await sleep(milliseconds, undefined, { signal: this.closing.signal });
      return true;
    } catch {
      return false;
    }
  }

  /** Sends one attempt and records it. Returns whether the endpoint returned a 2xx status. */
  private async send(
    endpoint: WebhookEndpoint,
    queued: QueuedEvent,
    settings: DeliverySettings,
    attempt: number,
    duplicate: boolean,
  ): Promise<boolean> {
    const payload = JSON.stringify(queued.event, null, 2);
    const sentAt = this.clock.now();
    const signature = signPayload(payload, endpoint.signingSecret, Math.floor(sentAt.getTime() / 1000));
    const record: DeliveryAttempt = {
      eventId: queued.event.id,
      type: queued.event.type,
      sessionId: queued.sessionId,
      attempt,
      duplicate,
      statusCode: null,
      error: null,
      sentAt,
    };

    try {
      const response = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'Stripe-Signature': signature,
          'User-Agent': 'StripeIdentityEmulator/1.0',
        },
        body: payload,
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(settings.timeoutMs)]),
      });
      await response.arrayBuffer();
      record.statusCode = response.status;
    } catch (error) {
      record.error = describeFetchError(error);
    }
    this.attempts.push(record);

    const delivered = record.statusCode !== null && record.statusCode >= 200 && record.statusCode < 300;
    const logFields = {
      eventId: record.eventId,
      type: record.type,
      sessionId: record.sessionId,
      attempt,
      duplicate,
      statusCode: record.statusCode,
      error: record.error,
    };
    if (delivered) {
      this.logger.debug(logFields, 'Webhook delivered');
    } else {
      this.logger.warn(logFields, 'Webhook delivery attempt failed');
    }
    return delivered;
  }
}

/** Describes a failed fetch by its cause (for example ECONNREFUSED), which fetch wraps in "fetch failed". */
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  if (error.name === 'TimeoutError') {
    return 'timed out';
  }
  if (error.name === 'AbortError') {
    return 'aborted because the emulator closed';
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}
