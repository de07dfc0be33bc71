import { Router, type Request, type Response } from 'express';
import type { PluginContext } from '../plugin-context.js';
import { renderSettingsPage } from '../settings/settings-page.js';
import { updateSettings } from '../settings/update-settings.js';
import { decideOnRequest } from '../access/decide-handler.js';

type Handler = (plugin: PluginContext, request: Request, response: Response) => Promise<void>;

/**
 * Staff routes, mounted by the host under Settings > Patient Portal > Clinical Record Access.
 * Each route names the permission it needs.
 */
export function createStaffRouter(plugin: PluginContext): Router {
  const router = Router();
  const { require } = plugin.host.permissions;
  const handle = (handler: Handler) => (request: Request, response: Response) => handler(plugin, request, response);

  router.get('/', require('clinicalAccess.viewList'), handle((p, request, response) => renderSettingsPage(p, request, response)));
  router.post('/settings', require('clinicalAccess.changeSettings'), handle(updateSettings));
  router.post('/requests/:requestId/decision', require('clinicalAccess.decide'), handle(decideOnRequest));

  return router;
}
