import { IndexHints, Op, type Sequelize, type WhereOptions } from 'sequelize';
import type { AccessRequestRow, AccessStatus, PluginModels } from '../db/models.js';
import { ACCESS_STATUSES, nameTokensOf, searchNameOf } from '../access/access-service.js';

export { ACCESS_STATUSES };

export const ACCESS_LIST_PAGE_SIZE = 50;

/** Words of a name search that the list looks up; more are ignored. */
const MAX_SEARCH_WORDS = 4;

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

export interface AccessListPage {
  rows: AccessRequestRow[];
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

/**
 * Returns the smallest string above every string that starts with `prefix`, in code point order
 * (SQLite's BINARY collation), or null when the last character has no successor.
 */
function prefixUpperBound(prefix: string): string | null {
  const characters = [...prefix];
  const last = characters.pop()?.codePointAt(0);
  if (last === undefined || last === 0x10ffff) {
    return null;
  }
  // U+D800 to U+DFFF are surrogates, which are not characters on their own, so skip them.
  const next = last === 0xd7ff ? 0xe000 : last + 1;
  return `${characters.join('')}${String.fromCodePoint(next)}`;
}

export function encodeCursor(cursor: ListCursor): string {
  return `${cursor.direction === 'after' ? 'a' : 'b'}${cursor.lastChangedAt.getTime()}.${cursor.id}`;
}

export function decodeCursor(value: unknown): ListCursor | null {
  const match = typeof value === 'string' ? /^([ab])(\d{1,15})\.(\d{1,18})$/.exec(value) : null;
  if (!match) {
    return null;
  }
  return { direction: match[1] === 'a' ? 'after' : 'before', lastChangedAt: new Date(Number(match[2])), id: Number(match[3]) };
}

/**
 * Reads one page of the staff list with two queries, whatever the page size: the counts per
 * status from their own table, and the page itself through an index on (practice, status, last change, id).
 * Paging is by position (keyset), so a page deep in the list costs what the first one does.
 */
export async function listAccessRequests(dependencies: { sequelize: Sequelize; models: PluginModels }, query: AccessListQuery): Promise<AccessListPage> {
  const { sequelize, models } = dependencies;
  const pageSize = query.pageSize ?? ACCESS_LIST_PAGE_SIZE;

  const conditions: WhereOptions[] = [{ practiceId: query.practiceId }];
  if (query.status !== 'all') {
    conditions.push({ status: query.status });
  }

  const search = query.search.trim();
  const searchDate = parseSearchDate(search);
  if (searchDate) {
    conditions.push({ birthDate: searchDate });
  } else if (search !== '') {
    const words = nameTokensOf(searchNameOf({ givenNames: [], familyName: search })).slice(0, MAX_SEARCH_WORDS);
    const sqlite = sequelize.getDialect() === 'sqlite';
    for (const word of words) {
      // '!' escapes LIKE's wildcards because a backslash is read differently by MySQL and SQLite.
      const pattern = `${word.replace(/[!%_]/g, (character) => `!${character}`)}%`;
      let tokenCondition = `token LIKE ${sequelize.escape(pattern)} ESCAPE '!'`;
      // SQLite uses an index for LIKE only on a NOCASE column, and the token column is BINARY, so
      // without this range it reads every token of the practice. MySQL and MariaDB already read
      // LIKE 'prefix%' as an index range, and their collations do not sort by code point.
      const upperBound = sqlite ? prefixUpperBound(word) : null;
      if (upperBound !== null) {
        tokenCondition = `token >= ${sequelize.escape(word)} AND token < ${sequelize.escape(upperBound)} AND ${tokenCondition}`;
      }
      conditions.push({
        id: {
          [Op.in]: sequelize.literal(
            `(SELECT request_id FROM cra_request_name_tokens WHERE practice_id = ${sequelize.escape(query.practiceId)} AND ${tokenCondition})`,
          ),
        },
      });
    }
  }

  // Newest first reads the index backwards; a "before" cursor reads the other way and the
  // page is reversed afterwards.
  const descending = (query.order === 'newest') !== (query.cursor?.direction === 'before');
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
  const seekWithChangedIndex = query.cursor !== null && query.status === 'all' && search === '';

  const direction = descending ? 'DESC' : 'ASC';
  const [countRows, pageRows] = await Promise.all([
    // The counts come from a table the access service keeps in step with every status change,
    // so they cost 8 rows however many requests the practice has.
    models.StatusCount.findAll({ where: { practiceId: query.practiceId }, raw: true }),
    models.AccessRequest.findAll({
      where: { [Op.and]: conditions },
      order: [
        ['lastChangedAt', direction],
        ['id', direction],
      ],
      limit: pageSize + 1,
      ...(seekWithChangedIndex ? { indexHints: [{ type: IndexHints.FORCE, values: ['cra_access_requests_changed'] }] } : {}),
    }),
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
