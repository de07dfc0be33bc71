import type { Request, Response } from 'express';
import type { PluginContext } from '../plugin-context.js';
import type { PracticeSettings } from './settings-service.js';

const notices = new Set(['saved', 'unchanged']);

/** Renders Settings > Patient Portal > Clinical Record Access for the signed-in staff member. */
export async function renderSettingsPage(
  plugin: PluginContext,
  request: Request,
  response: Response,
  options: { settings?: PracticeSettings; status?: number; error?: string } = {},
): Promise<void> {
  const context = plugin.host.requestContext(request);
  const t = plugin.translator.forLocale(context.locale);
  const settings = options.settings ?? (await plugin.settings.get(context.practice.id));
  const stripeConfigured = (await plugin.host.stripe.configuration(context.practice.id)) !== null;
  const notice = typeof request.query.notice === 'string' && notices.has(request.query.notice) ? request.query.notice : null;

  const bodyHtml = plugin.templates.render('staff/settings', {
    t,
    csrfToken: plugin.host.sessions.csrfToken(request),
    action: `${request.baseUrl}/settings`,
    settings,
    stripeConfigured,
    canChange: context.staff!.permissions.has('clinicalAccess.changeSettings'),
    listHref: `${request.baseUrl}/access`,
    error: options.error,
    notice: options.error ? null : notice,
  });
  plugin.host.views.render(request, response, {
    surface: 'staff',
    title: t('clinicalAccess.settings.title'),
    bodyHtml,
    status: options.status ?? 200,
  });
}
