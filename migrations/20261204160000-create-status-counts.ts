import { DataTypes, type QueryInterface } from 'sequelize';

// Requests per practice and status, kept in step with every status change, so the staff
// list shows its counts by reading 8 rows instead of counting every request of the practice.
export async function up({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.createTable('cra_status_counts', {
    practice_id: { type: DataTypes.STRING(64), primaryKey: true },
    status: { type: DataTypes.STRING(32), primaryKey: true },
    total: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  });
  await queryInterface.sequelize.query(
    'INSERT INTO cra_status_counts (practice_id, status, total) SELECT practice_id, status, COUNT(*) FROM cra_access_requests GROUP BY practice_id, status',
  );
}

export async function down({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.dropTable('cra_status_counts');
}
