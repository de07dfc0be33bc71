/**
 * Shared setup for the emulator tests: an emulator with two practices' accounts on a random
 * port, the official stripe SDK pointed at it, and a webhook receiver that keeps raw bodies.
 */
import { once } from 'node:events';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import express from 'express';
import pino from 'pino';
import Stripe from 'stripe';

import {
  type DocumentHolder,
  type StripeEmulator,
  type StripeEmulatorAccount,
  type StripeEmulatorOptions,
  createStripeEmulator,
} from '../../sandbox/stripe-emulator/index.js';

export const PRACTICE_A = {
  secretKey: 'sk_test_51PracticeAlphaKey0001wxyz',
  accountId: 'acct_practice_alpha',
  webhookSigningSecret: 'whsec_practice_alpha_signing_secret',
};

export const PRACTICE_B = {
  secretKey: 'sk_test_51PracticeBravoKey0002abcd',
  accountId: 'acct_practice_bravo',
  webhookSigningSecret: 'whsec_practice_bravo_signing_secret',
};

/** A webhook endpoint that records each call with its raw body, for signature checks. */
export interface WebhookReceiver {
  url: string;
  calls: Array<{ rawBody: Buffer; signature: string | undefined; receivedAt: number; event: Stripe.Event }>;
  /** Status codes that the receiver returns, first call first, and then 200 once the list is used up. */
  scriptedStatuses: number[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const app = express();
  const receiver: WebhookReceiver = {
    url: '',
    calls: [],
    scriptedStatuses: [],
    close: async () => undefined,
  };

  app.post('/webhooks/stripe', express.raw({ type: () => true }), (request, response) => {
    const rawBody = request.body as Buffer;
    receiver.calls.push({
      rawBody,
      signature: request.get('Stripe-Signature'),
      receivedAt: Date.now(),
      event: JSON.parse(rawBody.toString('utf8')) as Stripe.Event,
    });
    response.status(receiver.scriptedStatuses.shift() ?? 200).json({ received: true });
  });

  const server = createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`;
  receiver.close = () => closeServer(server);
  return receiver;
}

export interface EmulatorFixture {
  emulator: StripeEmulator;
  url: string;
  port: number;
  receiver: WebhookReceiver;
  /** Practice A's client. */
  stripe: Stripe;
  /** Practice B's client. */
  stripeB: Stripe;
  /** Metadata objects that `lookupDocumentHolder` was called with. */
  holderLookups: Array<Record<string, string>>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  holders?: Record<string, DocumentHolder>;
  lookupFails?: boolean;
  enabledEvents?: readonly string[];
  emulatorOptions?: Partial<StripeEmulatorOptions>;
}

/**
 * Starts a receiver and an emulator with practices A and B. A's events go to the receiver;
 * B has no webhook endpoint. `holders` maps a `patient_id` metadata value to the details
 * that prefill the hosted page.
 */
export async function startEmulator(fixtureOptions: FixtureOptions = {}): Promise<EmulatorFixture> {
  const receiver = await startWebhookReceiver();
  const holderLookups: Array<Record<string, string>> = [];

  const accounts = new Map<string, StripeEmulatorAccount>([
    [
      PRACTICE_A.secretKey,
      {
        accountId: PRACTICE_A.accountId,
        webhookSigningSecret: PRACTICE_A.webhookSigningSecret,
        webhookUrl: receiver.url,
        enabledEvents: fixtureOptions.enabledEvents,
      },
    ],
    [
      PRACTICE_B.secretKey,
      { accountId: PRACTICE_B.accountId, webhookSigningSecret: PRACTICE_B.webhookSigningSecret, webhookUrl: '' },
    ],
  ]);

  const emulator = createStripeEmulator({
    resolveAccount: async (secretKey) => accounts.get(secretKey) ?? null,
    lookupDocumentHolder: async (metadata) => {
      holderLookups.push(metadata);
      if (fixtureOptions.lookupFails === true) {
        throw new Error('patient database unavailable');
      }
      return fixtureOptions.holders?.[metadata.patient_id] ?? null;
    },
    logger: pino({ level: 'silent' }),
    ...fixtureOptions.emulatorOptions,
  });

  const { url } = await emulator.listen(0);
  const port = Number(new URL(url).port);

  return {
    emulator,
    url,
    port,
    receiver,
    stripe: stripeClient(PRACTICE_A.secretKey, port),
    stripeB: stripeClient(PRACTICE_B.secretKey, port),
    holderLookups,
    close: async () => {
      await emulator.close();
      await receiver.close();
    },
  };
}

/** Creates an official SDK client for the emulator, without retries so each call is one request. */
export function stripeClient(secretKey: string, port: number): Stripe {
  return new Stripe(secretKey, { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 });
}

/** Runs `action` and returns what it threw; fails when it throws nothing. */
export async function caught(action: () => Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await action();
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('Expected the call to throw, but it returned normally.');
}

/** Stops a server; a server that already stopped is left alone, so tests may close early. */
function closeServer(server: Server): Promise<void> {
  if (!server.listening) {
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    server.closeAllConnections();
  });
}
