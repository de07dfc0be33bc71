import { idempotencyKeyReused } from './errors.js';

/** Lifetime of an idempotency key. Stripe keeps keys for at least 24 hours, and the emulator deletes them after exactly 24. */
const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;

interface StoredResult {
  fingerprint: string;
  storedAt: number;
  statusCode: number;
  body: unknown;
}

/**
 * Results of POST requests by account and Idempotency-Key. A retry with the same key and the
 * same request gets the first result again, and the same key with another request is rejected.
 *
 * Every endpoint runs without awaiting between `find` and `store`, so no second request with
 * the key can arrive while the first one runs.
 */
export class IdempotencyStore {
  private readonly results = new Map<string, StoredResult>();

  /**
   * Returns the stored result for the key, or null when the key is new. `fingerprint`
   * identifies the request (method, path and decoded parameters). Throws StripeApiError when
   * the key was used for another request.
   */
  find(
    accountId: string,
    key: string,
    fingerprint: string,
    now: Date,
  ): { statusCode: number; body: unknown } | null {
    this.deleteExpired(now);

    const stored = this.results.get(storageKey(accountId, key));
    if (stored === undefined) {
      return null;
    }
    if (stored.fingerprint !== fingerprint) {
      throw idempotencyKeyReused(key);
    }
    return { statusCode: stored.statusCode, body: stored.body };
  }

  /** Stores the result that later requests with the key receive. */
  store(accountId: string, key: string, fingerprint: string, result: { statusCode: number; body: unknown }, now: Date): void {
    this.results.set(storageKey(accountId, key), { fingerprint, storedAt: now.getTime(), ...result });
  }

  private deleteExpired(now: Date): void {
    for (const [mapKey, stored] of this.results) {
      if (now.getTime() - stored.storedAt >= KEY_LIFETIME_MS) {
        this.results.delete(mapKey);
      }
    }
  }
}

function storageKey(accountId: string, key: string): string {
  return `${accountId}\u0000${key}`;
}
