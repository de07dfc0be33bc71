import Stripe from 'stripe';
import { UniqueConstraintError } from 'sequelize';
import type { HostApi, StripeWebhookHandler } from '../host/contract.js';
import type { PluginModels } from '../db/models.js';
import type { IdentityService } from '../identity/identity-service.js';

/** Accepted age of a webhook signature, in seconds, in either direction (Stripe's default tolerance). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const handledEventPrefix = 'identity.verification_session.';

// Only for signature checks, which need no API key.
const signatureVerifier = new Stripe('sk_signature_checks_only');

function signatureTimestamp(header: string): number | null {
  const match = /(?:^|,)t=(\d+)(?:,|$)/.exec(header);
  return match ? Number(match[1]) : null;
}

/**
 * Creates the handler for Stripe's webhook calls. It verifies the signature on the raw body
 * with the practice's own signing secret, claims the event id so each event is processed
 * once, and then reads the session's current state from the API, so event order never matters.
 */
export function createStripeWebhookHandler(dependencies: {
  models: PluginModels;
  identity: IdentityService;
  host: Pick<HostApi, 'stripe' | 'clock' | 'logger'>;
}): StripeWebhookHandler {
  const { models, identity, host } = dependencies;
  const { logger } = host;

  return async ({ practiceId, rawBody, signatureHeader }) => {
    const configuration = await host.stripe.configuration(practiceId);
    if (!configuration) {
      logger.warn({ practiceId }, 'webhook received for a practice without Stripe configuration');
      return { status: 404, body: { error: 'This practice has no Stripe configuration.' } };
    }

    if (!Buffer.isBuffer(rawBody)) {
      // A parsed and re-serialised body differs from the signed bytes, so the check fails closed.
      logger.error({ practiceId, bodyType: typeof rawBody }, 'webhook body is not the raw request bytes; the host must pass the unparsed body for signature verification');
      return { status: 400, body: { error: 'The webhook body must be the raw request bytes.' } };
    }
    if (!signatureHeader) {
      return { status: 400, body: { error: 'Missing Stripe-Signature header.' } };
    }

    const nowMilliseconds = host.clock.now().getTime();
    const nowSeconds = Math.floor(nowMilliseconds / 1000);
    let event: Stripe.Event;
    try {
      // `receivedAt` is in milliseconds, because stripe-node 23 divides it by 1000 before
      // comparing it with the header's timestamp in seconds.
      event = signatureVerifier.webhooks.constructEvent(rawBody, signatureHeader, configuration.webhookSigningSecret, SIGNATURE_TOLERANCE_SECONDS, undefined, nowMilliseconds);
    } catch (error) {
      logger.warn({ practiceId, reason: (error as Error).message }, 'webhook signature rejected');
      return { status: 400, body: { error: 'Invalid signature.' } };
    }
    // The SDK accepts any timestamp from the future; a signature dated later than the
    // tolerance is as suspect as a stale one.
    const timestamp = signatureTimestamp(signatureHeader);
    if (timestamp === null || timestamp - nowSeconds > SIGNATURE_TOLERANCE_SECONDS) {
      logger.warn({ practiceId, eventId: event.id }, 'webhook signature timestamp is in the future');
      return { status: 400, body: { error: 'Invalid signature timestamp.' } };
    }

    if (!event.type.startsWith(handledEventPrefix)) {
      logger.info({ practiceId, eventId: event.id, type: event.type }, 'webhook event type not handled');
      return { status: 200, body: { received: true, handled: false } };
    }

    try {
      await models.WebhookEvent.create({ eventId: event.id, practiceId, type: event.type, receivedAt: host.clock.now() });
    } catch (error) {
      if (error instanceof UniqueConstraintError) {
        logger.info({ practiceId, eventId: event.id }, 'duplicate webhook event ignored');
        return { status: 200, body: { received: true, duplicate: true } };
      }
      throw error;
    }

    const sessionId = (event.data.object as { id?: unknown }).id;
    try {
      const known = typeof sessionId === 'string' && (await identity.synchronise(practiceId, sessionId));
      if (!known) {
        logger.warn({ practiceId, eventId: event.id }, 'webhook event for a verification session this plugin did not create');
        return { status: 200, body: { received: true, handled: false } };
      }
    } catch (error) {
      // Release the claim so Stripe's retry of this event is processed.
      await models.WebhookEvent.destroy({ where: { eventId: event.id, practiceId } });
      logger.error({ err: error, practiceId, eventId: event.id }, 'webhook event processing failed; Stripe will retry');
      return { status: 503, body: { error: 'Temporarily unable to process the event.' } };
    }

    logger.info({ practiceId, eventId: event.id, type: event.type }, 'webhook event processed');
    return { status: 200, body: { received: true } };
  };
}
