import { Router, type Request, type Response } from 'express';
import Joi from 'joi';
import type { CsrfSync } from 'csrf-sync';
import type { HostModels, StaffRole } from '../models.js';
import type { PluginManifest } from '../manifest.js';
import type { HostRegistry } from '../host-api.js';
import type { Authentication } from './authentication.js';
import { rolePermissions } from '../roles.js';

const signInSchema = Joi.object({
  _csrf: Joi.string(),
  email: Joi.string().trim().email({ tlds: false }).max(254).required().messages({
    'string.empty': 'Enter your email address.',
    'any.required': 'Enter your email address.',
    'string.email': 'Enter an email address in the form name@example.com.',
    'string.max': 'The email address is too long.',
  }),
  password: Joi.string().min(1).max(200).required().messages({
    'string.empty': 'Enter your password.',
    'any.required': 'Enter your password.',
    'string.max': 'The password is too long.',
  }),
});

/** Accepts only a path inside this host's admin or portal, so `next` cannot send anyone elsewhere. */
function safeNextPath(value: unknown, area: 'admin' | 'portal'): string {
  const fallback = `/${area}`;
  if (typeof value !== 'string' || value.length > 500) {
    return fallback;
  }
  return new RegExp(`^/${area}(?:[/?][^\\\\\\s]*)?$`).test(value) && !value.startsWith('//') ? value : fallback;
}

export function createHostRoutes(options: {
  models: HostModels;
  registry: HostRegistry;
  manifest: PluginManifest;
  authentication: Authentication;
  csrf: CsrfSync;
  clock: { now(): Date };
}): Router {
  const { models, registry, manifest, authentication, csrf } = options;
  const router = Router();

  const render = (request: Request, response: Response, view: string, locals: Record<string, unknown>, status = 200) => {
    response.setHeader('Cache-Control', 'no-store');
    response.status(status).render(view, { ...locals, csrfToken: csrf.generateToken(request) });
  };

  router.get('/', (request, response) => render(request, response, 'pages/home', { layout: 'staff', title: 'Start' }));

  for (const area of ['admin', 'portal'] as const) {
    const strategy = area === 'admin' ? 'staff-local' : 'patient-local';
    const layout = area === 'admin' ? 'staff' : 'portal';
    const heading = area === 'admin' ? 'Staff sign-in' : 'Sign in to the patient portal';

    router.get(`/${area}/sign-in`, (request, response) => {
      render(request, response, 'pages/sign-in', { layout, title: heading, heading, action: request.originalUrl });
    });

    router.post(`/${area}/sign-in`, (request, response, next) => {
      const { error, value } = signInSchema.validate(request.body ?? {}, { abortEarly: true, stripUnknown: true });
      if (error) {
        render(request, response, 'pages/sign-in', { layout, title: heading, heading, action: request.originalUrl, error: error.details[0]!.message, email: request.body?.email }, 400);
        return;
      }
      request.body = value;
      authentication.passport.authenticate(strategy, (failure: Error | null, user: Express.User | false) => {
        if (failure) {
          next(failure);
          return;
        }
        if (!user) {
          render(request, response, 'pages/sign-in', { layout, title: heading, heading, action: request.originalUrl, error: 'The email address or password is incorrect.', email: value.email }, 401);
          return;
        }
        // Passport 0.7 regenerates the session id inside logIn, so a fixed session id is dropped.
        request.logIn(user, (loginError) => {
          if (loginError) {
            next(loginError);
            return;
          }
          response.redirect(303, safeNextPath(request.query.next, area));
        });
      })(request, response, next);
    });

    router.post(`/${area}/sign-out`, (request, response, next) => {
      request.logout((error) => {
        if (error) {
          next(error);
          return;
        }
        request.session.destroy(() => response.redirect(303, `/${area}/sign-in`));
      });
    });
  }

  router.get('/admin', authentication.requireStaff, (request, response) => {
    render(request, response, 'pages/admin-dashboard', { layout: 'staff', title: 'Dashboard' });
  });

  router.get('/admin/settings/patient-portal', authentication.requireStaff, async (request, response) => {
    // requireStaff has already loaded the staff member and their role.
    const granted = new Set(rolePermissions[response.locals.staffRole as StaffRole]);
    const sections = registry.settingsSections
      .filter((section) => granted.has(section.permission))
      .map((section) => ({ title: section.title, href: `${manifest.routes.staff}${section.path === '/' ? '' : section.path}` }));
    render(request, response, 'pages/patient-portal-settings', { layout: 'staff', title: 'Patient Portal settings', sections });
  });

  router.get('/admin/outbox', authentication.requireStaff, async (request, response) => {
    const rows = await models.Notification.findAll({ where: { practiceId: response.locals.practiceId as number }, order: [['id', 'DESC']], limit: 200 });
    const notifications = rows.map((row) => ({
      sentAt: row.createdAt.toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
      recipient: row.recipientType === 'staff' ? 'Practice staff' : `Patient #${row.recipientId}`,
      subject: row.subject,
      body: row.body,
    }));
    render(request, response, 'pages/outbox', { layout: 'staff', title: 'Outbox', notifications });
  });

  router.get('/portal', authentication.requirePatient, (request, response) => {
    render(request, response, 'pages/portal-home', { layout: 'portal', title: 'Home' });
  });

  for (const pluginRouter of registry.staffRouters) {
    router.use(manifest.routes.staff, authentication.requireStaff, pluginRouter);
  }
  for (const pluginRouter of registry.portalRouters) {
    router.use(manifest.routes.portal, authentication.requirePatient, pluginRouter);
  }

  return router;
}
