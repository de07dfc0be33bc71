import { Sequelize, Transaction } from 'sequelize';
import type { Logger } from 'pino';

/**
 * Opens the sandbox's database: a SQLite file for `sqlite:` URLs (or a bare path), MySQL or
 * MariaDB for `mysql:` and `mariadb:` URLs. Dates of birth are DATEONLY columns, so the
 * connection's time zone never shifts them; UTC keeps timestamps comparable across processes.
 */
export function openDatabase(url: string, logger: Logger): Sequelize {
  const sqlLogger = (sql: string) => logger.trace({ sql: redactSqlLiterals(sql) }, 'sql');

  if (url.startsWith('mysql:') || url.startsWith('mariadb:')) {
    const mysqlUrl = url.replace(/^mariadb:/, 'mysql:');
    return new Sequelize(mysqlUrl, {
      dialect: 'mysql',
      logging: sqlLogger,
      timezone: '+00:00',
      pool: { max: 10, min: 0, idle: 10_000 },
      dialectOptions: { dateStrings: false, supportBigNumbers: true },
    });
  }

  const storage = url.startsWith('sqlite:') ? url.slice('sqlite:'.length).replace(/^\/\//, '') : url;
  if (storage === '') {
    throw new Error(`Invalid database URL "${url}": give a SQLite file path such as sqlite:.sandbox/sandbox.sqlite.`);
  }
  const sequelize = new Sequelize({
    dialect: 'sqlite',
    storage,
    logging: sqlLogger,
    pool: { max: 1, min: 0, idle: 10_000 },
    // IMMEDIATE takes the write lock when the transaction starts, so two transactions cannot
    // deadlock while upgrading read locks. A statement that finds the lock busy is retried
    // up to 5 times (the `retry` option below).
    transactionType: Transaction.TYPES.IMMEDIATE,
    retry: { max: 5, match: [/SQLITE_BUSY/] },
  });
  serialiseSqliteTransactions(sequelize);
  return sequelize;
}

/**
 * Runs this process's managed SQLite transactions one at a time. Sequelize 6 opens a new
 * SQLite connection for each transaction, so concurrent transactions would otherwise wait on
 * each other's file lock inside libuv's small thread pool and fail with SQLITE_BUSY. SQLite
 * has a single writer anyway, so the queue costs nothing in throughput.
 * NOTE: a managed transaction that starts another one, instead of passing its own on, would
 * wait for itself. Every caller in this project passes the outer transaction on.
 */
function serialiseSqliteTransactions(sequelize: Sequelize): void {
  const original = sequelize.transaction.bind(sequelize) as (...parameters: unknown[]) => Promise<unknown>;
  let queue: Promise<unknown> = Promise.resolve();

  const serialised = (...parameters: unknown[]) => {
    const managed = parameters.some((parameter) => typeof parameter === 'function');
    if (!managed) {
      return original(...parameters);
    }
    const run = () => original(...parameters);
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  };
  sequelize.transaction = serialised as typeof sequelize.transaction;
}

/** Sets per-database SQLite options: write-ahead logging lets reads go on during a write. */
export async function prepareDatabase(sequelize: Sequelize): Promise<void> {
  if (sequelize.getDialect() === 'sqlite') {
    await sequelize.query('PRAGMA journal_mode = WAL');
  }
}

/**
 * Replaces each quoted literal of a SQL statement with `?` before the statement is logged.
 * Sequelize writes WHERE values into the SQL text, and those carry patients' names and dates
 * of birth, session ids and Stripe keys. Numbers, such as row ids, stay.
 */
export function redactSqlLiterals(sql: string): string {
  // A literal ends at a quote that is neither escaped with a backslash (MySQL) nor doubled (SQLite).
  return sql.replace(/'(?:[^'\\]|\\.|'')*'/gs, '?');
}

/** Describes the database for people, without the password. */
export function describeDatabaseUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:****@');
}
