import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import semver from 'semver';
import type { HostApi } from './host/contract.js';
import { definePluginModels } from './db/models.js';
import { createAuditTrail } from './audit/audit-trail.js';
import { createSettingsService } from './settings/settings-service.js';
import { loadTemplates } from './http/templates.js';
import { createTranslator } from './i18n.js';
import { createStaffRouter } from './http/staff-routes.js';
import { createPatientRouter } from './http/patient-routes.js';
import type { PluginContext } from './plugin-context.js';
import { createAccessService } from './access/access-service.js';
import { createClinicalSessions, DEFAULT_CLINICAL_SESSION_LIMITS, type ClinicalSessionLimits } from './access/clinical-sessions.js';
import { createDecisions } from './access/decisions.js';
import { createAccessNotifier } from './access/notifier.js';
import { registerHostChangeListener } from './access/host-changes.js';
import { createStripeClients } from './identity/stripe-clients.js';
import { createIdentityService } from './identity/identity-service.js';
import { createMfaService } from './mfa/mfa-service.js';
import { createRecordService } from './records/record-service.js';
import { createStripeWebhookHandler } from './webhooks/stripe-webhook.js';
import { assertStrongKeyring } from './crypto/secret-box.js';

export type { HostApi } from './host/contract.js';

/** Options a host may pass to `register`; every one has a default. */
export interface PluginOptions {
  clinicalSessionLimits?: ClinicalSessionLimits;
  /** Time limit of each Stripe API request, in milliseconds, after which the request fails. Defaults to 10 000. */
  stripeTimeoutMilliseconds?: number;
}

const pluginRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface ManifestFolders {
  id: string;
  hostApi: string;
  views: string;
  locales: string;
  defaultLocale: string;
  settings: { section: { titleKey: string; path: string; permission: string } };
}

/**
 * Installs Clinical Record Access into a host: builds the services, mounts the staff and
 * portal routes and registers the settings section. The host has already run the plugin's
 * migrations listed in the manifest.
 */
export async function register(host: HostApi, options: PluginOptions = {}): Promise<PluginContext> {
  const manifest = JSON.parse(await readFile(join(pluginRoot, 'plugin.manifest.json'), 'utf8')) as ManifestFolders;
  if (!semver.satisfies(host.apiVersion, manifest.hostApi)) {
    throw new Error(`Clinical Record Access needs host API ${manifest.hostApi}, but the host offers ${host.apiVersion}.`);
  }

  // Refuse to start with a missing or weak encryption key: authenticator secrets would be
  // stored under it. The message names the problem, never the key.
  assertStrongKeyring(host.secrets.keyring());

  const models = definePluginModels(host.database.sequelize);
  const audit = createAuditTrail({ models, clock: host.clock });
  const translator = await createTranslator(join(pluginRoot, manifest.locales), manifest.defaultLocale);
  const templates = await loadTemplates(join(pluginRoot, manifest.views));
  const { sequelize } = host.database;
  const settings = createSettingsService({ sequelize, models, audit, stripe: host.stripe });
  const access = createAccessService({ sequelize, models, audit, clock: host.clock });
  const clinicalSessions = createClinicalSessions({ models, clock: host.clock, limits: options.clinicalSessionLimits ?? DEFAULT_CLINICAL_SESSION_LIMITS });
  const notifier = createAccessNotifier({ host, translator, defaultLocale: manifest.defaultLocale });
  const decisions = createDecisions({ access, clinicalSessions, notifier, audit, patients: host.patients, clock: host.clock });
  const identity = createIdentityService({
    sequelize,
    models,
    access,
    stripeClients: createStripeClients({
      stripe: host.stripe,
      ...(options.stripeTimeoutMilliseconds === undefined ? {} : { timeoutMilliseconds: options.stripeTimeoutMilliseconds }),
    }),
    host,
  });
  const mfa = createMfaService({ sequelize, models, keyring: host.secrets.keyring, clock: host.clock, audit, logger: host.logger });
  const records = createRecordService({ clinicalRecords: host.clinicalRecords, logger: host.logger });

  const plugin: PluginContext = {
    host,
    models,
    audit,
    settings,
    templates,
    translator,
    access,
    identity,
    mfa,
    clinicalSessions,
    decisions,
    notifier,
    records,
    defaultLocale: manifest.defaultLocale,
  };

  const t = translator.forLocale(manifest.defaultLocale);
  host.settings.registerSection({
    parent: 'patient-portal',
    title: t(manifest.settings.section.titleKey),
    path: manifest.settings.section.path,
    permission: manifest.settings.section.permission,
  });
  host.routes.mountStaff(createStaffRouter(plugin));
  host.routes.mountPortal(createPatientRouter(plugin));
  host.routes.handleStripeWebhooks(createStripeWebhookHandler({ models, identity, host }));
  registerHostChangeListener(plugin);

  host.logger.info({ hostApi: host.apiVersion }, 'clinical record access registered');
  return plugin;
}
