import { DataTypes, type QueryInterface } from 'sequelize';

// One row per word of a request's subject name, so the staff list finds "Anne" in
// "Mary Anne Pemberton" with an index range scan instead of reading every request.
export async function up({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.createTable('cra_request_name_tokens', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    practice_id: { type: DataTypes.STRING(64), allowNull: false },
    request_id: { type: DataTypes.BIGINT, allowNull: false },
    token: { type: DataTypes.STRING(100), allowNull: false },
  });
  await queryInterface.addIndex('cra_request_name_tokens', ['practice_id', 'token', 'request_id'], { name: 'cra_request_name_tokens_lookup' });
  await queryInterface.addIndex('cra_request_name_tokens', ['request_id'], { name: 'cra_request_name_tokens_request' });
}

export async function down({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.dropTable('cra_request_name_tokens');
}
