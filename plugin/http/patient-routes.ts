import { Router, type Request, type Response } from 'express';
import type { PluginContext } from '../plugin-context.js';
import {
  answerChallenge,
  confirmAuthenticator,
  confirmRecoveryCodes,
  downloadRecoveryCodes,
  recoveryCodesPage,
  regenerateRecoveryCodes,
  requestAccess,
  requestAgain,
  returnFromIdentityCheck,
  showJourney,
  showSection,
  startIdentityCheck,
} from '../journey/patient-pages.js';

type Handler = (plugin: PluginContext, request: Request, response: Response) => Promise<void>;

/**
 * Patient routes, mounted by the host in the portal behind patient sign-in. Every handler
 * works out the patient's step from the database, so none trusts an earlier page.
 */
export function createPatientRouter(plugin: PluginContext): Router {
  const router = Router();
  const handle = (handler: Handler) => (request: Request, response: Response) => handler(plugin, request, response);

  router.get('/', handle(showJourney));
  router.post('/request', handle(requestAccess));
  router.post('/identity/start', handle(startIdentityCheck));
  router.get('/identity/return', handle(returnFromIdentityCheck));
  router.post('/authenticator', handle(confirmAuthenticator));
  router.get('/recovery-codes', handle(recoveryCodesPage));
  router.get('/recovery-codes/download', handle(downloadRecoveryCodes));
  router.post('/recovery-codes/confirm', handle(confirmRecoveryCodes));
  router.post('/recovery-codes/regenerate', handle(regenerateRecoveryCodes));
  router.post('/challenge', handle(answerChallenge));
  router.post('/request-again', handle(requestAgain));
  router.get('/section/:slug', handle(showSection));

  return router;
}
