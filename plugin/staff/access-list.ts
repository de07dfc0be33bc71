import { IndexHints, literal, Op, QueryTypes, type Sequelize, type WhereOptions } from 'sequelize';
import type { AccessRequestRow, AccessStatus, PluginModels } from '../db/models.js';
import { ACCESS_STATUSES } from '../access/access-service.js';
import { nameTokensOf, SEARCH_PREFIX_LENGTH, searchNameOf, searchPrefixOf } from '../access/search-index.js';

export { ACCESS_STATUSES };

export const ACCESS_LIST_PAGE_SIZE = 50;

/** Most words a name search may have. The list page rejects a search with more. */
export const MAX_SEARCH_WORDS = 8;

/** Latest time a cursor may name: the end of the year 9999, the last one both databases store. */
const LATEST_CURSOR_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Returns the words a name search looks up: the folded words of the text typed. */
export function searchWordsOf(search: string): string[] {
  return nameTokensOf(searchNameOf({ givenNames: [], familyName: search }));
}

/** Position in the list: the last change time and id of a row, which together are unique. */
export interface ListCursor {
  lastChangedAt: Date;
  id: number;
  direction: 'after' | 'before';
}

export interface AccessListQuery {
  practiceId: string;
  status: AccessStatus | 'all';
  /** A name (any of its words, as prefixes) or a date of birth (YYYY-MM-DD or DD/MM/YYYY). */
  search: string;
  order: 'newest' | 'oldest';
  cursor: ListCursor | null;
  pageSize?: number;
}

/** Columns of a request that the list shows and pages by. Reading only these keeps a page of 50 rows cheap. */
const LIST_COLUMNS = ['id', 'displayName', 'birthDate', 'status', 'statusReason', 'detailsChangedInHost', 'lastChangedAt', 'version'] as const;

/**
 * A request as the list shows it. To offer approval the list needs only whether the identity is
 * verified, so it reads a flag in place of the time, which is one date fewer to parse per row.
 */
export type AccessListRow = Pick<AccessRequestRow, (typeof LIST_COLUMNS)[number]> & { identityVerified: boolean };

/** SQL of the verified flag, 1 or 0 on SQLite, MySQL and MariaDB alike. */
const IDENTITY_VERIFIED_SQL = 'identity_verified_at IS NOT NULL';

/** A list row as the database returns it without a model: SQLite gives dates as text and flags as 0 or 1. */
type StoredListRow = {
  [Column in keyof AccessListRow]: AccessListRow[Column] | string | number | null;
};

/** Returns a stored date as a Date: MySQL and MariaDB give a Date, SQLite the text Sequelize wrote. */
function dateOf(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

/**
 * Turns a stored row into a list row. The list reads plain rows instead of model instances,
 * because building 50 instances cost more than the rest of the query. SQLite dates are parsed
 * as Sequelize parses them, and MySQL and MariaDB dates arrive as Date objects already.
 */
function toListRow(stored: StoredListRow): AccessListRow {
  return {
    id: Number(stored.id),
    displayName: String(stored.displayName),
    birthDate: stored.birthDate === null ? null : String(stored.birthDate),
    status: stored.status as AccessListRow['status'],
    statusReason: stored.statusReason === null ? null : String(stored.statusReason),
    detailsChangedInHost: Boolean(Number(stored.detailsChangedInHost)),
    lastChangedAt: dateOf(stored.lastChangedAt),
    version: Number(stored.version),
    identityVerified: Boolean(Number(stored.identityVerified)),
  };
}

export interface AccessListPage {
  rows: AccessListRow[];
  counts: Record<AccessStatus | 'all', number>;
  /** Cursor of the page after this one, or null on the last page. */
  next: ListCursor | null;
  /** Cursor of the page before this one, or null on the first page. */
  previous: ListCursor | null;
}

/** Parses a date of birth typed as YYYY-MM-DD or DD/MM/YYYY into YYYY-MM-DD, or null. */
export function parseSearchDate(input: string): string | null {
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(input);
  const british = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$/.exec(input);
  const [year, month, day] = iso ? [iso[1], iso[2], iso[3]] : british ? [british[3], british[2], british[1]] : [];
  if (!year || !month || !day) {
    return null;
  }
  const monthNumber = Number(month);
  const dayNumber = Number(day);
  if (monthNumber < 1 || monthNumber > 12 || dayNumber < 1 || dayNumber > 31) {
    return null;
  }
  return `${year}-${String(monthNumber).padStart(2, '0')}-${String(dayNumber).padStart(2, '0')}`;
}

export function encodeCursor(cursor: ListCursor): string {
  return `${cursor.direction === 'after' ? 'a' : 'b'}${cursor.lastChangedAt.getTime()}.${cursor.id}`;
}

export function decodeCursor(value: unknown): ListCursor | null {
  const match = typeof value === 'string' ? /^([ab])(\d{1,15})\.(\d{1,15})$/.exec(value) : null;
  if (!match || Number(match[2]) > LATEST_CURSOR_TIME) {
    return null;
  }
  return { direction: match[1] === 'a' ? 'after' : 'before', lastChangedAt: new Date(Number(match[2])), id: Number(match[3]) };
}

/**
 * Most prefix rows counted for each word of a search with several words. The word with the
 * fewest rows leads the search, so a page reads at most this many prefix rows whenever one of its
 * words is rarer than that.
 */
export const LEADING_WORD_COUNT_LIMIT = 2500;

/**
 * Returns the word of a search whose prefix rows the page reads in order: the one with the
 * fewest rows, counted up to LEADING_WORD_COUNT_LIMIT, and of those the longest. A search with one
 * word runs no query here; one with several runs one query that reads at most
 * LEADING_WORD_COUNT_LIMIT index entries per word.
 */
async function leadingWordOf(sequelize: Sequelize, query: AccessListQuery, words: readonly string[]): Promise<string> {
  const byLength = [...words].sort((left, right) => [...right].length - [...left].length);
  if (byLength.length === 1) {
    return byLength[0]!;
  }
  const replacements: Record<string, unknown> = { practiceId: query.practiceId, limit: LEADING_WORD_COUNT_LIMIT };
  const status = query.status === 'all' ? '' : ' AND status = :status';
  if (query.status !== 'all') {
    replacements.status = query.status;
  }
  const counts = byLength.map((word, index) => {
    replacements[`prefix${index}`] = searchPrefixOf(word);
    return `(SELECT COUNT(*) FROM (SELECT 1 AS found FROM cra_request_name_prefixes WHERE practice_id = :practiceId AND prefix = :prefix${index}${status} LIMIT :limit) AS c${index}) AS n${index}`;
  });
  const [row] = await sequelize.query<Record<string, number | string>>(`SELECT ${counts.join(', ')}`, { replacements, type: QueryTypes.SELECT });
  let leading = 0;
  byLength.forEach((_word, index) => {
    if (Number(row![`n${index}`]) < Number(row![`n${leading}`])) {
      leading = index;
    }
  });
  return byLength[leading]!;
}

/**
 * Reads a page of requests whose name has a word starting with each of `words`. The prefix
 * rows of the leading word (see leadingWordOf) are read in list order, through an index on
 * (practice, prefix, [status,] last change, id). The other words are checked for each of them,
 * and the query stops at the end of the page.
 */
async function readNameSearchPage(
  dependencies: { sequelize: Sequelize; models: PluginModels },
  query: AccessListQuery,
  words: readonly string[],
  descending: boolean,
  limit: number,
): Promise<AccessListRow[]> {
  const { sequelize } = dependencies;

  // NOTE: rows that lack another word, or the rest of a word over 20 characters, are read and
  // skipped. When every word has over LEADING_WORD_COUNT_LIMIT prefix rows but few requests have
  // them all, the page still reads many rows before it is full.
  const leading = await leadingWordOf(sequelize, query, words);
  const others = words.filter((word) => word !== leading);
  const replacements: Record<string, unknown> = { practiceId: query.practiceId, leading: searchPrefixOf(leading), limit };
  const conditions = ['p.practice_id = :practiceId', 'p.prefix = :leading', 'r.practice_id = :practiceId'];

  if (query.status !== 'all') {
    // The request's own status is checked too, so a prefix row that fell behind can hide a
    // request from the filter but never show it under a status it does not have.
    conditions.push('p.status = :status', 'r.status = :status');
    replacements.status = query.status;
  }

  others.forEach((word, index) => {
    conditions.push(`EXISTS (SELECT 1 FROM cra_request_name_prefixes o${index} WHERE o${index}.request_id = p.request_id AND o${index}.prefix = :other${index})`);
    replacements[`other${index}`] = searchPrefixOf(word);
  });

  const binaryCollation = sequelize.getDialect() === 'mysql' || sequelize.getDialect() === 'mariadb';
  words
    .filter((word) => [...word].length > SEARCH_PREFIX_LENGTH)
    .forEach((word, index) => {
      // '!' escapes LIKE's wildcards because a backslash is read differently by MySQL and SQLite.
      // The token column has the table's case-insensitive collation on MySQL and MariaDB, which
      // calls letters such as ß and s, or any two emoji, equal. Both sides are folded already.
      const token = binaryCollation ? `t${index}.token COLLATE utf8mb4_bin` : `t${index}.token`;
      conditions.push(`EXISTS (SELECT 1 FROM cra_request_name_tokens t${index} WHERE t${index}.request_id = p.request_id AND ${token} LIKE :whole${index} ESCAPE '!')`);
      replacements[`whole${index}`] = `${word.replace(/[!%_]/g, (character) => `!${character}`)}%`;
    });

  if (query.cursor) {
    const comparison = descending ? '<' : '>';
    conditions.push(`(p.last_changed_at ${comparison} :cursorChangedAt OR (p.last_changed_at = :cursorChangedAt AND p.request_id ${comparison} :cursorId))`);
    replacements.cursorChangedAt = query.cursor.lastChangedAt;
    replacements.cursorId = query.cursor.id;
  }

  const direction = descending ? 'DESC' : 'ASC';
  const rows = await sequelize.query<StoredListRow>(
    `SELECT r.id AS id, r.display_name AS displayName, r.birth_date AS birthDate, r.status AS status,
            r.status_reason AS statusReason, r.details_changed_in_host AS detailsChangedInHost,
            r.last_changed_at AS lastChangedAt, r.version AS version, (r.${IDENTITY_VERIFIED_SQL}) AS identityVerified
       FROM cra_request_name_prefixes p JOIN cra_access_requests r ON r.id = p.request_id
      WHERE ${conditions.join(' AND ')}
      ORDER BY p.last_changed_at ${direction}, p.request_id ${direction}
      LIMIT :limit`,
    { replacements, type: QueryTypes.SELECT },
  );
  return rows.map(toListRow);
}

/**
 * Reads one page of the staff list with two queries, whatever the page size. The counts per
 * status come from their own table. The page comes through an index that contains the filter
 * and the order, (practice, [status | birth date | name prefix,] last change, id). Paging is by
 * position (keyset), and a page is read in order up to its end. A page deep in the list, or of
 * a long list, therefore costs about what the first page of a short list does (for name
 * searches, see readNameSearchPage).
 */
export async function listAccessRequests(dependencies: { sequelize: Sequelize; models: PluginModels }, query: AccessListQuery): Promise<AccessListPage> {
  const { models } = dependencies;
  const pageSize = query.pageSize ?? ACCESS_LIST_PAGE_SIZE;

  const search = query.search.trim();
  const searchDate = parseSearchDate(search);
  const words = searchDate || search === '' ? [] : searchWordsOf(search).slice(0, MAX_SEARCH_WORDS);

  // Newest first reads the index backwards; a "before" cursor reads the other way and the
  // page is reversed afterwards.
  const descending = (query.order === 'newest') !== (query.cursor?.direction === 'before');

  const [countRows, pageRows] = await Promise.all([
    // The counts come from a table the access service keeps in step with every status change,
    // so they cost 8 rows however many requests the practice has.
    models.StatusCount.findAll({ where: { practiceId: query.practiceId }, raw: true }),
    words.length > 0
      ? readNameSearchPage(dependencies, query, words, descending, pageSize + 1)
      : readPage(dependencies, query, searchDate, descending, pageSize + 1),
  ]);

  const counts = Object.fromEntries([...ACCESS_STATUSES.map((status) => [status, 0]), ['all', 0]]) as Record<AccessStatus | 'all', number>;
  for (const row of countRows) {
    counts[row.status] = Number(row.total);
    counts.all += Number(row.total);
  }

  const hasMore = pageRows.length > pageSize;
  let rows = pageRows.slice(0, pageSize);
  if (query.cursor?.direction === 'before') {
    rows = rows.reverse();
  }

  const first = rows[0];
  const last = rows[rows.length - 1];
  const movingBack = query.cursor?.direction === 'before';
  const next = last && (movingBack || hasMore) ? { lastChangedAt: last.lastChangedAt, id: Number(last.id), direction: 'after' as const } : null;
  const previous = first && query.cursor && (!movingBack || hasMore) ? { lastChangedAt: first.lastChangedAt, id: Number(first.id), direction: 'before' as const } : null;
  return { rows, counts, next, previous };
}

/** Reads a page of the list with no search, or with a date of birth. */
async function readPage(
  dependencies: { models: PluginModels },
  query: AccessListQuery,
  searchDate: string | null,
  descending: boolean,
  limit: number,
): Promise<AccessListRow[]> {
  const conditions: WhereOptions[] = [{ practiceId: query.practiceId }];
  if (query.status !== 'all') {
    conditions.push({ status: query.status });
  }
  if (searchDate) {
    conditions.push({ birthDate: searchDate });
  }
  if (query.cursor) {
    const comparison = descending ? Op.lt : Op.gt;
    conditions.push({
      [Op.or]: [
        { lastChangedAt: { [comparison]: query.cursor.lastChangedAt } },
        { lastChangedAt: query.cursor.lastChangedAt, id: { [comparison]: query.cursor.id } },
      ],
    });
  }

  // With only the practice to narrow it, MariaDB 10.11 reads a descending page after a cursor
  // through `ref` access on practice_id: it walks back from the newest row through every row
  // newer than the cursor. Naming the index makes it seek to the cursor instead (range access).
  // Sequelize adds the hint for MySQL and MariaDB only.
  const seekWithChangedIndex = query.cursor !== null && query.status === 'all' && searchDate === null;
  const direction = descending ? 'DESC' : 'ASC';
  const rows = await dependencies.models.AccessRequest.findAll({
    attributes: [...LIST_COLUMNS, [literal(`(${IDENTITY_VERIFIED_SQL})`), 'identityVerified']],
    raw: true,
    where: { [Op.and]: conditions },
    order: [
      ['lastChangedAt', direction],
      ['id', direction],
    ],
    limit,
    ...(seekWithChangedIndex ? { indexHints: [{ type: IndexHints.FORCE, values: ['cra_access_requests_changed'] }] } : {}),
  });
  return (rows as unknown as StoredListRow[]).map(toListRow);
}
