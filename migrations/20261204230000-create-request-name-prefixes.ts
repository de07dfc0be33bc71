import { DataTypes, QueryTypes, type QueryInterface } from 'sequelize';

// Each start of each name word of a request (up to 20 characters), with the request's status
// and last change time. The staff list finds the newest matches for a name search by reading
// one index in order and stopping at the page's end, as it does without a search. With only
// the word table, both databases read every request whose name matched, and sorted them, before
// they could return the first page, so a common name cost more the more requests matched.
// The rows are filled from the words already stored, a batch of requests at a time.

/** Matches SEARCH_PREFIX_LENGTH in plugin/access/search-index.ts when this migration was written. */
const PREFIX_LENGTH = 20;
const BATCH_SIZE = 1000;

export async function up({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  const sequelize = queryInterface.sequelize;
  // A run stopped during the fill left a part-filled table, which holds nothing that cannot
  // be made again from the words, so it is dropped and the fill starts over.
  await queryInterface.dropTable('cra_request_name_prefixes');
  await queryInterface.createTable('cra_request_name_prefixes', {
    request_id: { type: DataTypes.BIGINT, allowNull: false, primaryKey: true },
    // Compared byte for byte, as SQLite does: both sides are folded the same way before they
    // meet, and a case-insensitive collation could call two different prefixes equal.
    prefix: { type: DataTypes.STRING(80).BINARY, allowNull: false, primaryKey: true },
    practice_id: { type: DataTypes.STRING(64), allowNull: false },
    status: { type: DataTypes.STRING(32), allowNull: false },
    last_changed_at: { type: DataTypes.DATE, allowNull: false },
  });
  await queryInterface.addIndex('cra_request_name_prefixes', ['practice_id', 'prefix', 'last_changed_at', 'request_id'], { name: 'cra_request_name_prefixes_changed' });
  await queryInterface.addIndex('cra_request_name_prefixes', ['practice_id', 'prefix', 'status', 'last_changed_at', 'request_id'], {
    name: 'cra_request_name_prefixes_status',
  });

  let lastId = 0;
  for (;;) {
    const requests = await sequelize.query<{ id: number | string; practice_id: string; status: string; last_changed_at: Date | string }>(
      'SELECT id, practice_id, status, last_changed_at FROM cra_access_requests WHERE id > :lastId ORDER BY id LIMIT :limit',
      { replacements: { lastId, limit: BATCH_SIZE }, type: QueryTypes.SELECT },
    );
    if (requests.length === 0) {
      break;
    }
    const tokens = await sequelize.query<{ request_id: number | string; token: string }>('SELECT request_id, token FROM cra_request_name_tokens WHERE request_id IN (:ids)', {
      replacements: { ids: requests.map((request) => request.id) },
      type: QueryTypes.SELECT,
    });
    const prefixesByRequest = new Map<string, Set<string>>();
    for (const { request_id: requestId, token } of tokens) {
      const prefixes = prefixesByRequest.get(String(requestId)) ?? new Set<string>();
      const characters = [...token].slice(0, PREFIX_LENGTH);
      for (let length = 1; length <= characters.length; length += 1) {
        prefixes.add(characters.slice(0, length).join(''));
      }
      prefixesByRequest.set(String(requestId), prefixes);
    }
    const rows = requests.flatMap((request) =>
      [...(prefixesByRequest.get(String(request.id)) ?? [])].map((prefix) => ({
        request_id: request.id,
        prefix,
        practice_id: request.practice_id,
        status: request.status,
        last_changed_at: request.last_changed_at,
      })),
    );
    if (rows.length > 0) {
      await queryInterface.bulkInsert('cra_request_name_prefixes', rows);
    }
    lastId = Number(requests[requests.length - 1]!.id);
  }
}

export async function down({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.dropTable('cra_request_name_prefixes');
}
