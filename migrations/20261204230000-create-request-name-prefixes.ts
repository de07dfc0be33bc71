import { DataTypes, type QueryInterface } from 'sequelize';
import { rebuildSearchIndex } from '../plugin/access/search-index.js';

// Each start of each name word of a request (up to 20 characters), with the request's status
// and last change time. The staff list finds the newest matches for a name search by reading
// one index in order and stopping at the page's end, as it does without a search. With only
// the word table, both databases read every request whose name matched, and sorted them, before
// they could return the first page, so a common name cost more the more requests matched.
//
// The same change folds names further for search (ł, ø and ß as l, o and ss, punctuation as
// spaces), so the stored words are written again too, from each request's display name, with
// the folding of the code that runs this migration.
export async function up({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  // A run stopped during the fill left a part-filled table, which holds nothing that cannot
  // be made again from the requests, so it is dropped and the fill starts over.
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
  await rebuildSearchIndex(queryInterface.sequelize);
}

export async function down({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.dropTable('cra_request_name_prefixes');
}
