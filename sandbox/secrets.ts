import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Secrets the sandbox creates on first start and keeps in a git-ignored file. */
export interface SandboxSecrets {
  sessionSecret: string;
  /** The plugin's keyring: key id → 32-byte key, base64. */
  keyring: { currentKeyId: string; keys: Record<string, string> };
  /** Per demo practice: the emulator account's secret key and webhook signing secret. */
  stripe: Record<string, { secretKey: string; webhookSigningSecret: string; webhookEndpointKey: string }>;
}

export function generateSecrets(practiceKeys: string[]): SandboxSecrets {
  const keyId = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`;
  const stripe: SandboxSecrets['stripe'] = {};
  for (const practiceKey of practiceKeys) {
    stripe[practiceKey] = {
      secretKey: `sk_test_${randomBytes(24).toString('base64url')}`,
      webhookSigningSecret: `whsec_${randomBytes(24).toString('base64url')}`,
      webhookEndpointKey: randomBytes(18).toString('base64url'),
    };
  }
  return {
    sessionSecret: randomBytes(32).toString('base64url'),
    keyring: { currentKeyId: keyId, keys: { [keyId]: randomBytes(32).toString('base64') } },
    stripe,
  };
}

/**
 * Reads the secrets file, creating it with fresh secrets on first start. The file is written
 * with mode 0600 because it contains the keys that protect patients' authenticator secrets.
 */
export async function loadOrCreateSecrets(path: string, practiceKeys: string[]): Promise<{ secrets: SandboxSecrets; created: boolean }> {
  try {
    const secrets = JSON.parse(await readFile(path, 'utf8')) as SandboxSecrets;
    return { secrets, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`Cannot read the sandbox secrets file ${path}: ${(error as Error).message}. Fix or delete it (deleting makes new keys, and existing authenticator enrolments stop working).`);
    }
  }

  const secrets = generateSecrets(practiceKeys);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' });
  return { secrets, created: true };
}
