/**
 * Seeds a sandbox database with many access requests for the riverside demo practice, so the
 * staff list can be measured at scale (scripts/benchmark-list.ts):
 *   npx tsx scripts/seed-scale.ts --database <sqlite:file | mysql://…/cra_bench_…> [--patients 100000]
 *
 * It runs the host's and the plugin's migrations and loads the demo data first, like
 * `npm start`. Then it writes one request per generated patient, in every status, with the
 * request's rows in cra_request_name_tokens and cra_request_name_prefixes. It writes no host patients (sandbox_patients),
 * because the list page reads only the plugin's tables. Opening one of these requests from
 * the list therefore shows a patient the host does not know.
 *
 * The rows come from a seeded pseudo-random generator and one fixed time window, so the first
 * 1,000 requests of a 100,000-patient seed are the same as those of a 1,000-patient seed.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import mysql from 'mysql2/promise';
import type { CreationAttributes } from 'sequelize';
import { createSandbox } from '../sandbox/app.js';
import { describeDatabaseUrl } from '../sandbox/database.js';
import { generateSecrets } from '../sandbox/secrets.js';
import { seedDemoData } from '../sandbox/demo/seed.js';
import { demoPractices } from '../sandbox/demo/practices.js';
import { rebuildStatusCounts } from '../plugin/access/access-service.js';
import { searchNameOf, searchPrefixesOf, searchTokensOf } from '../plugin/access/search-index.js';
import type { AccessRequestRow, AccessStatus, RequestNamePrefixRow, RequestNameTokenRow } from '../plugin/db/models.js';
import type { PluginContext } from '../plugin/plugin-context.js';

const usage = 'Usage: npx tsx scripts/seed-scale.ts --database <sqlite:file | mysql://user@host:port/database> [--patients 100000] [--batch-size 2000] [--seed 1]';

const MAX_PATIENTS = 2_000_000;
const MAX_BATCH_SIZE = 10_000;

/** Last change times fall in the four years before this instant, whatever the seed's size. */
const WINDOW_END = Date.parse('2026-12-01T00:00:00Z');
const WINDOW_LENGTH_MS = 4 * 365 * 24 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Share of requests in each status, an estimate of a practice some years after switching the
 * plugin on: most requests approved, a long tail of patients who stopped partway.
 */
const STATUS_SHARES: ReadonlyArray<readonly [AccessStatus, number]> = [
  ['approved', 0.55],
  ['identity_pending', 0.15],
  ['mfa_pending', 0.09],
  ['identity_failed', 0.06],
  ['pending', 0.05],
  ['revoked', 0.04],
  ['denied', 0.03],
  ['identity_mismatch', 0.03],
];

// Stripe Identity error codes and name-match reasons the plugin stores as a status reason.
const FAILURE_CODES = ['document_expired', 'document_unverified_other', 'selfie_face_mismatch', 'consent_declined', 'abandoned', 'canceled', 'under_supported_age'];
const MISMATCH_REASONS = ['name', 'birthDate', 'missingOutputs'];
const DENIAL_REASONS = ['Record contains third-party information that needs review first.', 'Patient asked for access on behalf of someone else.', 'Identity document did not match the registered address.'];
const REVOCATION_REASONS = ['Patient asked for access to be withdrawn.', 'Safeguarding concern raised by the care team.', 'Device reported lost or stolen.'];

// Names are drawn with a skew towards the start of each list, so a few are common (as
// "Smith" or "Mohammed" are) and most are rare.
const GIVEN_NAMES = [
  'Mohammed', 'Olivia', 'James', 'Amelia', 'Oliver', 'Isla', 'Jack', 'Ava', 'Noah', 'Mia',
  'Harry', 'Sophia', 'George', 'Grace', 'Leo', 'Lily', 'Arthur', 'Freya', 'Muhammad', 'Emily',
  'Mary', 'Margaret', 'Martin', 'Mark', 'Maria', 'David', 'Sarah', 'John', 'Elizabeth', 'Thomas',
  'Zoë', 'Chloé', 'José', 'Siobhán', 'Seán', 'Aoife', 'Niamh', 'Ciarán', 'Léa', 'Renée',
  'Łukasz', 'Agnieszka', 'Małgorzata', 'Jürgen', 'Søren', 'Åsa', 'Björn', 'Ines', 'Joaquín', 'Tomás',
  'Priya', 'Aarav', 'Ananya', 'Rohan', 'Fatima', 'Aisha', 'Omar', 'Yusuf', 'Chinedu', 'Ngozi',
  'Oluwaseun', 'Kwame', 'Abena', 'Wei', 'Mei', 'Hiroshi', 'Yuki', 'Minh', 'Thảo', 'Anh',
  'Jean-Luc', 'Mary-Jane', 'Anne-Marie', 'Jo', 'Al', 'Bo', 'Ed', 'Dáithí', 'Eoghan', 'Ffion',
  'Rhys', 'Gwenllian', 'Dafydd', 'Catrin', 'Mairéad', 'Ruairí', 'Zsófia', 'Dóra', 'Ülkü', 'Çağla',
];

const FAMILY_NAMES = [
  'Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Robinson',
  'Wright', 'Thompson', 'Evans', 'Walker', 'White', 'Roberts', 'Green', 'Hall', 'Wood', 'Jackson',
  'Khan', 'Ali', 'Hussain', 'Begum', 'Ahmed', 'Singh', 'Kaur', 'Shah', 'Sharma', 'Das',
  'Marsh', 'Martin', 'Marshall', 'Mason', 'Smithson', 'Taylor-Jones', 'Smith-Barnes', 'Lloyd-Williams', 'Ap Rhys', 'Ó Súilleabháin',
  "O'Connor", "O'Brien", "O'Neill", "D'Souza", "D'Arcy", "N'Diaye", 'McAllister', 'MacDonald', 'Fitzgerald', 'Nic Giolla Phádraig',
  'Müller', 'Schröder', 'Fernández', 'García', 'Núñez', 'Łukaszewicz', 'Wróblewski', 'Kowalczyk', 'Dvořák', 'Novák',
  'Nguyễn', 'Trần', 'Lê', 'Phạm', 'Wang', 'Li', 'Zhang', 'Chen', 'Tanaka', 'Satō',
  'Okafor', 'Adeyemi', 'Mensah', 'Owusu', 'Abara', 'Eze', 'Ndlovu', 'Dlamini', 'Haile', 'Tesfaye',
  'Øvergaard', 'Ångström', 'Löfgren', 'Ó Briain', 'Ní Bhriain', 'de la Cruz', 'van der Berg', 'von Essen', 'Le Roux', 'St. John',
];

interface SeedOptions {
  databaseUrl: string;
  patients: number;
  batchSize: number;
  seed: number;
}

/** Returns Mulberry32, a small seeded 32-bit generator. It suits test data, never keys. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function pickSkewed<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(items.length * random() ** 2)]!;
}

function pickUniform<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(items.length * random())]!;
}

function pickStatus(random: () => number): AccessStatus {
  let remaining = random();
  for (const [status, share] of STATUS_SHARES) {
    remaining -= share;
    if (remaining < 0) {
      return status;
    }
  }
  return STATUS_SHARES[0]![0];
}

/** Dates of birth for ages 0 to 100 on the window's end date, as YYYY-MM-DD. */
function birthDateOf(random: () => number): string {
  const ageDays = Math.floor(random() * 100 * 365.25);
  return new Date(WINDOW_END - ageDays * DAY_MS).toISOString().slice(0, 10);
}

function generateName(random: () => number): { givenNames: string[]; familyName: string } {
  const givenNames = [pickSkewed(random, GIVEN_NAMES)];
  if (random() < 0.2) {
    givenNames.push(pickSkewed(random, GIVEN_NAMES));
  }
  let familyName = pickSkewed(random, FAMILY_NAMES);
  if (random() < 0.05) {
    familyName = `${familyName}-${pickSkewed(random, FAMILY_NAMES)}`;
  }
  return { givenNames, familyName };
}

type RequestAttributes = CreationAttributes<AccessRequestRow> & { createdAt: Date; updatedAt: Date };

/**
 * Builds one request and its rows in the search index. Every column a real request in that status would
 * have is set; the verification ids stay null because no verification rows are written.
 */
function generateRequest(
  random: () => number,
  context: { id: number; practiceId: string; patientId: string; deciderStaffId: string },
): { request: RequestAttributes; tokens: Array<CreationAttributes<RequestNameTokenRow>>; prefixes: Array<CreationAttributes<RequestNamePrefixRow>> } {
  const name = generateName(random);
  const searchName = searchNameOf(name);
  const status = pickStatus(random);

  const lastChangedAt = new Date(WINDOW_END - Math.floor(random() * WINDOW_LENGTH_MS));
  const createdAt = new Date(lastChangedAt.getTime() - Math.floor(random() * 180 * DAY_MS));
  const verifiedAt = new Date(createdAt.getTime() + Math.floor(random() * (lastChangedAt.getTime() - createdAt.getTime())));

  const identityVerified = ['mfa_pending', 'pending', 'approved', 'denied', 'revoked'].includes(status);
  const decided = ['approved', 'denied', 'revoked'].includes(status);
  let identityMethod: RequestAttributes['identityMethod'] = null;
  if (identityVerified) {
    identityMethod = random() < 0.9 ? 'stripe_identity' : 'in_person';
  }
  let statusReason: string | null = null;
  if (status === 'identity_failed') {
    statusReason = pickUniform(random, FAILURE_CODES);
  } else if (status === 'identity_mismatch') {
    statusReason = pickUniform(random, MISMATCH_REASONS);
  } else if (status === 'identity_pending' && random() < 0.05) {
    statusReason = 'mfaReset';
  }
  let decisionReason: string | null = null;
  if (status === 'denied') {
    decisionReason = pickUniform(random, DENIAL_REASONS);
  } else if (status === 'revoked') {
    decisionReason = pickUniform(random, REVOCATION_REASONS);
  }

  const request: RequestAttributes = {
    id: context.id,
    practiceId: context.practiceId,
    viewerPatientId: context.patientId,
    subjectPatientId: context.patientId,
    status,
    version: status === 'identity_pending' ? 1 : 2 + Math.floor(random() * 5),
    identityMethod,
    identityVerifiedAt: identityVerified ? verifiedAt : null,
    currentVerificationId: null,
    statusReason,
    decisionReason,
    decidedByStaffId: decided ? context.deciderStaffId : null,
    decidedAt: decided ? lastChangedAt : null,
    displayName: [...name.givenNames, name.familyName].join(' ').slice(0, 400),
    searchName,
    birthDate: birthDateOf(random),
    detailsChangedInHost: random() < 0.02,
    lastChangedAt,
    createdAt,
    updatedAt: lastChangedAt,
  };
  const words = searchTokensOf(name);
  const tokens = words.map((token) => ({ practiceId: context.practiceId, requestId: context.id, token }));
  const prefixes = searchPrefixesOf(words).map((prefix) => ({ requestId: context.id, prefix, practiceId: context.practiceId, status, lastChangedAt }));
  return { request, tokens, prefixes };
}

/** Creates the MySQL or MariaDB database named in the URL if it does not exist yet. */
async function ensureServerDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl.replace(/^mariadb:/, 'mysql:'));
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) {
    throw new Error(`Invalid database name "${name}" in ${describeDatabaseUrl(databaseUrl)}: use letters, digits and underscores, such as cra_bench_100k.`);
  }
  const connection = await mysql.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  });
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await connection.end();
  }
}

async function seed(options: SeedOptions): Promise<number> {
  const isServer = /^(mysql|mariadb):/.test(options.databaseUrl);
  if (isServer) {
    await ensureServerDatabase(options.databaseUrl);
  }

  const logger = pino({ level: 'warn' });
  const secrets = generateSecrets(demoPractices.map((practice) => practice.key));
  const sandbox = await createSandbox({ databaseUrl: options.databaseUrl, secrets, logger });
  try {
    await seedDemoData(sandbox.models, secrets, logger);
    const practice = await sandbox.models.Practice.findOne({ where: { demoKey: 'riverside' } });
    const manager = await sandbox.models.Staff.findOne({ where: { email: 'manager@riverside.example.test' } });
    if (!practice || !manager) {
      console.error(`${describeDatabaseUrl(options.databaseUrl)} has no riverside demo practice or manager. Seed a new database instead.`);
      return 1;
    }
    const practiceId = String(practice.id);
    const { models } = sandbox.plugin as PluginContext;

    const existing = await models.AccessRequest.count({ where: { practiceId } });
    if (existing > 0) {
      console.error(`${describeDatabaseUrl(options.databaseUrl)} already has ${existing} access requests for ${practice.name}. Seed a new database (delete the SQLite file or drop the MariaDB database first).`);
      return 1;
    }

    // Ids are set here, so each token row can name its request without reading the ids back.
    const firstId = Number((await models.AccessRequest.max('id')) ?? 0) + 1;
    // Host patient ids above any the demo uses, so they never collide with a real demo patient.
    const firstPatientId = 1_000_000;
    const random = seededRandom(options.seed);
    const started = performance.now();

    for (let offset = 0; offset < options.patients; offset += options.batchSize) {
      const requests: RequestAttributes[] = [];
      const tokens: Array<CreationAttributes<RequestNameTokenRow>> = [];
      const prefixes: Array<CreationAttributes<RequestNamePrefixRow>> = [];
      const batchEnd = Math.min(offset + options.batchSize, options.patients);
      for (let index = offset; index < batchEnd; index += 1) {
        const generated = generateRequest(random, {
          id: firstId + index,
          practiceId,
          patientId: String(firstPatientId + index),
          deciderStaffId: String(manager.id),
        });
        requests.push(generated.request);
        tokens.push(...generated.tokens);
        prefixes.push(...generated.prefixes);
      }

      await sandbox.sequelize.transaction(async (transaction) => {
        await models.AccessRequest.bulkCreate(requests, { transaction });
        await models.RequestNameToken.bulkCreate(tokens, { transaction });
        await models.RequestNamePrefix.bulkCreate(prefixes, { transaction });
      });
      if (batchEnd % 20_000 === 0 || batchEnd === options.patients) {
        console.log(`  ${batchEnd} of ${options.patients} requests written`);
      }
    }

    const seconds = (performance.now() - started) / 1000;
    // The rows went in around the access service, so the counts per status are rebuilt.
    await rebuildStatusCounts(models, practiceId);
    const tokenCount = await models.RequestNameToken.count({ where: { practiceId } });
    const prefixCount = await models.RequestNamePrefix.count({ where: { practiceId } });
    console.log(`Seeded ${options.patients} access requests, ${tokenCount} name tokens and ${prefixCount} name prefixes for ${practice.name} (practice ${practiceId}) in ${describeDatabaseUrl(options.databaseUrl)}, in ${seconds.toFixed(1)} s.`);
    return 0;
  } finally {
    await sandbox.close();
  }
}

function readWholeNumber(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) {
    return fallback;
  }
  const number = Number(value);
  if (!/^[0-9]+$/.test(value) || number < 1 || number > max) {
    throw new RangeError(`--${name} must be a whole number from 1 to ${max}, but is "${value}".`);
  }
  return number;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      database: { type: 'string' },
      patients: { type: 'string' },
      'batch-size': { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.database) {
    console.error(`Missing --database.\n${usage}`);
    return 2;
  }

  let options: SeedOptions;
  try {
    options = {
      databaseUrl: values.database,
      patients: readWholeNumber(values.patients, 'patients', 100_000, MAX_PATIENTS),
      batchSize: readWholeNumber(values['batch-size'], 'batch-size', 2_000, MAX_BATCH_SIZE),
      seed: readWholeNumber(values.seed, 'seed', 1, 2 ** 32 - 1),
    };
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  return seed(options);
}

process.exitCode = await main();
