/**
 * The host contract: everything Clinical Record Access needs from a practice-management
 * platform. `register(host)` receives one `HostApi` and the plugin imports no host code, so
 * this file is the whole boundary. The manifest's `hostApi` range names the versions it accepts.
 */
import type { Request, RequestHandler, Response, Router } from 'express';
import type { Sequelize } from 'sequelize';

/** Version of this contract. A host offers one version; the manifest accepts a semver range. */
export const HOST_API_VERSION = '1.0.0';

/** Identifier of a host object (practice, patient, staff member). Opaque to the plugin. */
export type HostId = string;

export interface Practice {
  id: HostId;
  name: string;
  /** IANA time zone, for example `Europe/London`. */
  timeZone: string;
  /** BCP 47 locale the practice works in, for example `en-GB`. */
  locale: string;
}

export interface StaffMember {
  id: HostId;
  displayName: string;
  /** Permission names the host grants this staff member, from the plugin's manifest. */
  permissions: ReadonlySet<string>;
}

export interface PortalPatient {
  id: HostId;
  /** The sign-in the patient uses in the portal; the authenticator app shows it as the label. */
  portalLogin: string;
}

/** Identity of the requester, set by the host's own authentication before any plugin route runs. */
export interface RequestContext {
  practice: Practice;
  staff: StaffMember | null;
  patient: PortalPatient | null;
  /** Locale of the current user interface, for example `en-GB`. */
  locale: string;
}

export type PatientStatus = 'active' | 'inactive' | 'deceased' | 'merged';

/** A patient as the host's record contains them. */
export interface HostPatient {
  id: HostId;
  practiceId: HostId;
  /** Given names in order: the first is the name the patient is known by officially. */
  givenNames: string[];
  familyName: string;
  /** Calendar date `YYYY-MM-DD`; never a timestamp, so it cannot shift with a time zone. */
  birthDate: string;
  status: PatientStatus;
}

/** Raised by the host after it changes a patient (details, status, merge). */
export interface PatientChangeEvent {
  practiceId: HostId;
  patientId: HostId;
  changed: Array<'name' | 'birthDate' | 'status'>;
}

/** The sections of the clinical record the plugin shows, each backed by FHIR R4 resources. */
export type ClinicalSection = 'problems' | 'medications' | 'allergies' | 'immunisations' | 'labResults';

/** A FHIR R4 resource as JSON. The plugin narrows it by `resourceType`. */
export interface FhirResource {
  resourceType: string;
  id?: string;
  [element: string]: unknown;
}

export interface ClinicalRecordEntry {
  resource: FhirResource;
  /**
   * The Medication resource that a MedicationRequest or MedicationStatement points to through
   * `medicationReference`, resolved by the host. Absent when the resource codes the medication
   * inline or the reference cannot be resolved.
   */
  medication?: FhirResource;
}

export interface ClinicalRecordPage {
  entries: ClinicalRecordEntry[];
  /** Cursor for the next page, or null after the last page. */
  nextCursor: string | null;
}

/**
 * Stripe configuration of one practice. `apiEndpoint` is set only where the host talks to
 * something other than api.stripe.com (the sandbox's emulator); production leaves it out.
 */
export interface StripeConfiguration {
  secretKey: string;
  webhookSigningSecret: string;
  apiEndpoint?: { host: string; port: number; protocol: 'http' | 'https' };
}

/** Result of handling an incoming webhook, which the host sends back to the caller as is. */
export interface WebhookResponse {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Handler for Stripe's webhook calls. The host resolves the practice from the endpoint's
 * opaque key before calling, and passes the raw bytes it received, because the signature
 * covers those bytes exactly. A re-serialised object would fail the check.
 */
export type StripeWebhookHandler = (input: {
  practiceId: HostId;
  rawBody: Buffer | unknown;
  signatureHeader: string | undefined;
}) => Promise<WebhookResponse>;

/** Key material for encrypting secrets at rest. Keys are 32 bytes, named by a key id. */
export interface Keyring {
  /** Id of the key that new ciphertext uses. */
  currentKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

export interface NotificationMessage {
  /** Short subject line, already translated. */
  subject: string;
  /** Plain-text body, already translated. Holds no clinical data. */
  body: string;
}

/** A pino-compatible logger. */
export interface HostLogger {
  trace(object: object, message?: string): void;
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
  child(bindings: Record<string, unknown>): HostLogger;
}

export interface SettingsSection {
  /** Parent section in the host's Settings; `patient-portal` is Settings > Patient Portal. */
  parent: 'patient-portal';
  /** Translated title shown in the host's settings navigation. */
  title: string;
  /** Path below the staff mount point that the section opens. */
  path: string;
  /** Permission a staff member needs to see the section in the navigation. */
  permission: string;
}

export type Surface = 'staff' | 'portal';

export interface PageRender {
  surface: Surface;
  /** Translated page title. */
  title: string;
  /** HTML the plugin rendered and escaped itself; the host places it inside its layout. */
  bodyHtml: string;
  status?: number;
}

/** The whole host API handed to `register`. */
export interface HostApi {
  apiVersion: string;

  database: {
    /** The host's Sequelize instance. Plugin tables carry the prefix `cra_`. */
    sequelize: Sequelize;
  };

  /** Reads the request context the host's authentication set. Throws if the host set none. */
  requestContext(request: Request): RequestContext;

  sessions: {
    /** Gives the session a new id and keeps its data, as after a change of privilege. */
    regenerate(request: Request): Promise<void>;
    /** Host session id, used to bind plugin state to one browser session. Never logged. */
    sessionId(request: Request): string;
    /** CSRF token to place in a form's `_csrf` field; the host checks it on every POST. */
    csrfToken(request: Request): string;
  };

  patients: {
    get(practiceId: HostId, patientId: HostId): Promise<HostPatient | null>;
    onChange(listener: (event: PatientChangeEvent) => Promise<void>): void;
  };

  clinicalRecords: {
    list(
      practiceId: HostId,
      patientId: HostId,
      section: ClinicalSection,
      page: { cursor: string | null; limit: number },
    ): Promise<ClinicalRecordPage>;
  };

  permissions: {
    /** Middleware that responds 403 unless the signed-in staff member has the permission. */
    require(permission: string): RequestHandler;
  };

  settings: {
    registerSection(section: SettingsSection): void;
  };

  routes: {
    /** Mounts a router inside the host's admin UI, behind staff sign-in. */
    mountStaff(router: Router): void;
    /** Mounts a router inside the patient portal, behind patient sign-in. */
    mountPortal(router: Router): void;
    /** Receives Stripe's webhook calls for every practice. */
    handleStripeWebhooks(handler: StripeWebhookHandler): void;
    /**
     * Absolute URL of a path on this host as the patient's browser reaches it, for addresses
     * handed to other services (Stripe's `return_url`). Built from the host's configured
     * public address, never from the request's Host header.
     */
    absoluteUrl(request: Request, path: string): string;
  };

  views: {
    /** Sends a page: the plugin's HTML inside the host's layout for the surface. */
    render(request: Request, response: Response, page: PageRender): void;
  };

  secrets: {
    keyring(): Keyring;
  };

  stripe: {
    /** The practice's Stripe configuration, or null when the practice has none. */
    configuration(practiceId: HostId): Promise<StripeConfiguration | null>;
  };

  notifications: {
    sendToPatient(practiceId: HostId, patientId: HostId, message: NotificationMessage): Promise<void>;
    sendToStaff(practiceId: HostId, message: NotificationMessage): Promise<void>;
  };

  clock: {
    now(): Date;
  };

  logger: HostLogger;
}
