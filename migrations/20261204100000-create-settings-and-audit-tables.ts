import { DataTypes, type QueryInterface } from 'sequelize';

export async function up({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.createTable('cra_practice_settings', {
    practice_id: { type: DataTypes.STRING(64), primaryKey: true },
    enabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    auto_approve: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    // Incremented on every change, so a form saved from a stale page is detected.
    version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
    updated_by_staff_id: { type: DataTypes.STRING(64), allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
    updated_at: { type: DataTypes.DATE, allowNull: false },
  });

  await queryInterface.createTable('cra_audit_events', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    practice_id: { type: DataTypes.STRING(64), allowNull: false },
    actor_type: { type: DataTypes.STRING(16), allowNull: false },
    actor_id: { type: DataTypes.STRING(64), allowNull: true },
    action: { type: DataTypes.STRING(64), allowNull: false },
    patient_id: { type: DataTypes.STRING(64), allowNull: true },
    details: { type: DataTypes.TEXT, allowNull: true },
    occurred_at: { type: DataTypes.DATE, allowNull: false },
  });
  await queryInterface.addIndex('cra_audit_events', ['practice_id', 'id'], { name: 'cra_audit_events_practice' });
  await queryInterface.addIndex('cra_audit_events', ['practice_id', 'patient_id', 'id'], { name: 'cra_audit_events_patient' });
}

export async function down({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.dropTable('cra_audit_events');
  await queryInterface.dropTable('cra_practice_settings');
}
