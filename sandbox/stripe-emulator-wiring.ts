import type { Logger } from 'pino';
import type { Sandbox } from './app.js';
import { createStripeEmulator, type StripeEmulator } from './stripe-emulator/index.js';
import { parseHostId, toHostPatient } from './host-api.js';

/**
 * Creates the Stripe Identity emulator for a sandbox: each practice with Stripe keys is an
 * emulated account whose events go to the practice's webhook endpoint on this host.
 */
export function createSandboxStripeEmulator(options: {
  /** The sandbox, or a function returning it when the emulator must start first (tests). */
  sandbox: Sandbox | (() => Sandbox);
  /** The sandbox's address for webhook deliveries, or a function returning it. */
  publicUrl: string | (() => string);
  logger: Logger;
  clock?: { now(): Date };
}): StripeEmulator {
  const currentSandbox = () => (typeof options.sandbox === 'function' ? options.sandbox() : options.sandbox);
  const currentPublicUrl = () => (typeof options.publicUrl === 'function' ? options.publicUrl() : options.publicUrl);

  return createStripeEmulator({
    logger: options.logger.child({ component: 'stripe-emulator' }),
    ...(options.clock ? { clock: options.clock } : {}),
    async resolveAccount(secretKey) {
      const practice = await currentSandbox().models.Practice.findOne({ where: { stripeSecretKey: secretKey } });
      if (!practice?.stripeWebhookSigningSecret || !practice.stripeWebhookEndpointKey) {
        return null;
      }
      return {
        accountId: `acct_sandbox${practice.id}`,
        webhookSigningSecret: practice.stripeWebhookSigningSecret,
        webhookUrl: `${currentPublicUrl()}/webhooks/stripe/${practice.stripeWebhookEndpointKey}`,
      };
    },
    // Only the sandbox does this: it prefills the hosted page with the practice's record so a
    // tester can verify or change it. The plugin never sends a name or date of birth to Stripe.
    async lookupDocumentHolder(metadata) {
      const practiceId = parseHostId(metadata.practice_id ?? '');
      const patientId = parseHostId(metadata.patient_id ?? '');
      if (practiceId === null || patientId === null) {
        return null;
      }
      const row = await currentSandbox().models.Patient.findOne({ where: { id: patientId, practiceId } });
      if (!row) {
        return null;
      }
      const patient = toHostPatient(row);
      return { givenNames: patient.givenNames, familyName: patient.familyName, birthDate: patient.birthDate };
    },
  });
}

/** Starts the emulator on its own port for `npm start`. */
export async function startStripeEmulator(options: { sandbox: Sandbox; publicUrl: string; host: string; port: number; logger: Logger }): Promise<StripeEmulator & { url: string }> {
  const emulator = createSandboxStripeEmulator({
    sandbox: options.sandbox,
    publicUrl: options.publicUrl,
    logger: options.logger,
    clock: options.sandbox.hostApi.clock,
  });
  const { url } = await emulator.listen(options.port, options.host);
  return Object.assign(emulator, { url });
}
