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
import type { PluginContext } from './plugin-context.js';

export type { HostApi } from './host/contract.js';

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
export async function register(host: HostApi): Promise<PluginContext> {
  const manifest = JSON.parse(await readFile(join(pluginRoot, 'plugin.manifest.json'), 'utf8')) as ManifestFolders;
  if (!semver.satisfies(host.apiVersion, manifest.hostApi)) {
    throw new Error(`Clinical Record Access needs host API ${manifest.hostApi}, but the host offers ${host.apiVersion}.`);
  }

  const models = definePluginModels(host.database.sequelize);
  const audit = createAuditTrail({ models, clock: host.clock });
  const translator = await createTranslator(join(pluginRoot, manifest.locales), manifest.defaultLocale);
  const templates = await loadTemplates(join(pluginRoot, manifest.views));
  const settings = createSettingsService({ sequelize: host.database.sequelize, models, audit, stripe: host.stripe });

  const plugin: PluginContext = { host, models, audit, settings, templates, translator };

  const t = translator.forLocale(manifest.defaultLocale);
  host.settings.registerSection({
    parent: 'patient-portal',
    title: t(manifest.settings.section.titleKey),
    path: manifest.settings.section.path,
    permission: manifest.settings.section.permission,
  });
  host.routes.mountStaff(createStaffRouter(plugin));

  host.logger.info({ hostApi: host.apiVersion }, 'clinical record access registered');
  return plugin;
}
