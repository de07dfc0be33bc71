import { Op } from 'sequelize';
import type { Keyring } from '../host/contract.js';
import type { PluginModels } from '../db/models.js';
import { decryptSecret, encryptSecret, needsReencryption } from './secret-box.js';
import { recoveryCodesAssociatedData, secretAssociatedData } from '../mfa/mfa-service.js';

export interface ReencryptionReport {
  /** Rows whose ciphertext now uses the current key. */
  reencrypted: number;
  /** Rows already under the current key. */
  current: number;
  /** Rows that changed while being re-encrypted (a patient enrolled or reset); run again. */
  skipped: number;
}

/**
 * Re-encrypts every stored TOTP secret and pending recovery-code set under the keyring's
 * current key, while the servers keep running: every process can still decrypt with the old
 * key, and each row is replaced only if it still contains the ciphertext that was read, so a
 * concurrent enrolment is never overwritten.
 */
export async function reencryptSecrets(models: PluginModels, keyring: Keyring, batchSize = 500): Promise<ReencryptionReport> {
  const report: ReencryptionReport = { reencrypted: 0, current: 0, skipped: 0 };
  let afterId = 0;

  for (;;) {
    const factors = await models.MfaFactor.findAll({ where: { id: { [Op.gt]: afterId } }, order: [['id', 'ASC']], limit: batchSize });
    if (factors.length === 0) {
      return report;
    }

    for (const factor of factors) {
      afterId = Number(factor.id);
      const changes: Partial<{ secretCiphertext: string; pendingRecoveryCodesCiphertext: string }> = {};

      if (needsReencryption(factor.secretCiphertext, keyring)) {
        const options = { associatedData: secretAssociatedData(factor.practiceId, factor.patientId) };
        changes.secretCiphertext = encryptSecret(decryptSecret(factor.secretCiphertext, keyring, options), keyring, options);
      }
      const pending = factor.pendingRecoveryCodesCiphertext;
      if (pending && needsReencryption(pending, keyring)) {
        const options = { associatedData: recoveryCodesAssociatedData(factor.practiceId, factor.patientId) };
        changes.pendingRecoveryCodesCiphertext = encryptSecret(decryptSecret(pending, keyring, options), keyring, options);
      }
      if (Object.keys(changes).length === 0) {
        report.current += 1;
        continue;
      }

      const [updated] = await models.MfaFactor.update(changes, {
        where: { id: factor.id, secretCiphertext: factor.secretCiphertext, pendingRecoveryCodesCiphertext: pending ?? { [Op.is]: null } },
        silent: true,
      });
      if (updated === 1) {
        report.reencrypted += 1;
      } else {
        report.skipped += 1;
      }
    }
  }
}
