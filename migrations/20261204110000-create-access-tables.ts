import { DataTypes, type QueryInterface } from 'sequelize';

const timestamps = {
  created_at: { type: DataTypes.DATE, allowNull: false },
  updated_at: { type: DataTypes.DATE, allowNull: false },
};

export async function up({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  // One current request per viewer and subject. The viewer is the patient signed in to the
  // portal and the subject is the patient whose record is shown: the same patient today,
  // kept apart so proxy access (carers, parents) needs no reshaping later.
  await queryInterface.createTable('cra_access_requests', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    practice_id: { type: DataTypes.STRING(64), allowNull: false },
    viewer_patient_id: { type: DataTypes.STRING(64), allowNull: false },
    subject_patient_id: { type: DataTypes.STRING(64), allowNull: false },
    status: { type: DataTypes.STRING(32), allowNull: false },
    // Incremented on every change; a staff decision carries the version it was made on.
    version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
    identity_method: { type: DataTypes.STRING(32), allowNull: true },
    identity_verified_at: { type: DataTypes.DATE, allowNull: true },
    current_verification_id: { type: DataTypes.BIGINT, allowNull: true },
    status_reason: { type: DataTypes.STRING(64), allowNull: true },
    decision_reason: { type: DataTypes.TEXT, allowNull: true },
    decided_by_staff_id: { type: DataTypes.STRING(64), allowNull: true },
    decided_at: { type: DataTypes.DATE, allowNull: true },
    // Normalised copies of the subject's name and date of birth, for the staff list's search
    // and sort without a query per row to the host.
    display_name: { type: DataTypes.STRING(400), allowNull: false, defaultValue: '' },
    search_name: { type: DataTypes.STRING(400), allowNull: false, defaultValue: '' },
    birth_date: { type: DataTypes.STRING(10), allowNull: true },
    details_changed_in_host: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    last_changed_at: { type: DataTypes.DATE, allowNull: false },
    ...timestamps,
  });
  await queryInterface.addIndex('cra_access_requests', ['practice_id', 'viewer_patient_id', 'subject_patient_id'], {
    name: 'cra_access_requests_viewer_subject',
    unique: true,
  });
  await queryInterface.addIndex('cra_access_requests', ['practice_id', 'status', 'last_changed_at', 'id'], { name: 'cra_access_requests_status' });
  await queryInterface.addIndex('cra_access_requests', ['practice_id', 'last_changed_at', 'id'], { name: 'cra_access_requests_changed' });
  await queryInterface.addIndex('cra_access_requests', ['practice_id', 'search_name'], { name: 'cra_access_requests_name' });
  await queryInterface.addIndex('cra_access_requests', ['practice_id', 'birth_date'], { name: 'cra_access_requests_birth_date' });

  await queryInterface.createTable('cra_identity_verifications', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    practice_id: { type: DataTypes.STRING(64), allowNull: false },
    request_id: { type: DataTypes.BIGINT, allowNull: false },
    patient_id: { type: DataTypes.STRING(64), allowNull: false },
    method: { type: DataTypes.STRING(32), allowNull: false },
    stripe_session_id: { type: DataTypes.STRING(255), allowNull: true, unique: true },
    stripe_status: { type: DataTypes.STRING(32), allowNull: true },
    outcome: { type: DataTypes.STRING(32), allowNull: false },
    failure_code: { type: DataTypes.STRING(64), allowNull: true },
    mismatch_fields: { type: DataTypes.STRING(64), allowNull: true },
    in_person_document: { type: DataTypes.STRING(64), allowNull: true },
    recorded_by_staff_id: { type: DataTypes.STRING(64), allowNull: true },
    completed_at: { type: DataTypes.DATE, allowNull: true },
    ...timestamps,
  });
  await queryInterface.addIndex('cra_identity_verifications', ['practice_id', 'patient_id', 'created_at'], { name: 'cra_identity_verifications_patient' });

  await queryInterface.createTable('cra_mfa_factors', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    practice_id: { type: DataTypes.STRING(64), allowNull: false },
    patient_id: { type: DataTypes.STRING(64), allowNull: false },
    secret_ciphertext: { type: DataTypes.STRING(512), allowNull: false },
    confirmed_at: { type: DataTypes.DATE, allowNull: true },
    // RFC 6238 time step of the last accepted code; a code for this step or an earlier one is
    // a replay. Updated with a conditional UPDATE, so it holds across processes.
    last_used_time_step: { type: DataTypes.BIGINT, allowNull: true },
    failed_attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    locked_until: { type: DataTypes.DATE, allowNull: true },
    // The new recovery codes, encrypted, until the patient confirms they saved them.
    pending_recovery_codes_ciphertext: { type: DataTypes.TEXT, allowNull: true },
    ...timestamps,
  });
  await queryInterface.addIndex('cra_mfa_factors', ['practice_id', 'patient_id'], { name: 'cra_mfa_factors_patient', unique: true });

  await queryInterface.createTable('cra_recovery_codes', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    practice_id: { type: DataTypes.STRING(64), allowNull: false },
    patient_id: { type: DataTypes.STRING(64), allowNull: false },
    // HMAC-SHA-256 of the code under a pepper derived from this keyring key.
    code_hash: { type: DataTypes.STRING(128), allowNull: false },
    pepper_key_id: { type: DataTypes.STRING(64), allowNull: false },
    used_at: { type: DataTypes.DATE, allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await queryInterface.addIndex('cra_recovery_codes', ['practice_id', 'patient_id', 'code_hash'], { name: 'cra_recovery_codes_lookup', unique: true });

  // Clinical sessions live in the database, so a revocation or MFA reset ends them in every
  // process. The key is a hash of the host session id, never the id itself.
  await queryInterface.createTable('cra_clinical_sessions', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    session_key_hash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    practice_id: { type: DataTypes.STRING(64), allowNull: false },
    patient_id: { type: DataTypes.STRING(64), allowNull: false },
    started_at: { type: DataTypes.DATE, allowNull: false },
    last_seen_at: { type: DataTypes.DATE, allowNull: false },
    expires_at: { type: DataTypes.DATE, allowNull: false },
    ended_at: { type: DataTypes.DATE, allowNull: true },
    ended_reason: { type: DataTypes.STRING(32), allowNull: true },
  });
  await queryInterface.addIndex('cra_clinical_sessions', ['practice_id', 'patient_id', 'ended_at'], { name: 'cra_clinical_sessions_patient' });

  await queryInterface.createTable('cra_webhook_events', {
    event_id: { type: DataTypes.STRING(255), primaryKey: true },
    practice_id: { type: DataTypes.STRING(64), allowNull: false },
    type: { type: DataTypes.STRING(128), allowNull: false },
    received_at: { type: DataTypes.DATE, allowNull: false },
  });
}

export async function down({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  for (const table of ['cra_webhook_events', 'cra_clinical_sessions', 'cra_recovery_codes', 'cra_mfa_factors', 'cra_identity_verifications', 'cra_access_requests']) {
    await queryInterface.dropTable(table);
  }
}
