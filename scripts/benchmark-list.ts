/**
 * Measures the staff access list page on databases seeded by scripts/seed-scale.ts:
 *   npx tsx scripts/benchmark-list.ts --database <url> [--database <url> …] [--duration 10] [--explain]
 *
 * For each database it starts the sandbox on 127.0.0.1 on a free port and signs in as the
 * riverside practice manager. It loads the list in several cases: no filter, one status, a
 * common name prefix, that prefix with one status, a rare name, a name no request has, a date
 * of birth, and a page deep in the list. For each case it counts the SQL queries of one request, then runs autocannon (a dev
 * dependency) in a child process for a fixed time, so the load generator does not share the
 * server's event loop.
 * It prints one table for all databases, and the ratio of the median latency of the largest
 * data set of each database kind to that of the smallest.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { QueryTypes } from 'sequelize';
import { createSandbox, type Sandbox } from '../sandbox/app.js';
import { describeDatabaseUrl } from '../sandbox/database.js';
import { generateSecrets } from '../sandbox/secrets.js';
import { demoPassword, demoPractices } from '../sandbox/demo/practices.js';
import { listAccessRequests } from '../plugin/staff/access-list.js';
import type { PluginContext } from '../plugin/plugin-context.js';

const usage = `Usage: npx tsx scripts/benchmark-list.ts --database <url> [--database <url> …] [options]
  --database URL      a database seeded by scripts/seed-scale.ts; repeat to compare several
  --duration S        seconds of load per case (default 10)
  --warmup S          seconds of load per case before measuring, not recorded (default 2)
  --connections N     concurrent HTTP connections (default 4)
  --name-prefix TEXT  the common name prefix searched for (default "mar")
  --rare-name TEXT    the rare name searched for (default "dvorak")
  --unknown-name TEXT a name that no request has (default "pemberton")
  --deep-pages N      how many "next" links to follow for the deep page case (default 10)
  --rounds N          how many times each case is measured; the tables show the median (default 3)
  --explain           print the query plan of each list query
  --json FILE         also write the results to FILE as JSON`;

const LIST_PATH = '/admin/settings/patient-portal/clinical-record-access/access';
const STAFF_EMAIL = 'manager@riverside.example.test';
const PAGE_SIZES_CHECKED = [10, 50, 200];
const TIMING_SAMPLES = 7;

interface BenchmarkOptions {
  databaseUrls: string[];
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  namePrefix: string;
  rareName: string;
  unknownName: string;
  deepPages: number;
  rounds: number;
  explain: boolean;
  jsonFile: string | undefined;
}

/** One autocannon run of one case, with latencies in milliseconds. */
interface RoundResult {
  p50: number;
  p97_5: number;
  p99: number;
  requestsPerSecond: number;
  requests: number;
  /** The machine's 1-minute load average when the run started. */
  loadAverage: number;
}

interface CaseResult {
  name: string;
  path: string;
  rowsOnPage: number;
  pluginQueries: number;
  hostQueries: number;
  /** Median time of the counts query alone, and of the page query alone, in milliseconds. */
  countQueryMilliseconds: number;
  pageQueryMilliseconds: number;
  rounds: RoundResult[];
}

interface DataSetResult {
  label: string;
  dialect: string;
  databaseVersion: string;
  database: string;
  requestCount: number;
  cases: CaseResult[];
  /** Plugin queries of listAccessRequests per page size, called directly. */
  queriesByPageSize: Array<{ search: string; pageSize: number; queries: number }>;
}

/** Output of scripts/autocannon-run.ts, with latencies in milliseconds to the microsecond. */
interface AutocannonOutput {
  latency: { p50: number; p97_5: number; p99: number; mean: number; samples: number };
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** Records the SQL that Sequelize runs inside `record`, and passes it on to the sandbox's logger. */
class QueryRecorder {
  private statements: string[] | null = null;

  constructor(sandbox: Sandbox) {
    // Sequelize 6 reads options.logging on every query, but its type declarations leave
    // `options` out.
    const sequelizeOptions = (sandbox.sequelize as unknown as { options: { logging?: unknown } }).options;
    const original = sequelizeOptions.logging;
    sequelizeOptions.logging = (sql: string, ...rest: unknown[]) => {
      this.statements?.push(sql.replace(/^Executing \([^)]*\): /, '').replace(/;\s*$/, ''));
      if (typeof original === 'function') {
        (original as (sql: string, ...rest: unknown[]) => void)(sql, ...rest);
      }
    };
  }

  async record<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
    this.statements = [];
    try {
      const result = await work();
      return { result, statements: this.statements };
    } finally {
      this.statements = null;
    }
  }
}

const isPluginQuery = (sql: string) => /\bcra_/.test(sql);
// The list reads its counts per status from cra_status_counts. Before that table, it counted with COUNT().
const isCountQuery = (sql: string) => /\bcra_status_counts\b/.test(sql) || (isPluginQuery(sql) && /\bCOUNT\(/.test(sql));

/** Decodes the entities Handlebars writes in attribute values. */
function decodeHtmlAttribute(value: string): string {
  const entities: Record<string, string> = { '&amp;': '&', '&#x3D;': '=', '&#x27;': "'", '&quot;': '"', '&lt;': '<', '&gt;': '>', '&#x60;': '`' };
  return value.replace(/&(amp|#x3D|#x27|quot|lt|gt|#x60);/g, (entity) => entities[entity]!);
}

function sessionCookieOf(response: Response, previous: string | null): string | null {
  for (const header of response.headers.getSetCookie()) {
    const match = /^(sandbox\.sid=[^;]+)/.exec(header);
    if (match) {
      return match[1]!;
    }
  }
  return previous;
}

/** Signs the riverside practice manager in through the sign-in form and returns the session cookie. */
async function signIn(baseUrl: string): Promise<string> {
  const form = await fetch(`${baseUrl}/admin/sign-in`);
  const csrfToken = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  const formCookie = sessionCookieOf(form, null);
  if (!csrfToken || !formCookie) {
    throw new Error(`The sign-in form at ${baseUrl}/admin/sign-in has no _csrf field or sent no session cookie (status ${form.status}).`);
  }

  const response = await fetch(`${baseUrl}/admin/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: formCookie },
    body: new URLSearchParams({ _csrf: decodeHtmlAttribute(csrfToken), email: STAFF_EMAIL, password: demoPassword }).toString(),
  });
  if (response.status !== 303) {
    throw new Error(`Signing in as ${STAFF_EMAIL} failed with status ${response.status}; expected a 303 redirect.`);
  }
  return sessionCookieOf(response, formCookie)!;
}

async function getPage(baseUrl: string, path: string, cookie: string): Promise<string> {
  const response = await fetch(`${baseUrl}${path}`, { headers: { cookie }, redirect: 'manual' });
  const html = await response.text();
  if (response.status !== 200) {
    throw new Error(`GET ${path} returned status ${response.status}; expected 200.`);
  }
  return html;
}

function nextLinkOf(html: string): string | null {
  const match = /<a href="([^"]+)" rel="next">/.exec(html);
  return match ? decodeHtmlAttribute(match[1]!) : null;
}

const rowsIn = (html: string) => (html.match(/<tr data-request-id=/g) ?? []).length;

/**
 * Runs autocannon in a child process, through scripts/autocannon-run.ts, and returns its result
 * with latencies to the microsecond.
 */
async function runAutocannon(url: string, cookie: string, seconds: number, connections: number): Promise<AutocannonOutput> {
  const runner = fileURLToPath(new URL('./autocannon-run.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', runner, url, String(seconds), String(connections), cookie], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (exitCode !== 0) {
    throw new Error(`autocannon exited with code ${exitCode}: ${stderr.trim()}`);
  }
  return JSON.parse(stdout) as AutocannonOutput;
}

async function describeDatabase(sandbox: Sandbox): Promise<{ dialect: string; version: string }> {
  if (sandbox.sequelize.getDialect() === 'sqlite') {
    const [row] = await sandbox.sequelize.query<{ version: string }>('SELECT sqlite_version() AS version', { type: QueryTypes.SELECT });
    return { dialect: 'SQLite', version: `SQLite ${row!.version}` };
  }
  const [row] = await sandbox.sequelize.query<{ version: string }>('SELECT VERSION() AS version', { type: QueryTypes.SELECT });
  return { dialect: /mariadb/i.test(row!.version) ? 'MariaDB' : 'MySQL', version: row!.version };
}

/**
 * Runs the statements one after another TIMING_SAMPLES times and returns the median time of
 * one pass, in milliseconds. The list page runs its two queries at once, and on SQLite's single
 * connection one waits for the other, so each is timed alone here.
 */
async function timeQueries(sandbox: Sandbox, statements: string[]): Promise<number> {
  const durations: number[] = [];
  for (let sample = 0; sample < TIMING_SAMPLES; sample += 1) {
    const started = performance.now();
    for (const sql of statements) {
      await sandbox.sequelize.query(sql, { type: QueryTypes.SELECT, logging: false });
    }
    durations.push(performance.now() - started);
  }
  return median(durations);
}

async function printQueryPlans(sandbox: Sandbox, caseName: string, statements: string[]): Promise<void> {
  const sqlite = sandbox.sequelize.getDialect() === 'sqlite';
  for (const sql of statements.filter(isPluginQuery)) {
    console.log(`\n[${caseName}] ${sql}`);
    const plan = await sandbox.sequelize.query<Record<string, unknown>>(`${sqlite ? 'EXPLAIN QUERY PLAN' : 'EXPLAIN'} ${sql}`, { type: QueryTypes.SELECT });
    for (const step of plan) {
      console.log(
        sqlite
          ? `  ${String(step.detail)}`
          : `  ${step.select_type} ${step.table} type=${step.type} key=${step.key} rows=${step.rows} ${step.Extra ?? ''}`,
      );
    }
  }
}

/** One seeded database with its sandbox listening, signed in, and its cases resolved. */
interface OpenDataSet {
  result: DataSetResult;
  sandbox: Sandbox;
  server: Server;
  baseUrl: string;
  cookie: string;
  waitUntilIdle(): Promise<void>;
}

/** Tracks the requests a server is still handling, so a measurement starts with none left over. */
function trackActiveRequests(server: Server): () => Promise<void> {
  let active = 0;
  server.on('request', (_request, response) => {
    active += 1;
    response.once('close', () => (active -= 1));
  });
  return async () => {
    while (active > 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
}

/**
 * Starts the sandbox on one database, signs in, builds the cases and counts each case's
 * queries. Query counting happens here, before any load, so no other request is running.
 */
async function openDataSet(databaseUrl: string, options: BenchmarkOptions): Promise<OpenDataSet> {
  const logger = pino({ level: 'silent' });
  const sandbox = await createSandbox({ databaseUrl, secrets: generateSecrets(demoPractices.map((practice) => practice.key)), logger });
  // Express compiles the host's page layout on every request unless views are cached, which it
  // does by itself only with NODE_ENV=production. A production host caches them, so do the same.
  sandbox.app.enable('view cache');

  const plugin = sandbox.plugin as PluginContext;
  const practice = await sandbox.models.Practice.findOne({ where: { demoKey: 'riverside' } });
  const requestCount = practice ? await plugin.models.AccessRequest.count({ where: { practiceId: String(practice.id) } }) : 0;
  if (!practice || requestCount === 0) {
    await sandbox.close();
    throw new Error(`${describeDatabaseUrl(databaseUrl)} has no access requests for the riverside practice. Seed it first with npx tsx scripts/seed-scale.ts --database ${describeDatabaseUrl(databaseUrl)}.`);
  }
  const practiceId = String(practice.id);
  const { dialect, version } = await describeDatabase(sandbox);
  const label = `${dialect}, ${requestCount.toLocaleString('en-GB')} rows`;
  console.log(`== ${label} (${describeDatabaseUrl(databaseUrl)}, ${version})`);

  const server = createServer(sandbox.app);
  const waitUntilIdle = trackActiveRequests(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  try {
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const cookie = await signIn(baseUrl);

    // The first seeded request's date of birth is the same in every seed made with one --seed.
    const firstRequest = await plugin.models.AccessRequest.findOne({ where: { practiceId }, order: [['id', 'ASC']] });
    let deepPath = LIST_PATH;
    for (let page = 0; page < options.deepPages; page += 1) {
      const next = nextLinkOf(await getPage(baseUrl, deepPath, cookie));
      if (!next) {
        throw new Error(`The list in ${label} has fewer than ${options.deepPages + 1} pages; lower --deep-pages.`);
      }
      deepPath = next;
    }

    const cases = [
      { name: 'no filter', path: LIST_PATH },
      { name: 'status=pending', path: `${LIST_PATH}?status=pending` },
      { name: `name prefix "${options.namePrefix}"`, path: `${LIST_PATH}?${new URLSearchParams({ q: options.namePrefix })}` },
      { name: `status=pending and "${options.namePrefix}"`, path: `${LIST_PATH}?${new URLSearchParams({ status: 'pending', q: options.namePrefix })}` },
      { name: `rare name "${options.rareName}"`, path: `${LIST_PATH}?${new URLSearchParams({ q: options.rareName })}` },
      { name: `unknown name "${options.unknownName}"`, path: `${LIST_PATH}?${new URLSearchParams({ q: options.unknownName })}` },
      { name: `birth date ${firstRequest!.birthDate}`, path: `${LIST_PATH}?${new URLSearchParams({ q: firstRequest!.birthDate ?? '' })}` },
      { name: `page ${options.deepPages + 1} (next x${options.deepPages})`, path: deepPath },
    ];

    const recorder = new QueryRecorder(sandbox);
    const caseResults: CaseResult[] = [];
    for (const benchmarkCase of cases) {
      const { result: html, statements } = await recorder.record(() => getPage(baseUrl, benchmarkCase.path, cookie));
      if (options.explain) {
        await printQueryPlans(sandbox, `${label}, ${benchmarkCase.name}`, statements);
      }
      const pluginStatements = statements.filter(isPluginQuery);
      caseResults.push({
        name: benchmarkCase.name,
        path: benchmarkCase.path,
        rowsOnPage: rowsIn(html),
        pluginQueries: pluginStatements.length,
        hostQueries: statements.length - pluginStatements.length,
        countQueryMilliseconds: await timeQueries(sandbox, pluginStatements.filter(isCountQuery)),
        pageQueryMilliseconds: await timeQueries(sandbox, pluginStatements.filter((sql) => !isCountQuery(sql))),
        rounds: [],
      });
    }

    // The HTTP page always shows ACCESS_LIST_PAGE_SIZE rows, so the query count per page size
    // is checked on the list function itself.
    const queriesByPageSize: DataSetResult['queriesByPageSize'] = [];
    for (const search of ['', options.namePrefix]) {
      for (const pageSize of PAGE_SIZES_CHECKED) {
        const { statements } = await recorder.record(() =>
          listAccessRequests({ sequelize: sandbox.sequelize, models: plugin.models }, { practiceId, status: 'all', search, order: 'newest', cursor: null, pageSize }),
        );
        queriesByPageSize.push({ search, pageSize, queries: statements.length });
      }
    }

    return {
      result: { label, dialect, databaseVersion: version, database: describeDatabaseUrl(databaseUrl), requestCount, cases: caseResults, queriesByPageSize },
      sandbox,
      server,
      baseUrl,
      cookie,
      waitUntilIdle,
    };
  } catch (error) {
    server.closeAllConnections();
    server.close();
    await sandbox.close();
    throw error;
  }
}

async function closeDataSet(dataSet: OpenDataSet): Promise<void> {
  dataSet.server.closeAllConnections();
  await new Promise((resolve) => dataSet.server.close(resolve));
  await dataSet.sandbox.close();
}

/**
 * Loads every case of every data set in turn, round after round. Interleaving the data sets
 * spreads a slow spell of the machine over all of them instead of one.
 */
async function measure(dataSets: OpenDataSet[], options: BenchmarkOptions): Promise<void> {
  const caseCount = dataSets[0]!.result.cases.length;
  for (let round = 1; round <= options.rounds; round += 1) {
    for (let caseIndex = 0; caseIndex < caseCount; caseIndex += 1) {
      for (const dataSet of dataSets) {
        const caseResult = dataSet.result.cases[caseIndex]!;
        const url = `${dataSet.baseUrl}${caseResult.path}`;
        if (options.warmupSeconds > 0) {
          await runAutocannon(url, dataSet.cookie, options.warmupSeconds, options.connections);
          await dataSet.waitUntilIdle();
        }
        const loadAverage = loadavg()[0]!;
        const output = await runAutocannon(url, dataSet.cookie, options.durationSeconds, options.connections);
        await dataSet.waitUntilIdle();
        if (output.non2xx > 0 || output.errors > 0 || output.timeouts > 0) {
          throw new Error(`${dataSet.result.label}, ${caseResult.name}: ${output.non2xx} responses other than 2xx, ${output.errors} errors and ${output.timeouts} timeouts under load.`);
        }
        caseResult.rounds.push({
          p50: output.latency.p50,
          p97_5: output.latency.p97_5,
          p99: output.latency.p99,
          requestsPerSecond: output.requests.average,
          requests: output.requests.total,
          loadAverage,
        });
        console.log(`  round ${round}, ${dataSet.result.label}, ${caseResult.name}: p50 ${output.latency.p50.toFixed(2)} ms, ${output.requests.average.toFixed(0)} req/s, load average ${loadAverage.toFixed(1)}`);
      }
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The median over the rounds of one measure of a case. */
const medianOf = (result: CaseResult, measure: keyof RoundResult) => median(result.rounds.map((round) => round[measure]));

function printTable(headings: string[], rows: string[][]): void {
  const widths = headings.map((heading, column) => Math.max(heading.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log(line(headings));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows) {
    console.log(line(row));
  }
}

function printResults(dataSets: DataSetResult[], options: BenchmarkOptions): void {
  console.log(`\nMedian of ${options.rounds} rounds of ${options.durationSeconds} s at ${options.connections} connections; latency in milliseconds.`);
  console.log('Queries are those of one request: the plugin\'s + the host\'s (session, staff member, practice).');
  console.log(`Counts SQL and page SQL: median time in ms of each of the plugin's two queries run alone, ${TIMING_SAMPLES} times, without load.\n`);
  printTable(
    ['data set', 'case', 'rows on page', 'p50', 'p97.5', 'p99', 'req/s', 'queries', 'counts SQL', 'page SQL', 'max load avg'],
    dataSets.flatMap((dataSet) =>
      dataSet.cases.map((result) => [
        dataSet.label,
        result.name,
        String(result.rowsOnPage),
        medianOf(result, 'p50').toFixed(1),
        medianOf(result, 'p97_5').toFixed(1),
        medianOf(result, 'p99').toFixed(1),
        medianOf(result, 'requestsPerSecond').toFixed(0),
        `${result.pluginQueries} + ${result.hostQueries}`,
        result.countQueryMilliseconds.toFixed(1),
        result.pageQueryMilliseconds.toFixed(1),
        Math.max(...result.rounds.map((round) => round.loadAverage)).toFixed(1),
      ]),
    ),
  );

  console.log('\nQueries of listAccessRequests by page size:\n');
  printTable(
    ['data set', 'search', ...PAGE_SIZES_CHECKED.map((size) => `page size ${size}`)],
    dataSets.flatMap((dataSet) =>
      [...new Set(dataSet.queriesByPageSize.map((entry) => entry.search))].map((search) => [
        dataSet.label,
        search === '' ? '(none)' : search,
        ...dataSet.queriesByPageSize.filter((entry) => entry.search === search).map((entry) => String(entry.queries)),
      ]),
    ),
  );

  const ratioRows: string[][] = [];
  for (const dialect of [...new Set(dataSets.map((dataSet) => dataSet.dialect))]) {
    const sameKind = dataSets.filter((dataSet) => dataSet.dialect === dialect).sort((a, b) => a.requestCount - b.requestCount);
    const smallest = sameKind[0]!;
    const largest = sameKind[sameKind.length - 1]!;
    if (smallest === largest) {
      continue;
    }
    largest.cases.forEach((result, index) => {
      const baseline = medianOf(smallest.cases[index]!, 'p50');
      const measured = medianOf(result, 'p50');
      const ratio = measured / baseline;
      ratioRows.push([dialect, result.name, baseline.toFixed(1), measured.toFixed(1), ratio.toFixed(2), ratio <= 1.3 ? 'yes' : 'no']);
    });
  }
  if (ratioRows.length > 0) {
    console.log('\nMedian latency of the largest data set against the smallest of the same kind (target: at most 1.3):\n');
    printTable(['database', 'case', 'p50 smallest', 'p50 largest', 'ratio', 'within 1.3x'], ratioRows);
  }
}

function readWholeNumber(value: string | undefined, name: string, fallback: number, range: { min: number; max: number }): number {
  if (value === undefined) {
    return fallback;
  }
  const number = Number(value);
  if (!/^[0-9]+$/.test(value) || number < range.min || number > range.max) {
    throw new RangeError(`--${name} must be a whole number from ${range.min} to ${range.max}, but is "${value}".`);
  }
  return number;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      database: { type: 'string', multiple: true },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'name-prefix': { type: 'string' },
      'rare-name': { type: 'string' },
      'unknown-name': { type: 'string' },
      'deep-pages': { type: 'string' },
      rounds: { type: 'string' },
      explain: { type: 'boolean' },
      json: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.database || values.database.length === 0) {
    console.error(`Missing --database.\n${usage}`);
    return 2;
  }

  let options: BenchmarkOptions;
  try {
    options = {
      databaseUrls: values.database,
      durationSeconds: readWholeNumber(values.duration, 'duration', 10, { min: 1, max: 600 }),
      warmupSeconds: readWholeNumber(values.warmup, 'warmup', 2, { min: 0, max: 600 }),
      connections: readWholeNumber(values.connections, 'connections', 4, { min: 1, max: 100 }),
      namePrefix: values['name-prefix'] ?? 'mar',
      rareName: values['rare-name'] ?? 'dvorak',
      unknownName: values['unknown-name'] ?? 'pemberton',
      deepPages: readWholeNumber(values['deep-pages'], 'deep-pages', 10, { min: 0, max: 1000 }),
      rounds: readWholeNumber(values.rounds, 'rounds', 3, { min: 1, max: 100 }),
      explain: values.explain ?? false,
      jsonFile: values.json,
    };
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }

  const dataSets: OpenDataSet[] = [];
  try {
    for (const databaseUrl of options.databaseUrls) {
      dataSets.push(await openDataSet(databaseUrl, options));
    }
    await measure(dataSets, options);
  } finally {
    for (const dataSet of dataSets) {
      await closeDataSet(dataSet);
    }
  }

  const results = dataSets.map((dataSet) => dataSet.result);
  printResults(results, options);
  if (options.jsonFile) {
    await writeFile(options.jsonFile, `${JSON.stringify({ options, machine: { cpus: availableParallelism(), node: process.version }, results }, null, 2)}\n`);
  }
  return 0;
}

process.exitCode = await main();
