import { DataTypes, type QueryInterface } from 'sequelize';

const timestamps = {
  created_at: { type: DataTypes.DATE, allowNull: false },
  updated_at: { type: DataTypes.DATE, allowNull: false },
};

export async function up({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.createTable('sandbox_practices', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    demo_key: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    name: { type: DataTypes.STRING(200), allowNull: false },
    time_zone: { type: DataTypes.STRING(64), allowNull: false },
    locale: { type: DataTypes.STRING(35), allowNull: false },
    stripe_secret_key: { type: DataTypes.STRING(255), allowNull: true },
    stripe_webhook_signing_secret: { type: DataTypes.STRING(255), allowNull: true },
    stripe_webhook_endpoint_key: { type: DataTypes.STRING(64), allowNull: true, unique: true },
    ...timestamps,
  });

  await queryInterface.createTable('sandbox_staff', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    practice_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: 'sandbox_practices', key: 'id' } },
    email: { type: DataTypes.STRING(254), allowNull: false, unique: true },
    display_name: { type: DataTypes.STRING(200), allowNull: false },
    role: { type: DataTypes.STRING(64), allowNull: false },
    password_hash: { type: DataTypes.STRING(255), allowNull: false },
    ...timestamps,
  });

  await queryInterface.createTable('sandbox_patients', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    practice_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: 'sandbox_practices', key: 'id' } },
    demo_key: { type: DataTypes.STRING(64), allowNull: true },
    given_names: { type: DataTypes.TEXT, allowNull: false },
    family_name: { type: DataTypes.STRING(200), allowNull: false },
    birth_date: { type: DataTypes.DATEONLY, allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false },
    merged_into_id: { type: DataTypes.INTEGER, allowNull: true },
    source_system_id: { type: DataTypes.STRING(128), allowNull: true },
    portal_login: { type: DataTypes.STRING(254), allowNull: true, unique: true },
    password_hash: { type: DataTypes.STRING(255), allowNull: true },
    ...timestamps,
  });
  await queryInterface.addIndex('sandbox_patients', ['practice_id', 'source_system_id'], { name: 'sandbox_patients_practice_source' });

  await queryInterface.createTable('sandbox_fhir_resources', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    practice_id: { type: DataTypes.INTEGER, allowNull: false },
    patient_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: 'sandbox_patients', key: 'id' } },
    resource_type: { type: DataTypes.STRING(64), allowNull: false },
    resource_id: { type: DataTypes.STRING(128), allowNull: false },
    section: { type: DataTypes.STRING(32), allowNull: true },
    // LONGTEXT on MySQL and MariaDB, whose TEXT stops at 64 KiB; SQLite has one TEXT type.
    resource: { type: queryInterface.sequelize.getDialect() === 'mysql' ? DataTypes.TEXT('long') : DataTypes.TEXT, allowNull: false },
    ...timestamps,
  });
  await queryInterface.addIndex('sandbox_fhir_resources', ['patient_id', 'resource_type', 'resource_id'], {
    name: 'sandbox_fhir_resources_identity',
    unique: true,
  });
  await queryInterface.addIndex('sandbox_fhir_resources', ['practice_id', 'patient_id', 'section', 'id'], {
    name: 'sandbox_fhir_resources_section',
  });

  await queryInterface.createTable('sandbox_notifications', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    practice_id: { type: DataTypes.INTEGER, allowNull: false },
    recipient_type: { type: DataTypes.STRING(16), allowNull: false },
    recipient_id: { type: DataTypes.INTEGER, allowNull: true },
    subject: { type: DataTypes.STRING(255), allowNull: false },
    body: { type: DataTypes.TEXT, allowNull: false },
    ...timestamps,
  });

  // Column names are the ones connect-session-sequelize 7 expects.
  await queryInterface.createTable('sandbox_sessions', {
    sid: { type: DataTypes.STRING(36), primaryKey: true },
    expires: { type: DataTypes.DATE, allowNull: true },
    data: { type: DataTypes.TEXT, allowNull: true },
    createdAt: { type: DataTypes.DATE, allowNull: false },
    updatedAt: { type: DataTypes.DATE, allowNull: false },
  });
}

export async function down({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  for (const table of ['sandbox_sessions', 'sandbox_notifications', 'sandbox_fhir_resources', 'sandbox_patients', 'sandbox_staff', 'sandbox_practices']) {
    await queryInterface.dropTable(table);
  }
}
