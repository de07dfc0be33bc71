import Joi from 'joi';
import type { Request, Response } from 'express';
import type { PluginContext } from '../plugin-context.js';
import { renderSettingsPage } from '../settings/settings-page.js';

/** Fields of a staff decision form. */
export const decisionFormSchema = Joi.object({
  _csrf: Joi.string().max(1000),
  decision: Joi.string().valid('approve', 'deny', 'revoke').required(),
  version: Joi.number().integer().min(1).max(2_147_483_647).required(),
  reason: Joi.string().allow('').trim().max(500).pattern(/^[^\p{Cc}]*$/u, 'printable text'),
  // Line breaks are allowed in the message to the patient; other control characters are not.
  message: Joi.string().allow('').trim().max(1000).pattern(/^(?:[^\p{Cc}]|\r?\n)*$/u, 'printable text'),
});

const rejectionStatus = { notFound: 404, staleVersion: 409, notAllowedFromStatus: 409, identityNotVerified: 422 } as const;

/** POST /requests/:requestId/decision: approve, deny or revoke one patient's access. */
export async function decideOnRequest(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = plugin.host.requestContext(request);
  const t = plugin.translator.forLocale(context.locale);

  const requestId = String(request.params.requestId);
  if (!/^[1-9][0-9]{0,17}$/.test(requestId)) {
    await renderSettingsPage(plugin, request, response, { status: 404, error: t('clinicalAccess.decisions.errors.notFound') });
    return;
  }
  const { error, value } = decisionFormSchema.validate(request.body ?? {});
  if (error) {
    await renderSettingsPage(plugin, request, response, { status: 400, error: t('clinicalAccess.decisions.errors.invalidForm') });
    return;
  }

  const result = await plugin.decisions.decide({
    practiceId: context.practice.id,
    staffId: context.staff!.id,
    requestId: Number(requestId),
    decision: value.decision,
    expectedVersion: value.version,
    reason: value.reason || null,
    messageToPatient: value.message || null,
  });
  if (result.outcome === 'rejected') {
    await renderSettingsPage(plugin, request, response, {
      status: rejectionStatus[result.reason],
      error: t(`clinicalAccess.decisions.errors.${result.reason}`),
    });
    return;
  }

  plugin.host.logger.info({ practiceId: context.practice.id, staffId: context.staff!.id, requestId: result.request.id, decision: value.decision }, 'access decision recorded');
  response.redirect(303, `${request.baseUrl}/?notice=${value.decision}`);
}
