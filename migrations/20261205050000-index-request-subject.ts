import type { QueryInterface } from 'sequelize';

// A host change of a patient locks that patient's requests. The (practice, viewer, subject)
// index cannot find them by subject alone, so without this index the lock read the whole
// practice's requests on MariaDB, and concurrent writes deadlocked with it.
export async function up({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.addIndex('cra_access_requests', ['practice_id', 'subject_patient_id'], { name: 'cra_access_requests_subject' });
}

export async function down({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.removeIndex('cra_access_requests', 'cra_access_requests_subject');
}
