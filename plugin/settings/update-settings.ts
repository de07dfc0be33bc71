import Joi from 'joi';
import type { Request, Response } from 'express';
import type { PluginContext } from '../plugin-context.js';
import { renderSettingsPage } from './settings-page.js';

/** Form fields of the settings page. A checkbox that is off is simply absent. */
export const updateSettingsSchema = Joi.object({
  // The host has already checked the CSRF token; it is only allowed through here.
  _csrf: Joi.string().max(1000),
  enabled: Joi.string().valid('on'),
  autoApprove: Joi.string().valid('on'),
  reverifyAfterMfaReset: Joi.string().valid('on'),
  version: Joi.number().integer().min(1).max(2_147_483_647).required(),
}).options({ convert: true, abortEarly: true });

/** POST /settings: saves both toggles, or explains why nothing was saved. */
export async function updateSettings(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = plugin.host.requestContext(request);
  const t = plugin.translator.forLocale(context.locale);

  const { error, value } = updateSettingsSchema.validate(request.body ?? {});
  if (error) {
    const settings = await plugin.settings.get(context.practice.id);
    await renderSettingsPage(plugin, request, response, { settings, status: 400, error: t('clinicalAccess.settings.errors.invalidForm') });
    return;
  }

  const result = await plugin.settings.change(context.practice.id, context.staff!.id, {
    enabled: value.enabled === 'on',
    autoApprove: value.autoApprove === 'on',
    reverifyAfterMfaReset: value.reverifyAfterMfaReset === 'on',
    expectedVersion: value.version,
  });

  if (result.outcome === 'rejected') {
    const status = result.reason === 'staleVersion' ? 409 : 422;
    await renderSettingsPage(plugin, request, response, {
      settings: result.settings,
      status,
      error: t(`clinicalAccess.settings.errors.${result.reason}`),
    });
    return;
  }

  plugin.host.logger.info({ practiceId: context.practice.id, staffId: context.staff!.id, outcome: result.outcome }, 'clinical record access settings saved');
  response.redirect(303, `${request.baseUrl}/?notice=${result.outcome}`);
}
