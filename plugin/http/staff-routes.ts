import { Router, type Request, type Response } from 'express';
import type { PluginContext } from '../plugin-context.js';
import { renderSettingsPage } from '../settings/settings-page.js';
import { updateSettings } from '../settings/update-settings.js';
import { showAccessList } from '../staff/list-page.js';
import { showPatientAccess } from '../staff/patient-page.js';
import { decideFromList, decideOnRequest, resetMfa, verifyInPerson } from '../staff/patient-actions.js';
import { markDetailsReviewed } from '../staff/details-review.js';

type Handler = (plugin: PluginContext, request: Request, response: Response) => Promise<void>;

/**
 * Staff routes, mounted by the host under Settings > Patient Portal > Clinical Record Access.
 * Each route names the permission it needs, and every query is scoped to the staff member's
 * practice, so an id from another practice gets a 404 response.
 */
export function createStaffRouter(plugin: PluginContext): Router {
  const router = Router();
  const { require } = plugin.host.permissions;
  const handle = (handler: Handler) => (request: Request, response: Response) => handler(plugin, request, response);

  router.get('/', require('clinicalAccess.viewList'), handle((p, request, response) => renderSettingsPage(p, request, response)));
  router.post('/settings', require('clinicalAccess.changeSettings'), handle(updateSettings));
  router.get('/access', require('clinicalAccess.viewList'), handle(showAccessList));
  router.post('/access/decision', require('clinicalAccess.decide'), handle(decideFromList));
  router.get('/access/:requestId', require('clinicalAccess.viewList'), handle((p, request, response) => showPatientAccess(p, request, response)));
  router.post('/access/:requestId/decision', require('clinicalAccess.decide'), handle(decideOnRequest));
  router.post('/access/:requestId/verify-in-person', require('clinicalAccess.verifyInPerson'), handle(verifyInPerson));
  router.post('/access/:requestId/reset-mfa', require('clinicalAccess.resetMfa'), handle(resetMfa));
  router.post('/access/:requestId/details-reviewed', require('clinicalAccess.decide'), handle(markDetailsReviewed));

  return router;
}
