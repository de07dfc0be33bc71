import Stripe from 'stripe';
import type { HostApi, StripeConfiguration } from '../host/contract.js';

export interface StripeClients {
  /** The practice's Stripe client, or null when the practice has no Stripe configuration. */
  forPractice(practiceId: string): Promise<{ client: Stripe; configuration: StripeConfiguration } | null>;
}

/**
 * Creates Stripe SDK clients per practice from the host's configuration. A client is reused
 * while the practice's secret key and endpoint stay the same.
 */
export function createStripeClients(dependencies: { stripe: HostApi['stripe']; timeoutMilliseconds?: number }): StripeClients {
  const cache = new Map<string, { fingerprint: string; client: Stripe }>();

  return {
    async forPractice(practiceId) {
      const configuration = await dependencies.stripe.configuration(practiceId);
      if (!configuration) {
        return null;
      }

      const endpoint = configuration.apiEndpoint;
      const fingerprint = `${configuration.secretKey}|${endpoint ? `${endpoint.protocol}://${endpoint.host}:${endpoint.port}` : ''}`;
      const cached = cache.get(practiceId);
      if (cached?.fingerprint === fingerprint) {
        return { client: cached.client, configuration };
      }

      const client = new Stripe(configuration.secretKey, {
        // One retry: the SDK sends the same Idempotency-Key, so a retried create cannot
        // start a second (paid) verification session.
        maxNetworkRetries: 1,
        timeout: dependencies.timeoutMilliseconds ?? 10_000,
        ...(endpoint ? { host: endpoint.host, port: endpoint.port, protocol: endpoint.protocol } : {}),
      });
      cache.set(practiceId, { fingerprint, client });
      return { client, configuration };
    },
  };
}
