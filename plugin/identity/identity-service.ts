import { Op, UniqueConstraintError, type Sequelize } from 'sequelize';
import type Stripe from 'stripe';
import type { HostApi } from '../host/contract.js';
import type { PluginModels, IdentityVerificationRow } from '../db/models.js';
import type { AccessService } from '../access/access-service.js';
import type { StripeClients } from './stripe-clients.js';
import { matchVerifiedIdentity } from './match.js';

/** New verification sessions a patient may start in 24 hours; each one costs the practice money. */
export const MAX_VERIFICATIONS_PER_DAY = 3;

const DAY_MILLISECONDS = 24 * 60 * 60 * 1000;

export type StartVerificationResult =
  | { ok: true; url: string }
  | { ok: false; reason: 'dailyLimit'; retryAt: Date }
  | { ok: false; reason: 'stripeUnavailable' | 'stripeNotConfigured' | 'notAllowed' | 'inProgress' };

export interface IdentityService {
  /**
   * Sends the patient to Stripe: reuses the current session while the patient can still
   * complete it, and otherwise creates a new one within the daily limit. While Stripe is
   * checking or has verified a submitted session, it sends the patient to `returnUrl` instead.
   */
  startVerification(practiceId: string, patientId: string, returnUrl: string): Promise<StartVerificationResult>;
  /**
   * Reads a session's current state from Stripe and applies it to the request. Used by the
   * webhook handler and when the patient returns, so event order never matters.
   * Returns false when the session is not one this plugin created for the practice.
   */
  synchronise(practiceId: string, stripeSessionId: string): Promise<boolean>;
  /** The patient's current Stripe verification, for the status page. */
  current(practiceId: string, requestId: number, verificationId: number | null): Promise<IdentityVerificationRow | null>;
}

/** Checks whether a Stripe SDK error reports that the object does not exist (HTTP 404, `resource_missing`). */
function isMissingAtStripe(error: unknown): boolean {
  const stripeError = error as { statusCode?: number; code?: string };
  return stripeError.statusCode === 404 || stripeError.code === 'resource_missing';
}

export class StripeUnavailableError extends Error {
  override name = 'StripeUnavailableError';
}

export function createIdentityService(dependencies: {
  sequelize: Sequelize;
  models: PluginModels;
  access: AccessService;
  stripeClients: StripeClients;
  host: Pick<HostApi, 'patients' | 'clock' | 'logger'>;
}): IdentityService {
  const { sequelize, models, access, stripeClients, host } = dependencies;
  const { clock, logger } = host;

  const current = async (practiceId: string, requestId: number, verificationId: number | null) =>
    verificationId === null ? null : models.IdentityVerification.findOne({ where: { id: verificationId, practiceId, requestId } });

  const startVerification = async (practiceId: string, patientId: string, returnUrl: string): Promise<StartVerificationResult> => {
    const request = await access.find(practiceId, patientId);
    if (!request || (request.status !== 'identity_pending' && request.status !== 'identity_failed')) {
      return { ok: false, reason: 'notAllowed' };
    }
    const stripe = await stripeClients.forPractice(practiceId);
    if (!stripe) {
      return { ok: false, reason: 'stripeNotConfigured' };
    }

    // A session the patient has not finished can be continued at no cost.
    const existing = await current(practiceId, request.id, request.currentVerificationId);
    if (request.status === 'identity_pending' && existing?.stripeSessionId && existing.outcome === 'pending') {
      try {
        const session = await stripe.client.identity.verificationSessions.retrieve(existing.stripeSessionId);
        if (session.status === 'requires_input' && !session.last_error && session.url) {
          return { ok: true, url: session.url };
        }
        // Stripe already has the patient's submission. The return URL reads its result, and
        // a new session would cost money and become current in its place, so the result of
        // this one would never move the request on.
        if (session.status === 'processing' || session.status === 'verified') {
          return { ok: true, url: returnUrl };
        }
      } catch (error) {
        if (!isMissingAtStripe(error)) {
          logger.warn({ err: error, practiceId, verificationId: existing.id }, 'could not retrieve the verification session from Stripe');
          return { ok: false, reason: 'stripeUnavailable' };
        }
        // Stripe no longer has the session (expired, or the sandbox's emulator restarted), so
        // the patient starts a new one.
        logger.warn({ practiceId, verificationId: existing.id }, 'verification session no longer exists at Stripe; starting a new one');
        await existing.update({ outcome: 'canceled', failureCode: 'session_missing', completedAt: clock.now() });
      }
    }

    const since = new Date(clock.now().getTime() - DAY_MILLISECONDS);
    const recent = await models.IdentityVerification.findAll({
      where: { practiceId, patientId, method: 'stripe_identity', stripeSessionId: { [Op.ne]: null }, createdAt: { [Op.gt]: since } },
      order: [['createdAt', 'ASC']],
    });
    if (recent.length >= MAX_VERIFICATIONS_PER_DAY) {
      return { ok: false, reason: 'dailyLimit', retryAt: new Date(recent[0]!.createdAt.getTime() + DAY_MILLISECONDS) };
    }

    let verification: IdentityVerificationRow;
    try {
      verification = await models.IdentityVerification.create({
        practiceId,
        requestId: request.id,
        patientId,
        method: 'stripe_identity',
        stripeSessionId: null,
        stripeStatus: null,
        outcome: 'pending',
        failureCode: null,
        mismatchFields: null,
        inPersonDocument: null,
        recordedByStaffId: null,
        completedAt: null,
        claimKey: `${request.id}:${request.version}`,
        createdAt: clock.now(),
      });
    } catch (error) {
      // Another tab started a check from the same state of the request a moment ago.
      if (error instanceof UniqueConstraintError) {
        return { ok: false, reason: 'inProgress' };
      }
      throw error;
    }

    let session: Stripe.Identity.VerificationSession;
    try {
      session = await stripe.client.identity.verificationSessions.create(
        {
          type: 'document',
          options: { document: { require_matching_selfie: true, require_live_capture: true } },
          // Ids only: Stripe reads the name and date of birth from the document itself.
          metadata: { practice_id: practiceId, patient_id: patientId, request_id: String(request.id) },
          client_reference_id: `cra-${practiceId}-${patientId}`,
          return_url: returnUrl,
        },
        { idempotencyKey: `cra-verification-${practiceId}-${verification.id}` },
      );
    } catch (error) {
      // Nothing was started at Stripe, so the row is removed and does not count against the limit.
      await verification.destroy();
      logger.warn({ err: error, practiceId, requestId: request.id }, 'could not create a verification session at Stripe');
      return { ok: false, reason: 'stripeUnavailable' };
    }

    await sequelize.transaction(async (transaction) => {
      await verification.update({ stripeSessionId: session.id, stripeStatus: session.status }, { transaction });
      const fresh = (await access.findById(practiceId, request.id, transaction))!;
      await access.transition(
        fresh,
        {
          from: ['identity_pending', 'identity_failed'],
          to: 'identity_pending',
          actor: { type: 'patient', id: patientId },
          action: 'identity.verificationStarted',
          fields: { currentVerificationId: verification.id, statusReason: null },
          details: { verificationId: verification.id },
        },
        transaction,
      );
    });
    logger.info({ practiceId, requestId: request.id, verificationId: verification.id }, 'verification session created');

    if (!session.url) {
      return { ok: false, reason: 'stripeUnavailable' };
    }
    return { ok: true, url: session.url };
  };

  /** Ends a check whose session Stripe no longer has, so the patient is offered a new one. */
  const markSessionMissing = async (practiceId: string, verification: IdentityVerificationRow) => {
    logger.warn({ practiceId, verificationId: verification.id }, 'verification session no longer exists at Stripe');
    await sequelize.transaction(async (transaction) => {
      await verification.update({ outcome: 'canceled', failureCode: 'session_missing', completedAt: clock.now() }, { transaction });
      const request = await access.findById(practiceId, verification.requestId, transaction);
      if (request && request.currentVerificationId === verification.id) {
        await access.transition(
          request,
          {
            from: ['identity_pending'],
            to: 'identity_failed',
            actor: { type: 'system', id: null },
            action: 'identity.failed',
            fields: { statusReason: 'session_missing' },
            details: { verificationId: verification.id, failureCode: 'session_missing' },
          },
          transaction,
        );
      }
    });
  };

  const synchronise = async (practiceId: string, stripeSessionId: string): Promise<boolean> => {
    const verification = await models.IdentityVerification.findOne({ where: { practiceId, stripeSessionId } });
    if (!verification) {
      return false;
    }
    const stripe = await stripeClients.forPractice(practiceId);
    if (!stripe) {
      throw new StripeUnavailableError(`Practice ${practiceId} has no Stripe configuration.`);
    }

    let session: Stripe.Identity.VerificationSession;
    try {
      session = await stripe.client.identity.verificationSessions.retrieve(stripeSessionId, { expand: ['verified_outputs'] });
    } catch (error) {
      if (isMissingAtStripe(error) && verification.outcome === 'pending') {
        await markSessionMissing(practiceId, verification);
        return true;
      }
      throw new StripeUnavailableError(`Could not retrieve verification session: ${(error as Error).message}`);
    }
    if (verification.outcome !== 'pending') {
      await verification.update({ stripeStatus: session.status });
      return true;
    }

    const request = await access.findById(practiceId, verification.requestId);
    if (!request) {
      return true;
    }
    const isCurrent = request.currentVerificationId === verification.id;
    const actor = { type: 'system' as const, id: null };

    if (session.status === 'verified') {
      const patient = await host.patients.get(practiceId, verification.patientId);
      const outputs = session.verified_outputs;
      const result = patient
        ? matchVerifiedIdentity(
            { first_name: outputs?.first_name ?? null, last_name: outputs?.last_name ?? null, dob: outputs?.dob ?? null },
            patient,
          )
        : ({ matched: false, reasons: ['missingOutputs'] } as const);

      if (result.matched) {
        const now = clock.now();
        await sequelize.transaction(async (transaction) => {
          await verification.update({ stripeStatus: session.status, outcome: 'matched', completedAt: now }, { transaction });
          if (isCurrent) {
            await access.transition(
              request,
              {
                from: ['identity_pending', 'identity_failed'],
                to: 'mfa_pending',
                actor,
                action: 'identity.matched',
                fields: { identityMethod: 'stripe_identity', identityVerifiedAt: now, statusReason: null },
                details: { verificationId: verification.id, nameRule: result.method },
              },
              transaction,
            );
          }
        });
      } else {
        const fields = result.reasons.join(',');
        await sequelize.transaction(async (transaction) => {
          await verification.update({ stripeStatus: session.status, outcome: 'mismatch', mismatchFields: fields, completedAt: clock.now() }, { transaction });
          if (isCurrent) {
            await access.transition(
              request,
              {
                from: ['identity_pending', 'identity_failed'],
                to: 'identity_mismatch',
                actor,
                action: 'identity.mismatched',
                fields: { statusReason: result.reasons[0]! },
                details: { verificationId: verification.id, fields: result.reasons },
              },
              transaction,
            );
          }
        });
      }
      logger.info({ practiceId, requestId: request.id, verificationId: verification.id, matched: result.matched }, 'identity verification completed');
      return true;
    }

    let failureCode: string | null = null;
    if (session.status === 'canceled') {
      failureCode = 'canceled';
    } else if (session.status === 'requires_input') {
      failureCode = session.last_error?.code ?? null;
    }
    if (failureCode) {
      await sequelize.transaction(async (transaction) => {
        await verification.update(
          { stripeStatus: session.status, outcome: session.status === 'canceled' ? 'canceled' : 'failed', failureCode, completedAt: clock.now() },
          { transaction },
        );
        if (isCurrent) {
          await access.transition(
            request,
            {
              from: ['identity_pending'],
              to: 'identity_failed',
              actor,
              action: 'identity.failed',
              fields: { statusReason: failureCode },
              details: { verificationId: verification.id, failureCode },
            },
            transaction,
          );
        }
      });
      logger.info({ practiceId, requestId: request.id, verificationId: verification.id, failureCode }, 'identity verification failed');
      return true;
    }

    await verification.update({ stripeStatus: session.status });
    return true;
  };

  return { startVerification, synchronise, current };
}
