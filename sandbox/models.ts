import { DataTypes, Model, type InferAttributes, type InferCreationAttributes, type CreationOptional, type ModelStatic, type Sequelize } from 'sequelize';

// The classes only type the rows: each sandbox defines its own model classes with
// `sequelize.define`, so two sandboxes in one process never share a connection.

export class PracticeRow extends Model<InferAttributes<PracticeRow>, InferCreationAttributes<PracticeRow>> {
  declare id: CreationOptional<number>;
  declare demoKey: string;
  declare name: string;
  declare timeZone: string;
  declare locale: string;
  declare stripeSecretKey: string | null;
  declare stripeWebhookSigningSecret: string | null;
  declare stripeWebhookEndpointKey: string | null;
}

export type StaffRole = 'practice_manager' | 'practice_nurse' | 'receptionist';

export class StaffRow extends Model<InferAttributes<StaffRow>, InferCreationAttributes<StaffRow>> {
  declare id: CreationOptional<number>;
  declare practiceId: number;
  declare email: string;
  declare displayName: string;
  declare role: StaffRole;
  declare passwordHash: string;
}

export class PatientRow extends Model<InferAttributes<PatientRow>, InferCreationAttributes<PatientRow>> {
  declare id: CreationOptional<number>;
  declare practiceId: number;
  declare demoKey: string | null;
  /** JSON array of given names, in order. */
  declare givenNames: string;
  declare familyName: string;
  declare birthDate: string;
  declare status: 'active' | 'inactive' | 'deceased' | 'merged';
  declare mergedIntoId: number | null;
  declare sourceSystemId: string | null;
  declare portalLogin: string | null;
  declare passwordHash: string | null;
}

export class FhirResourceRow extends Model<InferAttributes<FhirResourceRow>, InferCreationAttributes<FhirResourceRow>> {
  declare id: CreationOptional<number>;
  declare practiceId: number;
  declare patientId: number;
  declare resourceType: string;
  declare resourceId: string;
  declare section: string | null;
  /** The resource as FHIR R4 JSON text. */
  declare resource: string;
}

export class NotificationRow extends Model<InferAttributes<NotificationRow>, InferCreationAttributes<NotificationRow>> {
  declare id: CreationOptional<number>;
  declare practiceId: number;
  declare recipientType: 'patient' | 'staff';
  declare recipientId: number | null;
  declare subject: string;
  declare body: string;
  declare createdAt: CreationOptional<Date>;
}

export interface HostModels {
  Practice: ModelStatic<PracticeRow>;
  Staff: ModelStatic<StaffRow>;
  Patient: ModelStatic<PatientRow>;
  FhirResource: ModelStatic<FhirResourceRow>;
  Notification: ModelStatic<NotificationRow>;
}

/** Binds the host's models to a Sequelize instance. The tables come from the host migrations. */
export function defineHostModels(sequelize: Sequelize): HostModels {
  const common = { underscored: true, timestamps: true };

  const Practice = sequelize.define<PracticeRow>(
    'Practice',
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      demoKey: DataTypes.STRING(64),
      name: DataTypes.STRING(200),
      timeZone: DataTypes.STRING(64),
      locale: DataTypes.STRING(35),
      stripeSecretKey: DataTypes.STRING(255),
      stripeWebhookSigningSecret: DataTypes.STRING(255),
      stripeWebhookEndpointKey: DataTypes.STRING(64),
    },
    { ...common, tableName: 'sandbox_practices' },
  );

  const Staff = sequelize.define<StaffRow>(
    'Staff',
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      practiceId: DataTypes.INTEGER,
      email: DataTypes.STRING(254),
      displayName: DataTypes.STRING(200),
      role: DataTypes.STRING(64),
      passwordHash: DataTypes.STRING(255),
    },
    { ...common, tableName: 'sandbox_staff' },
  );

  const Patient = sequelize.define<PatientRow>(
    'Patient',
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      practiceId: DataTypes.INTEGER,
      demoKey: DataTypes.STRING(64),
      givenNames: DataTypes.TEXT,
      familyName: DataTypes.STRING(200),
      birthDate: DataTypes.DATEONLY,
      status: DataTypes.STRING(16),
      mergedIntoId: DataTypes.INTEGER,
      sourceSystemId: DataTypes.STRING(128),
      portalLogin: DataTypes.STRING(254),
      passwordHash: DataTypes.STRING(255),
    },
    { ...common, tableName: 'sandbox_patients' },
  );

  const FhirResource = sequelize.define<FhirResourceRow>(
    'FhirResource',
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      practiceId: DataTypes.INTEGER,
      patientId: DataTypes.INTEGER,
      resourceType: DataTypes.STRING(64),
      resourceId: DataTypes.STRING(128),
      section: DataTypes.STRING(32),
      resource: sequelize.getDialect() === 'mysql' ? DataTypes.TEXT('long') : DataTypes.TEXT,
    },
    { ...common, tableName: 'sandbox_fhir_resources' },
  );

  const Notification = sequelize.define<NotificationRow>(
    'Notification',
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      practiceId: DataTypes.INTEGER,
      recipientType: DataTypes.STRING(16),
      recipientId: DataTypes.INTEGER,
      subject: DataTypes.STRING(255),
      body: DataTypes.TEXT,
      createdAt: DataTypes.DATE,
    },
    { ...common, tableName: 'sandbox_notifications' },
  );

  return { Practice, Staff, Patient, FhirResource, Notification };
}
