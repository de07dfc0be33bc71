import type { Logger } from 'pino';
import type { HostModels } from '../models.js';
import type { SandboxSecrets } from '../secrets.js';
import { hashPassword } from '../passwords.js';
import { parseBundle } from '../fhir/bundle.js';
import { storeParsedBundle } from '../fhir/store.js';
import { demoPassword, demoPractices, demoStaff } from './practices.js';
import { demoPatientBundle, demoPatients } from './patients.js';

/**
 * Loads the demo practices, staff, patients and records, once: a practice that already
 * exists is left as it is, so a second start changes nothing.
 */
export async function seedDemoData(models: HostModels, secrets: SandboxSecrets, logger: Logger): Promise<{ seeded: boolean }> {
  if ((await models.Practice.count()) > 0) {
    return { seeded: false };
  }
  const passwordHash = await hashPassword(demoPassword);

  const practiceIds = new Map<string, number>();
  for (const practice of demoPractices) {
    const stripe = practice.stripeConfigured ? secrets.stripe[practice.key] : undefined;
    const row = await models.Practice.create({
      demoKey: practice.key,
      name: practice.name,
      timeZone: practice.timeZone,
      locale: practice.locale,
      stripeSecretKey: stripe?.secretKey ?? null,
      stripeWebhookSigningSecret: stripe?.webhookSigningSecret ?? null,
      stripeWebhookEndpointKey: stripe?.webhookEndpointKey ?? null,
    });
    practiceIds.set(practice.key, row.id);
  }

  for (const staff of demoStaff) {
    await models.Staff.create({
      practiceId: practiceIds.get(staff.practiceKey)!,
      email: staff.email,
      displayName: staff.displayName,
      role: staff.role,
      passwordHash,
    });
  }

  for (const patient of demoPatients) {
    const parsed = parseBundle(demoPatientBundle(patient));
    await storeParsedBundle(models, practiceIds.get(patient.practiceKey)!, parsed, {
      portalLogin: patient.portalLogin,
      passwordHash,
      demoKey: patient.key,
    });
  }

  logger.info({ practices: demoPractices.length, staff: demoStaff.length, patients: demoPatients.length }, 'demo data loaded');
  return { seeded: true };
}
