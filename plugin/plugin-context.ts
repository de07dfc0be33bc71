import type { HostApi } from './host/contract.js';
import type { PluginModels } from './db/models.js';
import type { AuditTrail } from './audit/audit-trail.js';
import type { SettingsService } from './settings/settings-service.js';
import type { Templates } from './http/templates.js';
import type { Translator } from './i18n.js';

/** The plugin's services, built once in `register` and handed to every route handler. */
export interface PluginContext {
  host: HostApi;
  models: PluginModels;
  audit: AuditTrail;
  settings: SettingsService;
  templates: Templates;
  translator: Translator;
}
