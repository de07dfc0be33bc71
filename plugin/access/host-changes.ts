import type { Transaction } from 'sequelize';
import type { HostPatient, PatientChangeEvent, PatientStatus } from '../host/contract.js';
import type { AccessRequestRow, AccessStatus } from '../db/models.js';
import type { PluginContext } from '../plugin-context.js';

/** Statuses that a host change moves to `revoked`. A denied or revoked request already gives no access. */
const REVOCABLE_STATUSES: readonly AccessStatus[] = ['identity_pending', 'identity_failed', 'identity_mismatch', 'mfa_pending', 'pending', 'approved'];

/** `statusReason` of a request revoked because the host no longer has the patient as active. */
export const HOST_STATUS_REASONS: Record<Exclude<PatientStatus, 'active'>, string> = {
  inactive: 'patient_inactive',
  deceased: 'patient_deceased',
  merged: 'patient_merged',
};

/** Subscribes the plugin to the host's patient changes. */
export function registerHostChangeListener(plugin: PluginContext): void {
  plugin.host.patients.onChange((event) => applyPatientChange(plugin, event));
}

/**
 * Brings the patient's access requests in line with the host's record of the patient. When the
 * patient is no longer active, each request that staff have not denied or revoked moves to
 * `revoked` as a system action, and every clinical session of the patient ends. A changed name
 * or date of birth is copied into the request and flagged for staff review.
 *
 * The patient's current state is read from the host rather than taken from the event, so a
 * repeated or late event changes nothing a second time. All changes commit in one transaction.
 * It locks the patient's requests before it reads the host, so two changes of one patient at
 * once are applied one after the other, and the second reads the host's record after both.
 */
export async function applyPatientChange(plugin: PluginContext, event: PatientChangeEvent): Promise<void> {
  const { practiceId, patientId } = event;
  const { logger } = plugin.host;
  // The patient's requests as viewer and as subject, each read through its own index. One read
  // with OR used neither index on MariaDB, so its lock covered every request of the practice and
  // deadlocked with concurrent writes.
  const asViewer = { practiceId, viewerPatientId: patientId };
  const asSubject = { practiceId, subjectPatientId: patientId };

  try {
    // Most patients have no request, and for them no transaction is opened.
    const anyRequest = async (where: typeof asViewer | typeof asSubject) => (await plugin.models.AccessRequest.findOne({ where, attributes: ['id'] })) !== null;
    if (!(await anyRequest(asViewer)) && !(await anyRequest(asSubject))) {
      return;
    }

    const outcome = await plugin.host.database.sequelize.transaction(async (transaction) => {
      const lock = { transaction, lock: transaction.LOCK.UPDATE, order: [['id', 'ASC']] as [string, string][] };
      const viewerRequests = await plugin.models.AccessRequest.findAll({ where: asViewer, ...lock });
      const subjectRequests = await plugin.models.AccessRequest.findAll({ where: asSubject, ...lock });
      // A patient who views their own record has the same request in both reads; it is kept once.
      const requests = [...new Map([...viewerRequests, ...subjectRequests].map((request) => [Number(request.id), request])).values()];
      const nothingDone = { flagged: [] as number[], revoked: [] as number[], sessionsEnded: 0 };
      if (requests.length === 0) {
        return { patientFound: true, ...nothingDone };
      }
      const patient = await plugin.host.patients.get(practiceId, patientId);
      if (!patient) {
        return { patientFound: false, ...nothingDone };
      }

      const flagged: number[] = [];
      const revoked: number[] = [];
      for (const request of requests) {
        if (request.subjectPatientId === patientId && (await flagChangedDetails(plugin, request, patient, transaction))) {
          flagged.push(Number(request.id));
        }
        if (patient.status !== 'active' && (await revokeForHostStatus(plugin, request, patient.status, transaction))) {
          revoked.push(Number(request.id));
        }
      }

      let sessionsEnded = 0;
      if (patient.status !== 'active') {
        // Sessions belong to the viewer, who today is always the patient whose record changed.
        const viewers = new Set([patientId, ...requests.map((request) => request.viewerPatientId)]);
        for (const viewer of viewers) {
          sessionsEnded += await plugin.clinicalSessions.endAllForPatient(practiceId, viewer, HOST_STATUS_REASONS[patient.status], transaction);
        }
      }
      return { patientFound: true, flagged, revoked, sessionsEnded };
    });

    if (!outcome.patientFound) {
      // The journey already shows nothing to a patient the host cannot find.
      logger.warn({ practiceId, patientId, changed: event.changed }, 'patient change ignored because the host has no such patient');
      return;
    }
    if (outcome.flagged.length > 0 || outcome.revoked.length > 0 || outcome.sessionsEnded > 0) {
      logger.info(
        { practiceId, patientId, flaggedRequestIds: outcome.flagged, revokedRequestIds: outcome.revoked, sessionsEnded: outcome.sessionsEnded },
        'access requests updated after a host patient change',
      );
    }
  } catch (error) {
    logger.error({ err: error, practiceId, patientId }, 'could not apply a host patient change to access requests');
    throw error;
  }
}

function displayNameOf(patient: HostPatient): string {
  return [...patient.givenNames, patient.familyName].join(' ').slice(0, 400);
}

/**
 * Copies a changed name or date of birth into the request and flags it for staff review.
 * Returns false when the copies already match the host, or when another process flagged the
 * same change first. The version goes up, so a decision made on a page shown before the
 * change is rejected as stale.
 */
async function flagChangedDetails(plugin: PluginContext, request: AccessRequestRow, patient: HostPatient, transaction: Transaction): Promise<boolean> {
  const fields: Array<'name' | 'birthDate'> = [];
  if (request.displayName !== displayNameOf(patient)) {
    fields.push('name');
  }
  if (request.birthDate !== patient.birthDate) {
    fields.push('birthDate');
  }
  if (fields.length === 0) {
    return false;
  }

  // The old copies are part of the condition, so when two processes handle the same change,
  // only the first flags and audits it.
  const [updated] = await plugin.models.AccessRequest.update(
    {
      detailsChangedInHost: true,
      version: plugin.host.database.sequelize.literal('version + 1') as unknown as number,
      lastChangedAt: plugin.host.clock.now(),
    },
    { where: { id: request.id, practiceId: request.practiceId, displayName: request.displayName, birthDate: request.birthDate }, transaction },
  );
  if (updated !== 1) {
    return false;
  }

  await plugin.access.refreshPatientDetails(request, patient, transaction);
  // The trail names which details changed, never their old or new values.
  await plugin.audit.record(
    { practiceId: request.practiceId, actor: { type: 'system', id: null }, action: 'access.detailsChangedInHost', patientId: request.subjectPatientId, details: { fields } },
    transaction,
  );
  return true;
}

/** Moves the request to `revoked` unless staff already denied or revoked it. */
async function revokeForHostStatus(plugin: PluginContext, request: AccessRequestRow, status: Exclude<PatientStatus, 'active'>, transaction: Transaction): Promise<boolean> {
  if (!REVOCABLE_STATUSES.includes(request.status)) {
    return false;
  }
  const result = await plugin.access.transition(
    request,
    {
      from: REVOCABLE_STATUSES,
      to: 'revoked',
      actor: { type: 'system', id: null },
      action: 'access.revokedByHostChange',
      fields: { statusReason: HOST_STATUS_REASONS[status] },
      details: { hostStatus: status },
    },
    transaction,
  );
  return result.applied;
}
