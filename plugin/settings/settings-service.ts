import { UniqueConstraintError, type Sequelize } from 'sequelize';
import type { HostApi } from '../host/contract.js';
import type { PluginModels } from '../db/models.js';
import type { AuditTrail } from '../audit/audit-trail.js';

export interface PracticeSettings {
  practiceId: string;
  enabled: boolean;
  autoApprove: boolean;
  reverifyAfterMfaReset: boolean;
  version: number;
}

export interface SettingsChange {
  enabled: boolean;
  autoApprove: boolean;
  reverifyAfterMfaReset: boolean;
  /** The version the staff member's form was rendered from. */
  expectedVersion: number;
}

/** Reason a change was not saved. Each maps to a translated message. */
export type SettingsChangeRejection = 'stripeNotConfigured' | 'staleVersion';

export type SettingsChangeResult =
  | { outcome: 'saved'; settings: PracticeSettings }
  | { outcome: 'unchanged'; settings: PracticeSettings }
  | { outcome: 'rejected'; reason: SettingsChangeRejection; settings: PracticeSettings };

export interface SettingsService {
  get(practiceId: string): Promise<PracticeSettings>;
  change(practiceId: string, staffId: string, change: SettingsChange): Promise<SettingsChangeResult>;
}

export function createSettingsService(dependencies: {
  sequelize: Sequelize;
  models: PluginModels;
  audit: AuditTrail;
  stripe: HostApi['stripe'];
}): SettingsService {
  const { sequelize, models, audit, stripe } = dependencies;

  const toSettings = (row: { practiceId: string; enabled: boolean; autoApprove: boolean; reverifyAfterMfaReset: boolean; version: number }): PracticeSettings => ({
    practiceId: row.practiceId,
    enabled: Boolean(row.enabled),
    autoApprove: Boolean(row.autoApprove),
    reverifyAfterMfaReset: Boolean(row.reverifyAfterMfaReset),
    version: Number(row.version),
  });

  /** Reads the practice's settings row, creating it with the defaults (everything off) if missing. */
  const get = async (practiceId: string): Promise<PracticeSettings> => {
    const existing = await models.PracticeSettings.findByPk(practiceId);
    if (existing) {
      return toSettings(existing);
    }
    try {
      const created = await models.PracticeSettings.create({ practiceId, enabled: false, autoApprove: false, reverifyAfterMfaReset: false, version: 1, updatedByStaffId: null });
      return toSettings(created);
    } catch (error) {
      // Another request created the row first; read theirs.
      if (error instanceof UniqueConstraintError) {
        return toSettings((await models.PracticeSettings.findByPk(practiceId))!);
      }
      throw error;
    }
  };

  const change = async (practiceId: string, staffId: string, requested: SettingsChange): Promise<SettingsChangeResult> => {
    const current = await get(practiceId);
    if (current.version !== requested.expectedVersion) {
      return { outcome: 'rejected', reason: 'staleVersion', settings: current };
    }
    if (current.enabled === requested.enabled && current.autoApprove === requested.autoApprove && current.reverifyAfterMfaReset === requested.reverifyAfterMfaReset) {
      return { outcome: 'unchanged', settings: current };
    }
    if (requested.enabled && !current.enabled && (await stripe.configuration(practiceId)) === null) {
      return { outcome: 'rejected', reason: 'stripeNotConfigured', settings: current };
    }

    return sequelize.transaction(async (transaction) => {
      // The version in the WHERE clause makes the update conditional, so of two staff members
      // saving the same version at once, exactly one succeeds.
      const [updatedRows] = await models.PracticeSettings.update(
        {
          enabled: requested.enabled,
          autoApprove: requested.autoApprove,
          reverifyAfterMfaReset: requested.reverifyAfterMfaReset,
          version: current.version + 1,
          updatedByStaffId: staffId,
        },
        { where: { practiceId, version: current.version }, transaction },
      );
      if (updatedRows !== 1) {
        const latest = await models.PracticeSettings.findByPk(practiceId, { transaction });
        return { outcome: 'rejected', reason: 'staleVersion', settings: toSettings(latest!) } as const;
      }

      const details: Record<string, unknown> = {};
      if (current.enabled !== requested.enabled) {
        details.enabled = { from: current.enabled, to: requested.enabled };
      }
      if (current.autoApprove !== requested.autoApprove) {
        details.autoApprove = { from: current.autoApprove, to: requested.autoApprove };
      }
      if (current.reverifyAfterMfaReset !== requested.reverifyAfterMfaReset) {
        details.reverifyAfterMfaReset = { from: current.reverifyAfterMfaReset, to: requested.reverifyAfterMfaReset };
      }
      await audit.record({ practiceId, actor: { type: 'staff', id: staffId }, action: 'settings.changed', details }, transaction);

      return {
        outcome: 'saved',
        settings: {
          practiceId,
          enabled: requested.enabled,
          autoApprove: requested.autoApprove,
          reverifyAfterMfaReset: requested.reverifyAfterMfaReset,
          version: current.version + 1,
        },
      } as const;
    });
  };

  return { get, change };
}
