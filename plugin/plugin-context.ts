import type { HostApi } from './host/contract.js';
import type { PluginModels } from './db/models.js';
import type { AuditTrail } from './audit/audit-trail.js';
import type { SettingsService } from './settings/settings-service.js';
import type { Templates } from './http/templates.js';
import type { Translator } from './i18n.js';
import type { AccessService } from './access/access-service.js';
import type { ClinicalSessions } from './access/clinical-sessions.js';
import type { Decisions } from './access/decisions.js';
import type { AccessNotifier } from './access/notifier.js';
import type { IdentityService } from './identity/identity-service.js';
import type { MfaService } from './mfa/mfa-service.js';
import type { RecordService } from './records/record-service.js';

/** The plugin's services, built once in `register` and handed to every route handler. */
export interface PluginContext {
  host: HostApi;
  models: PluginModels;
  audit: AuditTrail;
  settings: SettingsService;
  templates: Templates;
  translator: Translator;
  access: AccessService;
  identity: IdentityService;
  mfa: MfaService;
  clinicalSessions: ClinicalSessions;
  decisions: Decisions;
  notifier: AccessNotifier;
  records: RecordService;
  defaultLocale: string;
}
