import Joi from 'joi';
import type { Request, Response } from 'express';
import type { PluginContext } from '../plugin-context.js';
import { syncSearchOrder } from '../access/search-index.js';
import { prepareStaffAction, showPatientAccess } from './patient-page.js';

export const detailsReviewedFormSchema = Joi.object({
  _csrf: Joi.string().max(1000),
  version: Joi.number().integer().min(1).max(2_147_483_647).required(),
});

/**
 * POST /access/:requestId/details-reviewed: clears the "Details changed" flag once staff have
 * checked a name or date of birth that changed in the host after the patient requested access.
 */
export async function markDetailsReviewed(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const prepared = await prepareStaffAction(plugin, request, response, detailsReviewedFormSchema, 'clinicalAccess.detailsReview.errors.invalidForm');
  if (!prepared) {
    return;
  }
  const { context, t, accessRequest, value } = prepared;
  if (accessRequest.version !== value.version) {
    await showPatientAccess(plugin, request, response, { status: 409, error: t('clinicalAccess.decisions.errors.staleVersion') });
    return;
  }
  if (!accessRequest.detailsChangedInHost) {
    await showPatientAccess(plugin, request, response, { status: 409, error: t('clinicalAccess.detailsReview.errors.nothingToReview') });
    return;
  }

  const sequelize = plugin.host.database.sequelize;
  const cleared = await sequelize.transaction(async (transaction) => {
    const [updated] = await plugin.models.AccessRequest.update(
      { detailsChangedInHost: false, version: sequelize.literal('version + 1') as unknown as number, lastChangedAt: plugin.host.clock.now() },
      { where: { id: accessRequest.id, practiceId: context.practice.id, version: value.version, detailsChangedInHost: true }, transaction },
    );
    if (updated !== 1) {
      return false;
    }
    await syncSearchOrder(plugin.models, accessRequest.id, transaction);
    await plugin.audit.record(
      {
        practiceId: context.practice.id,
        actor: { type: 'staff', id: context.staff!.id },
        action: 'access.detailsReviewed',
        patientId: accessRequest.subjectPatientId,
        details: { staffName: context.staff!.displayName },
      },
      transaction,
    );
    return true;
  });

  if (!cleared) {
    await showPatientAccess(plugin, request, response, { status: 409, error: t('clinicalAccess.decisions.errors.staleVersion') });
    return;
  }
  plugin.host.logger.info({ practiceId: context.practice.id, staffId: context.staff!.id, requestId: accessRequest.id }, 'changed patient details marked as reviewed');
  response.redirect(303, `${request.baseUrl}/access/${accessRequest.id}?notice=detailsReviewed`);
}
