import { randomInt } from 'node:crypto';

const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Returns `length` random alphanumeric characters from a cryptographic source. */
export function randomAlphanumeric(length: number): string {
  let text = '';
  for (let i = 0; i < length; i += 1) {
    text += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  }
  return text;
}

/**
 * Creates an id in Stripe's form: a type prefix, an underscore and 24 alphanumeric characters
 * (`vs_…` for sessions, `vr_…` for reports, `evt_…` for events, `file_…` for files).
 */
export function createObjectId(prefix: 'vs' | 'vr' | 'evt' | 'file'): string {
  return `${prefix}_${randomAlphanumeric(24)}`;
}

/** Creates a request id like the `Request-Id` header that Stripe sends with every response. */
export function createRequestId(): string {
  return `req_${randomAlphanumeric(14)}`;
}

/** Creates a client secret for a session; a new one is issued each time the session needs input. */
export function createClientSecret(sessionId: string): string {
  return `${sessionId}_secret_test_${randomAlphanumeric(24)}`;
}
