import { DataTypes, type QueryInterface } from 'sequelize';

// The request id and version a verification was started from, unique, so two tabs starting
// the identity check at the same moment create one (paid) Stripe session, not two.
export async function up({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.addColumn('cra_identity_verifications', 'claim_key', { type: DataTypes.STRING(100), allowNull: true });
  await queryInterface.addIndex('cra_identity_verifications', ['claim_key'], { name: 'cra_identity_verifications_claim', unique: true });
}

export async function down({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await queryInterface.removeIndex('cra_identity_verifications', 'cra_identity_verifications_claim');
  await queryInterface.removeColumn('cra_identity_verifications', 'claim_key');
}
