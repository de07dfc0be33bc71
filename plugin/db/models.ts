import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type ModelStatic, type Sequelize } from 'sequelize';

export class PracticeSettingsRow extends Model<InferAttributes<PracticeSettingsRow>, InferCreationAttributes<PracticeSettingsRow>> {
  declare practiceId: string;
  declare enabled: boolean;
  declare autoApprove: boolean;
  /** Whether a patient whose MFA staff reset must verify their identity again. */
  declare reverifyAfterMfaReset: boolean;
  declare version: number;
  declare updatedByStaffId: string | null;
}

export type AuditActorType = 'staff' | 'patient' | 'system';

export class AuditEventRow extends Model<InferAttributes<AuditEventRow>, InferCreationAttributes<AuditEventRow>> {
  declare id: CreationOptional<number>;
  declare practiceId: string;
  declare actorType: AuditActorType;
  declare actorId: string | null;
  declare action: string;
  declare patientId: string | null;
  /** JSON object with the facts of the event; never names, dates of birth, codes or secrets. */
  declare details: string | null;
  declare occurredAt: Date;
}

/**
 * Step a request has reached. The first four are steps of the patient's own journey; the last
 * four are the access statuses staff see and decide on.
 */
export type AccessStatus =
  | 'identity_pending'
  | 'identity_failed'
  | 'identity_mismatch'
  | 'mfa_pending'
  | 'pending'
  | 'approved'
  | 'denied'
  | 'revoked';

export class AccessRequestRow extends Model<InferAttributes<AccessRequestRow>, InferCreationAttributes<AccessRequestRow>> {
  declare id: CreationOptional<number>;
  declare practiceId: string;
  declare viewerPatientId: string;
  declare subjectPatientId: string;
  declare status: AccessStatus;
  declare version: number;
  declare identityMethod: 'stripe_identity' | 'in_person' | null;
  declare identityVerifiedAt: Date | null;
  declare currentVerificationId: number | null;
  /** Stable code for why the request is in its status, e.g. a Stripe failure code. */
  declare statusReason: string | null;
  declare decisionReason: string | null;
  declare decidedByStaffId: string | null;
  declare decidedAt: Date | null;
  /** The subject's name as recorded by the host, for the staff list. */
  declare displayName: string;
  declare searchName: string;
  declare birthDate: string | null;
  declare detailsChangedInHost: boolean;
  declare lastChangedAt: Date;
}

export type VerificationOutcome = 'pending' | 'matched' | 'mismatch' | 'failed' | 'canceled';

export class IdentityVerificationRow extends Model<InferAttributes<IdentityVerificationRow>, InferCreationAttributes<IdentityVerificationRow>> {
  declare id: CreationOptional<number>;
  declare practiceId: string;
  declare requestId: number;
  declare patientId: string;
  declare method: 'stripe_identity' | 'in_person';
  declare stripeSessionId: string | null;
  declare stripeStatus: string | null;
  declare outcome: VerificationOutcome;
  declare failureCode: string | null;
  /** Comma-separated `name`, `birthDate`, `missingOutputs`; never the values themselves. */
  declare mismatchFields: string | null;
  declare inPersonDocument: string | null;
  declare recordedByStaffId: string | null;
  declare completedAt: Date | null;
  /** `<request id>:<request version>` the check was started from; unique. */
  declare claimKey: CreationOptional<string | null>;
  declare createdAt: CreationOptional<Date>;
}

export class MfaFactorRow extends Model<InferAttributes<MfaFactorRow>, InferCreationAttributes<MfaFactorRow>> {
  declare id: CreationOptional<number>;
  declare practiceId: string;
  declare patientId: string;
  declare secretCiphertext: string;
  declare confirmedAt: Date | null;
  declare lastUsedTimeStep: number | null;
  declare failedAttempts: number;
  declare lockedUntil: Date | null;
  declare pendingRecoveryCodesCiphertext: string | null;
}

export class RecoveryCodeRow extends Model<InferAttributes<RecoveryCodeRow>, InferCreationAttributes<RecoveryCodeRow>> {
  declare id: CreationOptional<number>;
  declare practiceId: string;
  declare patientId: string;
  declare codeHash: string;
  declare pepperKeyId: string;
  declare usedAt: Date | null;
  declare createdAt: Date;
}

export class ClinicalSessionRow extends Model<InferAttributes<ClinicalSessionRow>, InferCreationAttributes<ClinicalSessionRow>> {
  declare id: CreationOptional<number>;
  declare sessionKeyHash: string;
  declare practiceId: string;
  declare patientId: string;
  declare startedAt: Date;
  declare lastSeenAt: Date;
  declare expiresAt: Date;
  declare endedAt: Date | null;
  declare endedReason: string | null;
}

export class WebhookEventRow extends Model<InferAttributes<WebhookEventRow>, InferCreationAttributes<WebhookEventRow>> {
  declare eventId: string;
  declare practiceId: string;
  declare type: string;
  declare receivedAt: Date;
}

export class RequestNameTokenRow extends Model<InferAttributes<RequestNameTokenRow>, InferCreationAttributes<RequestNameTokenRow>> {
  declare id: CreationOptional<number>;
  declare practiceId: string;
  declare requestId: number;
  declare token: string;
}

export class RequestNamePrefixRow extends Model<InferAttributes<RequestNamePrefixRow>, InferCreationAttributes<RequestNamePrefixRow>> {
  declare requestId: number;
  declare prefix: string;
  declare practiceId: string;
  declare status: AccessStatus;
  declare lastChangedAt: Date;
}

export class StatusCountRow extends Model<InferAttributes<StatusCountRow>, InferCreationAttributes<StatusCountRow>> {
  declare practiceId: string;
  declare status: AccessStatus;
  declare total: number;
}

export interface PluginModels {
  PracticeSettings: ModelStatic<PracticeSettingsRow>;
  AuditEvent: ModelStatic<AuditEventRow>;
  AccessRequest: ModelStatic<AccessRequestRow>;
  IdentityVerification: ModelStatic<IdentityVerificationRow>;
  MfaFactor: ModelStatic<MfaFactorRow>;
  RecoveryCode: ModelStatic<RecoveryCodeRow>;
  ClinicalSession: ModelStatic<ClinicalSessionRow>;
  WebhookEvent: ModelStatic<WebhookEventRow>;
  RequestNameToken: ModelStatic<RequestNameTokenRow>;
  RequestNamePrefix: ModelStatic<RequestNamePrefixRow>;
  StatusCount: ModelStatic<StatusCountRow>;
}

/**
 * Defines the plugin's models on the host's Sequelize instance. Each call defines fresh
 * classes, so two hosts in one process never share a connection. Tables come from migrations.
 */
export function definePluginModels(sequelize: Sequelize): PluginModels {
  const PracticeSettings = sequelize.define<PracticeSettingsRow>(
    'CraPracticeSettings',
    {
      practiceId: { type: DataTypes.STRING(64), primaryKey: true },
      enabled: DataTypes.BOOLEAN,
      autoApprove: DataTypes.BOOLEAN,
      reverifyAfterMfaReset: DataTypes.BOOLEAN,
      version: DataTypes.INTEGER,
      updatedByStaffId: DataTypes.STRING(64),
    },
    { tableName: 'cra_practice_settings', underscored: true, timestamps: true },
  );

  const AuditEvent = sequelize.define<AuditEventRow>(
    'CraAuditEvent',
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      practiceId: DataTypes.STRING(64),
      actorType: DataTypes.STRING(16),
      actorId: DataTypes.STRING(64),
      action: DataTypes.STRING(64),
      patientId: DataTypes.STRING(64),
      details: DataTypes.TEXT,
      occurredAt: DataTypes.DATE,
    },
    { tableName: 'cra_audit_events', underscored: true, timestamps: false },
  );

  const AccessRequest = sequelize.define<AccessRequestRow>(
    'CraAccessRequest',
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      practiceId: DataTypes.STRING(64),
      viewerPatientId: DataTypes.STRING(64),
      subjectPatientId: DataTypes.STRING(64),
      status: DataTypes.STRING(32),
      version: DataTypes.INTEGER,
      identityMethod: DataTypes.STRING(32),
      identityVerifiedAt: DataTypes.DATE,
      currentVerificationId: DataTypes.BIGINT,
      statusReason: DataTypes.STRING(64),
      decisionReason: DataTypes.TEXT,
      decidedByStaffId: DataTypes.STRING(64),
      decidedAt: DataTypes.DATE,
      displayName: DataTypes.STRING(400),
      searchName: DataTypes.STRING(400),
      birthDate: DataTypes.STRING(10),
      detailsChangedInHost: DataTypes.BOOLEAN,
      lastChangedAt: DataTypes.DATE,
    },
    { tableName: 'cra_access_requests', underscored: true, timestamps: true },
  );

  const IdentityVerification = sequelize.define<IdentityVerificationRow>(
    'CraIdentityVerification',
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      practiceId: DataTypes.STRING(64),
      requestId: DataTypes.BIGINT,
      patientId: DataTypes.STRING(64),
      method: DataTypes.STRING(32),
      stripeSessionId: DataTypes.STRING(255),
      stripeStatus: DataTypes.STRING(32),
      outcome: DataTypes.STRING(32),
      failureCode: DataTypes.STRING(64),
      mismatchFields: DataTypes.STRING(64),
      inPersonDocument: DataTypes.STRING(64),
      recordedByStaffId: DataTypes.STRING(64),
      completedAt: DataTypes.DATE,
      claimKey: DataTypes.STRING(100),
      createdAt: DataTypes.DATE,
    },
    { tableName: 'cra_identity_verifications', underscored: true, timestamps: true },
  );

  const MfaFactor = sequelize.define<MfaFactorRow>(
    'CraMfaFactor',
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      practiceId: DataTypes.STRING(64),
      patientId: DataTypes.STRING(64),
      secretCiphertext: DataTypes.STRING(512),
      confirmedAt: DataTypes.DATE,
      lastUsedTimeStep: DataTypes.BIGINT,
      failedAttempts: DataTypes.INTEGER,
      lockedUntil: DataTypes.DATE,
      pendingRecoveryCodesCiphertext: DataTypes.TEXT,
    },
    { tableName: 'cra_mfa_factors', underscored: true, timestamps: true },
  );

  const RecoveryCode = sequelize.define<RecoveryCodeRow>(
    'CraRecoveryCode',
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      practiceId: DataTypes.STRING(64),
      patientId: DataTypes.STRING(64),
      codeHash: DataTypes.STRING(128),
      pepperKeyId: DataTypes.STRING(64),
      usedAt: DataTypes.DATE,
      createdAt: DataTypes.DATE,
    },
    { tableName: 'cra_recovery_codes', underscored: true, timestamps: false },
  );

  const ClinicalSession = sequelize.define<ClinicalSessionRow>(
    'CraClinicalSession',
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      sessionKeyHash: DataTypes.STRING(64),
      practiceId: DataTypes.STRING(64),
      patientId: DataTypes.STRING(64),
      startedAt: DataTypes.DATE,
      lastSeenAt: DataTypes.DATE,
      expiresAt: DataTypes.DATE,
      endedAt: DataTypes.DATE,
      endedReason: DataTypes.STRING(32),
    },
    { tableName: 'cra_clinical_sessions', underscored: true, timestamps: false },
  );

  const WebhookEvent = sequelize.define<WebhookEventRow>(
    'CraWebhookEvent',
    {
      eventId: { type: DataTypes.STRING(255), primaryKey: true },
      practiceId: DataTypes.STRING(64),
      type: DataTypes.STRING(128),
      receivedAt: DataTypes.DATE,
    },
    { tableName: 'cra_webhook_events', underscored: true, timestamps: false },
  );

  const RequestNameToken = sequelize.define<RequestNameTokenRow>(
    'CraRequestNameToken',
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      practiceId: DataTypes.STRING(64),
      requestId: DataTypes.BIGINT,
      token: DataTypes.STRING(100),
    },
    { tableName: 'cra_request_name_tokens', underscored: true, timestamps: false },
  );

  const RequestNamePrefix = sequelize.define<RequestNamePrefixRow>(
    'CraRequestNamePrefix',
    {
      requestId: { type: DataTypes.BIGINT, primaryKey: true },
      prefix: { type: DataTypes.STRING(80).BINARY, primaryKey: true },
      practiceId: DataTypes.STRING(64),
      status: DataTypes.STRING(32),
      lastChangedAt: DataTypes.DATE,
    },
    { tableName: 'cra_request_name_prefixes', underscored: true, timestamps: false },
  );

  const StatusCount = sequelize.define<StatusCountRow>(
    'CraStatusCount',
    {
      practiceId: { type: DataTypes.STRING(64), primaryKey: true },
      status: { type: DataTypes.STRING(32), primaryKey: true },
      total: DataTypes.INTEGER,
    },
    { tableName: 'cra_status_counts', underscored: true, timestamps: false },
  );

  return { PracticeSettings, AuditEvent, AccessRequest, IdentityVerification, MfaFactor, RecoveryCode, ClinicalSession, WebhookEvent, RequestNameToken, RequestNamePrefix, StatusCount };
}
