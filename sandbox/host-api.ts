import { promisify } from 'node:util';
import type { Request, RequestHandler, Response, Router } from 'express';
import type { Sequelize } from 'sequelize';
import { Op } from 'sequelize';
import type { Logger } from 'pino';
import {
  HOST_API_VERSION,
  type ClinicalRecordEntry,
  type ClinicalSection,
  type FhirResource,
  type HostApi,
  type HostPatient,
  type Keyring,
  type PageRender,
  type PatientChangeEvent,
  type RequestContext,
  type SettingsSection,
  type StripeConfiguration,
  type StripeWebhookHandler,
} from '../plugin/host/contract.js';
import type { HostModels, PatientRow } from './models.js';
import type { SandboxSecrets } from './secrets.js';

/** Plugin contributions the sandbox app wires into Express. */
export interface HostRegistry {
  staffRouters: Router[];
  portalRouters: Router[];
  settingsSections: SettingsSection[];
  stripeWebhookHandler: StripeWebhookHandler | null;
  patientChangeListeners: Array<(event: PatientChangeEvent) => Promise<void>>;
}

export interface HostApiDependencies {
  sequelize: Sequelize;
  models: HostModels;
  secrets: SandboxSecrets;
  logger: Logger;
  clock: { now(): Date };
  stripeApiEndpoint?: StripeConfiguration['apiEndpoint'];
  /** The sandbox's address as browsers reach it, such as `http://127.0.0.1:3000`. */
  publicUrl?: string;
  contextOf(request: Request): RequestContext | undefined;
  renderPage(request: Request, response: Response, page: PageRender): void;
  csrfToken(request: Request): string;
}

const idPattern = /^[1-9][0-9]{0,9}$/;

/** Parses a host id from the contract's string form; anything else is no id at all. */
export function parseHostId(id: string): number | null {
  return idPattern.test(id) ? Number(id) : null;
}

export function toHostPatient(row: PatientRow): HostPatient {
  return {
    id: String(row.id),
    practiceId: String(row.practiceId),
    givenNames: JSON.parse(row.givenNames) as string[],
    familyName: row.familyName,
    birthDate: row.birthDate,
    status: row.status,
  };
}

/** Builds the sandbox's implementation of the host contract, and the registry it fills. */
export function createHostApi(dependencies: HostApiDependencies): { hostApi: HostApi; registry: HostRegistry } {
  const { sequelize, models, secrets, logger, clock } = dependencies;
  const registry: HostRegistry = {
    staffRouters: [],
    portalRouters: [],
    settingsSections: [],
    stripeWebhookHandler: null,
    patientChangeListeners: [],
  };

  const keyring: Keyring = {
    currentKeyId: secrets.keyring.currentKeyId,
    keys: new Map(Object.entries(secrets.keyring.keys).map(([keyId, key]) => [keyId, Buffer.from(key, 'base64')])),
  };

  const requirePermission = (permission: string): RequestHandler => (request, response, next) => {
    const context = dependencies.contextOf(request);
    if (context?.staff?.permissions.has(permission)) {
      next();
      return;
    }
    dependencies.renderPage(request, response, {
      surface: 'staff',
      status: 403,
      title: 'Permission needed',
      bodyHtml: '<h1>Permission needed</h1><p>Your role does not allow this action. Ask your practice manager to change your role if you need it.</p>',
    });
  };

  const listClinicalRecords = async (
    practiceId: string,
    patientId: string,
    section: ClinicalSection,
    page: { cursor: string | null; limit: number },
  ) => {
    const practice = parseHostId(practiceId);
    const patient = parseHostId(patientId);
    const after = page.cursor === null ? 0 : parseHostId(page.cursor);
    if (practice === null || patient === null || after === null) {
      return { entries: [], nextCursor: null };
    }
    const limit = Math.max(1, Math.min(page.limit, 500));

    const rows = await models.FhirResource.findAll({
      where: { practiceId: practice, patientId: patient, section, id: { [Op.gt]: after } },
      order: [['id', 'ASC']],
      limit: limit + 1,
    });
    const pageRows = rows.slice(0, limit);
    const resources = pageRows.map((row) => JSON.parse(row.resource) as FhirResource);

    // Resolve medicationReference with one query for the whole page.
    const medicationIds = new Set<string>();
    for (const resource of resources) {
      const reference = (resource.medicationReference as { reference?: string } | undefined)?.reference;
      if (reference?.startsWith('Medication/')) {
        medicationIds.add(reference.slice('Medication/'.length));
      }
    }
    const medications = new Map<string, FhirResource>();
    if (medicationIds.size > 0) {
      const medicationRows = await models.FhirResource.findAll({
        where: { practiceId: practice, patientId: patient, resourceType: 'Medication', resourceId: [...medicationIds] },
      });
      for (const row of medicationRows) {
        medications.set(row.resourceId, JSON.parse(row.resource) as FhirResource);
      }
    }

    const entries: ClinicalRecordEntry[] = resources.map((resource) => {
      const reference = (resource.medicationReference as { reference?: string } | undefined)?.reference;
      const medication = reference ? medications.get(reference.slice('Medication/'.length)) : undefined;
      return medication ? { resource, medication } : { resource };
    });
    const nextCursor = rows.length > limit ? String(pageRows[pageRows.length - 1]!.id) : null;
    return { entries, nextCursor };
  };

  const hostApi: HostApi = {
    apiVersion: HOST_API_VERSION,
    database: { sequelize },

    requestContext(request) {
      const context = dependencies.contextOf(request);
      if (!context) {
        throw new Error('No request context: the route is not behind the host sign-in.');
      }
      return context;
    },

    sessions: {
      async regenerate(request) {
        const kept = Object.fromEntries(Object.entries(request.session).filter(([key]) => key !== 'cookie'));
        await promisify(request.session.regenerate.bind(request.session))();
        Object.assign(request.session, kept);
        await promisify(request.session.save.bind(request.session))();
      },
      sessionId: (request) => request.sessionID,
      csrfToken: (request) => dependencies.csrfToken(request),
    },

    patients: {
      async get(practiceId, patientId) {
        const practice = parseHostId(practiceId);
        const patient = parseHostId(patientId);
        if (practice === null || patient === null) {
          return null;
        }
        const row = await models.Patient.findOne({ where: { id: patient, practiceId: practice } });
        return row ? toHostPatient(row) : null;
      },
      onChange(listener) {
        registry.patientChangeListeners.push(listener);
      },
    },

    clinicalRecords: { list: listClinicalRecords },

    permissions: { require: requirePermission },

    settings: {
      registerSection(section) {
        registry.settingsSections.push(section);
      },
    },

    routes: {
      mountStaff(router) {
        registry.staffRouters.push(router);
      },
      mountPortal(router) {
        registry.portalRouters.push(router);
      },
      handleStripeWebhooks(handler) {
        registry.stripeWebhookHandler = handler;
      },
      absoluteUrl(request, path) {
        // Tests run on random ports without a configured address, so the sandbox falls back
        // to the address the request came to.
        const base = dependencies.publicUrl ?? `${request.protocol}://${request.get('host')}`;
        return new URL(path, base).toString();
      },
    },

    views: { render: dependencies.renderPage },

    secrets: { keyring: () => keyring },

    stripe: {
      async configuration(practiceId) {
        const id = parseHostId(practiceId);
        const practice = id === null ? null : await models.Practice.findByPk(id);
        if (!practice?.stripeSecretKey || !practice.stripeWebhookSigningSecret) {
          return null;
        }
        const configuration: StripeConfiguration = {
          secretKey: practice.stripeSecretKey,
          webhookSigningSecret: practice.stripeWebhookSigningSecret,
        };
        if (dependencies.stripeApiEndpoint) {
          configuration.apiEndpoint = dependencies.stripeApiEndpoint;
        }
        return configuration;
      },
    },

    notifications: {
      async sendToPatient(practiceId, patientId, message) {
        const notification = await models.Notification.create({
          practiceId: Number(practiceId),
          recipientType: 'patient',
          recipientId: Number(patientId),
          subject: message.subject,
          body: message.body,
        });
        logger.info({ notificationId: notification.id, practiceId, patientId }, 'notification queued for patient');
      },
      async sendToStaff(practiceId, message) {
        const notification = await models.Notification.create({
          practiceId: Number(practiceId),
          recipientType: 'staff',
          recipientId: null,
          subject: message.subject,
          body: message.body,
        });
        logger.info({ notificationId: notification.id, practiceId }, 'notification queued for staff');
      },
    },

    clock,
    logger,
  };

  return { hostApi, registry };
}
