import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import connectSessionSequelize from 'connect-session-sequelize';
import { engine } from 'express-handlebars';
import helmet from 'helmet';
import { csrfSync } from 'csrf-sync';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Sequelize } from 'sequelize';
import { HOST_API_VERSION, type HostApi, type PageRender, type RequestContext, type StripeConfiguration } from '../plugin/host/contract.js';
import { openDatabase, prepareDatabase } from './database.js';
import { runMigrations } from './migrate.js';
import { defineHostModels, type HostModels } from './models.js';
import { readManifest, type PluginManifest } from './manifest.js';
import { createHostApi, type HostRegistry } from './host-api.js';
import type { SandboxSecrets } from './secrets.js';
import type { PluginOptions } from '../plugin/index.js';
import { createAuthentication } from './http/authentication.js';
import { createHostRoutes } from './http/host-routes.js';
import { createPatientAdminRoutes } from './http/patient-admin-routes.js';
import { projectRootFolder, sandboxFolder } from './paths.js';


export interface SandboxOptions {
  databaseUrl: string;
  secrets: SandboxSecrets;
  logger: Logger;
  /** The host's clock; tests pass one they can move. */
  clock?: { now(): Date };
  /** Address of the Stripe API when it is the emulator rather than api.stripe.com. */
  stripeApiEndpoint?: StripeConfiguration['apiEndpoint'];
  /** The sandbox's address as browsers reach it; without it, the request's own address. */
  publicUrl?: string;
  /** Folder holding plugin.manifest.json; the project root by default. */
  pluginRoot?: string;
  /** Passed to the plugin's `register` as its options; tests use it to shorten time limits. */
  pluginOptions?: PluginOptions;
}

export interface Sandbox {
  app: Express;
  sequelize: Sequelize;
  models: HostModels;
  hostApi: HostApi;
  registry: HostRegistry;
  manifest: PluginManifest;
  /** Value the plugin's `register` returned, through which tests reach the plugin's services. */
  plugin: unknown;
  close(): Promise<void>;
}

interface PluginModule {
  register(host: HostApi, options?: PluginOptions): Promise<unknown> | unknown;
}

/**
 * Builds the sandbox host: opens the database, runs the host's and the plugin's migrations,
 * installs the plugin from its manifest and returns the Express app. Nothing listens yet.
 */
export async function createSandbox(options: SandboxOptions): Promise<Sandbox> {
  const { logger } = options;
  const clock = options.clock ?? { now: () => new Date() };
  const pluginRoot = options.pluginRoot ?? projectRootFolder;

  const manifest = await readManifest(join(pluginRoot, 'plugin.manifest.json'), HOST_API_VERSION);

  const sequelize = openDatabase(options.databaseUrl, logger);
  await prepareDatabase(sequelize);
  await runMigrations({ sequelize, folder: join(sandboxFolder, 'migrations'), tableName: 'sandbox_migrations', logger });
  await runMigrations({ sequelize, folder: join(pluginRoot, manifest.migrations), tableName: `${manifest.tablePrefix}migrations`, logger });
  const models = defineHostModels(sequelize);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.engine('hbs', engine({ extname: '.hbs', defaultLayout: false, layoutsDir: join(sandboxFolder, 'views', 'layouts') }));
  app.set('view engine', 'hbs');
  app.set('views', join(sandboxFolder, 'views'));

  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          // The QR code is a data: URL image; nothing else loads from outside the host.
          'img-src': ["'self'", 'data:'],
          'form-action': ["'self'", ...(options.stripeApiEndpoint ? [`http://${options.stripeApiEndpoint.host}:${options.stripeApiEndpoint.port}`] : [])],
        },
      },
    }),
  );
  app.use('/assets', express.static(join(sandboxFolder, 'assets'), { fallthrough: false }));

  // Webhooks come before the body parsers, because the signature covers the raw bytes.
  const registryHolder: { registry?: HostRegistry } = {};
  app.post('/webhooks/stripe/:endpointKey', express.raw({ type: '*/*', limit: '512kb' }), async (request, response, next) => {
    try {
      const endpointKey = String(request.params.endpointKey);
      const practice = await models.Practice.findOne({ where: { stripeWebhookEndpointKey: endpointKey } });
      const handler = registryHolder.registry?.stripeWebhookHandler;
      if (!practice || !handler) {
        response.status(404).json({ error: 'No webhook endpoint has this address. Check the URL configured in Stripe.' });
        return;
      }
      const result = await handler({
        practiceId: String(practice.id),
        rawBody: request.body,
        signatureHeader: request.get('stripe-signature'),
      });
      response.status(result.status).json(result.body);
    } catch (error) {
      next(error);
    }
  });

  app.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 200 }));

  const SequelizeStore = connectSessionSequelize(session.Store);
  const sessionStore = new SequelizeStore({
    db: sequelize,
    table: undefined,
    tableName: 'sandbox_sessions',
    checkExpirationInterval: 15 * 60 * 1000,
    expiration: 12 * 60 * 60 * 1000,
  } as ConstructorParameters<typeof SequelizeStore>[0]);
  app.use(
    session({
      name: 'sandbox.sid',
      secret: options.secrets.sessionSecret,
      store: sessionStore,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: 12 * 60 * 60 * 1000 },
    }),
  );

  const csrf = csrfSync({
    getTokenFromRequest: (request) => (request.body as Record<string, string> | undefined)?._csrf,
    errorConfig: { statusCode: 403, message: 'The form has expired or did not come from this site.', code: 'EBADCSRFTOKEN' },
  });
  app.use(csrf.csrfSynchronisedProtection);

  const contexts = new WeakMap<Request, RequestContext>();
  const renderPage = (request: Request, response: Response, page: PageRender) => {
    const context = contexts.get(request);
    response.setHeader('Cache-Control', 'no-store');
    response.status(page.status ?? 200).render('pages/plugin-page', {
      layout: page.surface,
      title: page.title,
      bodyHtml: page.bodyHtml,
      practiceName: context?.practice.name,
      staffName: response.locals.staffName,
      roleName: response.locals.roleName,
      isManager: response.locals.isManager,
      patientName: response.locals.patientName,
      csrfToken: csrf.generateToken(request),
    });
  };

  const { hostApi, registry } = createHostApi({
    sequelize,
    models,
    secrets: options.secrets,
    logger: logger.child({ plugin: manifest.id }),
    clock,
    ...(options.stripeApiEndpoint ? { stripeApiEndpoint: options.stripeApiEndpoint } : {}),
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    contextOf: (request) => contexts.get(request),
    renderPage,
    csrfToken: (request) => csrf.generateToken(request),
  });
  registryHolder.registry = registry;

  const authentication = createAuthentication({ models, contexts, manifest });
  app.use(authentication.initialize);

  const pluginModule = (await import(pathToFileURL(join(pluginRoot, manifest.entry)).href)) as PluginModule;
  const plugin = await pluginModule.register(hostApi, options.pluginOptions);

  app.use(createHostRoutes({ models, registry, manifest, authentication, csrf, clock }));
  app.use(createPatientAdminRoutes({ models, registry, authentication, csrf, clock, logger }));

  app.use((request: Request, response: Response) => {
    response.status(404).render('pages/error', {
      layout: request.path.startsWith('/portal') ? 'portal' : 'staff',
      title: 'Page not found',
      heading: 'Page not found',
      message: 'There is no page at this address. Check the link, or go back to the start.',
      backHref: request.path.startsWith('/portal') ? '/portal' : '/admin',
      backLabel: 'Go to the start page',
      csrfToken: csrf.generateToken(request),
    });
  });

  app.use((error: Error & { status?: number; code?: string }, request: Request, response: Response, _next: NextFunction) => {
    const layout = request.path.startsWith('/portal') ? 'portal' : 'staff';
    if (error.code === 'EBADCSRFTOKEN') {
      response.status(403).render('pages/error', {
        layout,
        title: 'Form expired',
        heading: 'This form has expired',
        message: 'Nothing was changed. Go back, reload the page and submit the form again.',
        csrfToken: csrf.generateToken(request),
      });
      return;
    }
    if (error.status && error.status >= 400 && error.status < 500) {
      response.status(error.status).render('pages/error', {
        layout,
        title: 'Request not accepted',
        heading: 'The request could not be accepted',
        message: 'The request was malformed or too large. Nothing was changed. Go back and try again.',
      });
      return;
    }
    logger.error({ err: error, path: request.path }, 'request failed');
    response.status(500).render('pages/error', {
      layout,
      title: 'Something went wrong',
      heading: 'Something went wrong',
      message: 'The server could not finish this request. Try again in a minute; if it keeps happening, contact the practice.',
    });
  });

  return {
    app,
    sequelize,
    models,
    hostApi,
    registry,
    manifest,
    plugin,
    async close() {
      (sessionStore as unknown as { stopExpiringSessions(): void }).stopExpiringSessions();
      await sequelize.close();
    },
  };
}
