import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Agent } from 'supertest';
import { createSandbox } from '../../sandbox/app.js';
import { generateSecrets } from '../../sandbox/secrets.js';
import { createTestDatabase } from '../support/database.js';
import { silentLogger } from '../support/sandbox.js';
import { reencryptSecrets } from '../../plugin/crypto/reencrypt.js';
import {
  authenticatorCode,
  completeIdentityCheck,
  csrfTokenFrom,
  enableClinicalAccess,
  enrolAuthenticator,
  pluginOf,
  recordPath,
  requestAccess,
  signIn,
  startJourneySandbox,
  type JourneySandbox,
} from '../support/journey.js';

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

describe('adversarial: secrets at rest', function () {
  describe('start-up key check', function () {
    const cases: Array<[string, (secrets: ReturnType<typeof generateSecrets>) => void, RegExp]> = [
      ['a missing current key', (secrets) => (secrets.keyring.currentKeyId = 'absent'), /current key id "absent" has no key/],
      ['a key of the wrong length', (secrets) => (secrets.keyring.keys[secrets.keyring.currentKeyId] = randomBytes(16).toString('base64')), /is 16 bytes; AES-256/],
      ['a key of one repeated byte', (secrets) => (secrets.keyring.keys[secrets.keyring.currentKeyId] = Buffer.alloc(32, 7).toString('base64')), /repeats one byte/],
    ];
    for (const [name, weaken, message] of cases) {
      it(`refuses to start with ${name}`, async function () {
        const database = await createTestDatabase();
        const secrets = generateSecrets(['riverside', 'harbour']);
        weaken(secrets);
        let failure: Error | null = null;
        try {
          const sandbox = await createSandbox({ databaseUrl: database.url, secrets, logger: silentLogger });
          await sandbox.close();
        } catch (error) {
          failure = error as Error;
        }
        try {
          expect(failure, 'start-up error').to.be.instanceOf(Error);
          expect(failure!.message).to.match(message);
        } finally {
          await database.drop();
        }
      });
    }
  });

  describe('authenticator secrets and key rotation', function () {
    let journey: JourneySandbox;
    let otpauthUri: string;
    let recoveryCodes: string[];

    before(async function () {
      journey = await startJourneySandbox();
      await enableClinicalAccess(journey, { autoApprove: true });
      const patient = await signIn(journey, 'portal', 'declan.obrien@example.test');
      const sessionId = await requestAccess(patient);
      await completeIdentityCheck(journey, sessionId, { kind: 'verified', firstName: 'Declan', lastName: "O'Brien", dob: '1981-11-02' });
      ({ otpauthUri, recoveryCodes } = await enrolAuthenticator(journey, patient));
    });

    after(async function () {
      await journey.stop();
    });

    async function challenge(agent: Agent, code: string) {
      const page = await agent.get(`${recordPath}/`).expect(200);
      return agent.post(`${recordPath}/challenge`).type('form').send({ _csrf: csrfTokenFrom(page.text), code });
    }

    it('stores the secret only encrypted, with a key id', async function () {
      const secret = new URL(otpauthUri).searchParams.get('secret')!;
      const factor = await pluginOf(journey).models.MfaFactor.findOne({ raw: true });
      const row = JSON.stringify(factor);

      expect(row).not.to.contain(secret);
      expect(factor!.secretCiphertext.startsWith(`v1.${journey.secrets.keyring.currentKeyId}.`)).to.equal(true);
    });

    it('re-encrypts under a new key and keeps codes working', async function () {
      const oldKeyId = journey.secrets.keyring.currentKeyId;
      const newKeyId = 'rotated1';
      journey.secrets.keyring.keys[newKeyId] = randomBytes(32).toString('base64');
      journey.secrets.keyring.currentKeyId = newKeyId;
      await journey.restart();

      const report = await reencryptSecrets(pluginOf(journey).models, pluginOf(journey).host.secrets.keyring());

      expect(report).to.deep.equal({ reencrypted: 1, current: 0, skipped: 0 });
      const factor = await pluginOf(journey).models.MfaFactor.findOne();
      expect(factor!.secretCiphertext.startsWith(`v1.${newKeyId}.`)).to.equal(true);
      expect(factor!.secretCiphertext).not.to.contain(`v1.${oldKeyId}.`);

      journey.clock.advance(60_000);
      const agent = await signIn(journey, 'portal', 'declan.obrien@example.test');
      const totp = await challenge(agent, await authenticatorCode(otpauthUri, journey.clock));
      expect(totp.status, 'a code from the app after rotation').to.equal(303);
      const recovery = await challenge(await signIn(journey, 'portal', 'declan.obrien@example.test'), recoveryCodes[0]!);
      expect(recovery.status, 'a recovery code after rotation').to.equal(303);
    });

    it('finds nothing to do on a second run', async function () {
      const report = await reencryptSecrets(pluginOf(journey).models, pluginOf(journey).host.secrets.keyring());

      expect(report).to.deep.equal({ reencrypted: 0, current: 1, skipped: 0 });
    });

    it('rotates through the sandbox command', async function () {
      const folder = await mkdtemp(join(tmpdir(), 'cra-rotate-'));
      const secretsFile = join(folder, 'secrets.json');
      await writeFile(secretsFile, JSON.stringify(journey.secrets), { mode: 0o600 });
      try {
        const { stdout } = await run('npx', ['tsx', 'sandbox/cli/rotate-key.ts'], {
          cwd: projectRoot,
          // The command reads DATABASE_URL; here it names this test file's own database.
          env: { ...process.env, DATABASE_URL: journey.database.url, SANDBOX_SECRETS_FILE: secretsFile },
        });
        const rotated = JSON.parse(await readFile(secretsFile, 'utf8')) as typeof journey.secrets;

        expect(stdout).to.match(/Added key k\d{8}[0-9a-f]{6} as the current key/);
        expect(stdout).to.contain('re-encrypted 1');
        expect(Object.keys(rotated.keyring.keys)).to.have.length(3);
        expect(rotated.keyring.currentKeyId).not.to.equal(journey.secrets.keyring.currentKeyId);
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    });
  });
});
