import type { QueryInterface } from 'sequelize';

// A date of birth search also sorts by last change. With only (practice, birth date), SQLite
// chose the last-change index instead and read every request of the practice to find the few
// with that date. This index serves both the filter and the order, and replaces the old one,
// which is its prefix.
export async function up({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.addIndex('cra_access_requests', ['practice_id', 'birth_date', 'last_changed_at', 'id'], { name: 'cra_access_requests_birth_date_changed' });
  await queryInterface.removeIndex('cra_access_requests', 'cra_access_requests_birth_date');
}

export async function down({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.addIndex('cra_access_requests', ['practice_id', 'birth_date'], { name: 'cra_access_requests_birth_date' });
  await queryInterface.removeIndex('cra_access_requests', 'cra_access_requests_birth_date_changed');
}
