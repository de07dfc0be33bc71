import { expect } from 'chai';
import { Op } from 'sequelize';
import type { Agent } from 'supertest';
import { hashPassword } from '../../sandbox/passwords.js';
import { demoPassword } from '../../sandbox/demo/practices.js';
import { toHostPatient } from '../../sandbox/host-api.js';
import type { AccessStatus } from '../../plugin/db/models.js';
import { listAccessRequests, type ListCursor } from '../../plugin/staff/access-list.js';
import { rebuildStatusCounts } from '../../plugin/access/access-service.js';
import { rebuildSearchOrder } from '../../plugin/access/search-index.js';
import {
  accessRequestOf,
  authenticatorCode,
  completeIdentityCheck,
  csrfTokenFrom,
  decodeQrCode,
  enableClinicalAccess,
  enrolAuthenticator,
  pluginOf,
  postForm,
  practiceIdOf,
  recordPath,
  requestAccess,
  signIn,
  staffPath,
  startJourneySandbox,
  type JourneySandbox,
} from '../support/journey.js';

type Decision = 'approve' | 'deny' | 'revoke';

interface TestPatient {
  id: string;
  portalLogin: string;
  givenNames: string[];
  familyName: string;
  birthDate: string;
}

/** A patient brought to a status, with the portal agent and what enrolment produced. */
interface PatientAtStatus {
  patient: TestPatient;
  agent: Agent;
  requestId: number;
  otpauthUri: string | null;
  recoveryCodes: string[];
}

const notificationSubjects = {
  approved: 'Your clinical record is ready to view',
  denied: 'Your request to view your clinical record',
  revoked: 'Online access to your clinical record has stopped',
  pendingApproval: 'A patient is waiting for clinical record access',
  mfaReset: 'Your authenticator app was reset',
  recoveryCodeUsed: 'A recovery code was used',
};

const errorTexts = {
  staleVersion: 'This patient&#x27;s access changed after you opened the page',
  notAllowedFromStatus: 'That decision does not apply to the patient&#x27;s current status.',
  identityNotVerified: 'The patient&#x27;s identity has not been verified, so access cannot be approved.',
  permissionNeeded: 'Your role does not allow this action.',
  notFound: 'There is no such request at this practice.',
};

/** Counts the items a section page lists. */
function itemCount(html: string): number {
  return [...html.matchAll(/data-record-item="/g)].length;
}

/** Request ids of the staff list's rows, in page order. */
function listedRequestIds(html: string): number[] {
  return [...html.matchAll(/<tr data-request-id="(\d+)">/g)].map((match) => Number(match[1]));
}

/** Decodes an address that Handlebars escaped inside an attribute. */
function unescapeHref(href: string): string {
  return href.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
}

function linkOf(html: string, rel: 'next' | 'prev'): string | null {
  const match = new RegExp(`<a href="([^"]+)" rel="${rel}">`).exec(html);
  return match ? unescapeHref(match[1]!) : null;
}

/** Reads the count each status filter shows, by its label. */
function filterCounts(html: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const match of html.matchAll(/<li><a href="[^"]+"(?: aria-current="page")?>([^<]+) <span class="cra-count">\((\d+)\)<\/span><\/a><\/li>/g)) {
    counts[match[1]!] = Number(match[2]);
  }
  return counts;
}

describe('staff access: decisions, permissions and the list', function () {
  let journey: JourneySandbox;
  let riversideId: string;
  let harbourId: string;
  let passwordHash: string;
  let manager: Agent;
  let secondManager: Agent;
  let nurse: Agent;
  let receptionist: Agent;
  let harbourManager: Agent;
  let patientCount = 0;

  /** Adds a host patient to Riverside with a portal sign-in and one problem in their record. */
  async function newPatient(): Promise<TestPatient> {
    patientCount += 1;
    const familyName = `Staffcase${String.fromCharCode(96 + Math.ceil(patientCount / 26))}${String.fromCharCode(96 + (((patientCount - 1) % 26) + 1))}`;
    const portalLogin = `${familyName.toLowerCase()}@example.test`;
    const row = await journey.sandbox.models.Patient.create({
      practiceId: Number(riversideId),
      demoKey: null,
      givenNames: JSON.stringify(['Robin']),
      familyName,
      birthDate: '1985-06-15',
      status: 'active',
      mergedIntoId: null,
      sourceSystemId: null,
      portalLogin,
      passwordHash,
    });
    await journey.sandbox.models.FhirResource.create({
      practiceId: Number(riversideId),
      patientId: row.id,
      resourceType: 'Condition',
      resourceId: `condition-${row.id}`,
      section: 'problems',
      resource: JSON.stringify({
        resourceType: 'Condition',
        id: `condition-${row.id}`,
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        code: { text: 'Seasonal hay fever' },
        subject: { reference: `Patient/${row.id}` },
        onsetDateTime: '2015-04',
        recordedDate: '2015-05-01',
      }),
    });
    return { id: String(row.id), portalLogin, givenNames: ['Robin'], familyName, birthDate: '1985-06-15' };
  }

  async function currentRequest(patientId: string) {
    return (await accessRequestOf(journey, patientId))!;
  }

  /** The columns a rejected action must leave alone. */
  async function snapshotOf(patientId: string) {
    const request = await currentRequest(patientId);
    return {
      status: request.status,
      version: request.version,
      statusReason: request.statusReason,
      identityVerifiedAt: request.identityVerifiedAt?.getTime() ?? null,
      decidedAt: request.decidedAt?.getTime() ?? null,
      lastChangedAt: request.lastChangedAt.getTime(),
      detailsChangedInHost: request.detailsChangedInHost,
    };
  }

  async function notificationsOf(patientId: string) {
    return journey.sandbox.models.Notification.findAll({ where: { recipientType: 'patient', recipientId: Number(patientId) }, order: [['id', 'ASC']] });
  }

  async function auditActionsOf(patientId: string) {
    const events = await pluginOf(journey).models.AuditEvent.findAll({ where: { patientId }, order: [['id', 'ASC']] });
    return events.map((event) => ({ action: event.action, actorType: event.actorType, details: event.details ? (JSON.parse(event.details) as Record<string, unknown>) : {} }));
  }

  /**
   * Posts a decision as `staff` with the version given, or the request's current version,
   * and a CSRF token from the staff member's own session.
   */
  async function decide(staff: Agent, requestId: number, decision: Decision, version?: number) {
    const page = await staff.get(`${staffPath}/access`);
    const current = await pluginOf(journey).models.AccessRequest.findByPk(requestId);
    return staff
      .post(`${staffPath}/access/${requestId}/decision`)
      .type('form')
      .send({ _csrf: csrfTokenFrom(page.text), version: String(version ?? current!.version), decision, reason: '', message: '' });
  }

  /** Completes the patient's identity check at the emulator and returns through the return URL. */
  async function finishIdentityCheck(agent: Agent, sessionId: string, outcome: Parameters<typeof completeIdentityCheck>[2]) {
    await completeIdentityCheck(journey, sessionId, outcome);
    await agent.get(`${recordPath}/identity/return`).expect(303);
  }

  /** Takes a new patient through the portal, and staff decisions where needed, to `status`. */
  async function patientAt(status: AccessStatus): Promise<PatientAtStatus> {
    const patient = await newPatient();
    const agent = await signIn(journey, 'portal', patient.portalLogin);
    const sessionId = await requestAccess(agent);
    const verified = { kind: 'verified' as const, firstName: patient.givenNames.join(' '), lastName: patient.familyName, dob: patient.birthDate };
    const result: PatientAtStatus = { patient, agent, requestId: Number((await currentRequest(patient.id)).id), otpauthUri: null, recoveryCodes: [] };

    if (status === 'identity_pending') {
      return result;
    }
    if (status === 'identity_failed') {
      await finishIdentityCheck(agent, sessionId, { kind: 'error', code: 'document_expired' });
      return result;
    }
    if (status === 'identity_mismatch') {
      await finishIdentityCheck(agent, sessionId, { ...verified, dob: '1985-06-16' });
      return result;
    }
    await finishIdentityCheck(agent, sessionId, verified);
    if (status === 'mfa_pending') {
      return result;
    }
    const enrolment = await enrolAuthenticator(journey, agent);
    result.otpauthUri = enrolment.otpauthUri;
    result.recoveryCodes = enrolment.recoveryCodes;
    if (status === 'pending') {
      return result;
    }
    expect((await decide(manager, result.requestId, 'approve')).status).to.equal(303);
    if (status === 'approved') {
      return result;
    }
    if (status === 'denied') {
      throw new Error('Call deniedPatient() for a denied request, because an approved request cannot be denied.');
    }
    expect((await decide(manager, result.requestId, 'revoke')).status).to.equal(303);
    return result;
  }

  async function deniedPatient(): Promise<PatientAtStatus> {
    const result = await patientAt('pending');
    expect((await decide(manager, result.requestId, 'deny')).status).to.equal(303);
    return result;
  }

  async function patientAtAnyStatus(status: AccessStatus): Promise<PatientAtStatus> {
    return status === 'denied' ? deniedPatient() : patientAt(status);
  }

  /** Saves the Riverside settings as a manager, with auto-approve off. */
  async function saveSettings(options: { reverifyAfterMfaReset: boolean }) {
    const page = await manager.get(`${staffPath}/`).expect(200);
    const version = /name="version" value="(\d+)"/.exec(page.text)![1]!;
    const fields: Record<string, string> = { _csrf: csrfTokenFrom(page.text), version, enabled: 'on' };
    if (options.reverifyAfterMfaReset) {
      fields.reverifyAfterMfaReset = 'on';
    }
    await manager.post(`${staffPath}/settings`).type('form').send(fields).expect(303);
  }

  before(async function () {
    journey = await startJourneySandbox();
    riversideId = await practiceIdOf(journey, 'riverside');
    harbourId = await practiceIdOf(journey, 'harbour');
    passwordHash = await hashPassword(demoPassword);
    await journey.sandbox.models.Staff.create({
      practiceId: Number(riversideId),
      email: 'deputy@riverside.example.test',
      displayName: 'Dara Quinn',
      role: 'practice_manager',
      passwordHash,
    });
    await enableClinicalAccess(journey, { autoApprove: false });
    manager = await signIn(journey, 'admin', 'manager@riverside.example.test');
    secondManager = await signIn(journey, 'admin', 'deputy@riverside.example.test');
    nurse = await signIn(journey, 'admin', 'nurse@riverside.example.test');
    receptionist = await signIn(journey, 'admin', 'reception@riverside.example.test');
    harbourManager = await signIn(journey, 'admin', 'manager@harbour.example.test');
  });

  after(async function () {
    await journey.stop();
  });

  describe('allowed transitions', function () {
    const cases: Array<{ from: AccessStatus; decision: Decision; to: AccessStatus; action: string; subject: string }> = [
      { from: 'pending', decision: 'approve', to: 'approved', action: 'access.approved', subject: notificationSubjects.approved },
      { from: 'denied', decision: 'approve', to: 'approved', action: 'access.approved', subject: notificationSubjects.approved },
      { from: 'revoked', decision: 'approve', to: 'approved', action: 'access.approved', subject: notificationSubjects.approved },
      { from: 'pending', decision: 'deny', to: 'denied', action: 'access.denied', subject: notificationSubjects.denied },
      { from: 'approved', decision: 'revoke', to: 'revoked', action: 'access.revoked', subject: notificationSubjects.revoked },
    ];

    for (const { from, decision, to, action, subject } of cases) {
      it(`${decision} moves ${from} to ${to}`, async function () {
        const { patient, requestId } = await patientAtAnyStatus(from);
        const before = await currentRequest(patient.id);
        const notificationsBefore = (await notificationsOf(patient.id)).length;

        const response = await decide(manager, requestId, decision);

        expect(response.status, response.text).to.equal(303);
        const after = await currentRequest(patient.id);
        expect(after.status).to.equal(to);
        expect(after.version).to.equal(before.version + 1);
        expect(after.decidedByStaffId).to.be.a('string');
        const notifications = await notificationsOf(patient.id);
        expect(notifications).to.have.length(notificationsBefore + 1);
        expect(notifications[notifications.length - 1]!.subject).to.equal(subject);
        const events = await auditActionsOf(patient.id);
        expect(events[events.length - 1]).to.deep.include({ action, actorType: 'staff' });
        expect(events[events.length - 1]!.details).to.deep.include({ from, to, staffName: 'Priya Raman' });
      });
    }

    it('shows no data on the next request after revocation', async function () {
      const { patient, agent, requestId } = await patientAt('approved');
      const before = await agent.get(`${recordPath}/section/problems`).expect(200);
      expect(itemCount(before.text)).to.equal(1);

      expect((await decide(manager, requestId, 'revoke')).status).to.equal(303);
      const section = await agent.get(`${recordPath}/section/problems`).expect(303);
      const landing = await agent.get(section.headers.location!).expect(200);

      expect(landing.text).to.contain('Your access has been stopped');
      expect(itemCount(landing.text)).to.equal(0);
      expect(landing.text).not.to.contain('Seasonal hay fever');
      const sessions = await pluginOf(journey).models.ClinicalSession.findAll({ where: { patientId: patient.id } });
      expect(sessions.every((session) => session.endedReason === 'revoked')).to.equal(true);
    });
  });

  describe('rejected transitions', function () {
    const rejections: Array<{ status: AccessStatus; decisions: Array<{ decision: Decision; code: 409 | 422; reason: keyof typeof errorTexts }> }> = [
      {
        status: 'identity_pending',
        decisions: [
          { decision: 'approve', code: 422, reason: 'identityNotVerified' },
          { decision: 'deny', code: 409, reason: 'notAllowedFromStatus' },
          { decision: 'revoke', code: 409, reason: 'notAllowedFromStatus' },
        ],
      },
      {
        status: 'identity_failed',
        decisions: [
          { decision: 'approve', code: 422, reason: 'identityNotVerified' },
          { decision: 'deny', code: 409, reason: 'notAllowedFromStatus' },
          { decision: 'revoke', code: 409, reason: 'notAllowedFromStatus' },
        ],
      },
      {
        status: 'identity_mismatch',
        decisions: [
          { decision: 'approve', code: 422, reason: 'identityNotVerified' },
          { decision: 'deny', code: 409, reason: 'notAllowedFromStatus' },
          { decision: 'revoke', code: 409, reason: 'notAllowedFromStatus' },
        ],
      },
      {
        status: 'mfa_pending',
        decisions: [
          { decision: 'approve', code: 409, reason: 'notAllowedFromStatus' },
          { decision: 'deny', code: 409, reason: 'notAllowedFromStatus' },
          { decision: 'revoke', code: 409, reason: 'notAllowedFromStatus' },
        ],
      },
      { status: 'pending', decisions: [{ decision: 'revoke', code: 409, reason: 'notAllowedFromStatus' }] },
      {
        status: 'approved',
        decisions: [
          { decision: 'approve', code: 409, reason: 'notAllowedFromStatus' },
          { decision: 'deny', code: 409, reason: 'notAllowedFromStatus' },
        ],
      },
      {
        status: 'denied',
        decisions: [
          { decision: 'deny', code: 409, reason: 'notAllowedFromStatus' },
          { decision: 'revoke', code: 409, reason: 'notAllowedFromStatus' },
        ],
      },
      {
        status: 'revoked',
        decisions: [
          { decision: 'deny', code: 409, reason: 'notAllowedFromStatus' },
          { decision: 'revoke', code: 409, reason: 'notAllowedFromStatus' },
        ],
      },
    ];

    for (const { status, decisions } of rejections) {
      describe(`from ${status}`, function () {
        let subject: PatientAtStatus;

        before(async function () {
          subject = await patientAtAnyStatus(status);
          expect((await currentRequest(subject.patient.id)).status).to.equal(status);
        });

        for (const { decision, code, reason } of decisions) {
          it(`rejects ${decision} with ${code}`, async function () {
            const before = await snapshotOf(subject.patient.id);
            const notificationsBefore = (await notificationsOf(subject.patient.id)).length;

            const response = await decide(manager, subject.requestId, decision);

            expect(response.status).to.equal(code);
            expect(response.text).to.contain(errorTexts[reason]);
            expect(await snapshotOf(subject.patient.id)).to.deep.equal(before);
            expect(await notificationsOf(subject.patient.id)).to.have.length(notificationsBefore);
            const events = await auditActionsOf(subject.patient.id);
            expect(events[events.length - 1]).to.deep.include({ action: 'access.decisionRejected', actorType: 'staff' });
            expect(events[events.length - 1]!.details).to.deep.include({ decision, reason, status });
          });
        }
      });
    }

    it('rejects approval after document_expired', async function () {
      const { patient, requestId } = await patientAt('identity_failed');
      const request = await currentRequest(patient.id);
      expect(request.statusReason).to.equal('document_expired');

      const response = await decide(manager, requestId, 'approve');

      expect(response.status).to.equal(422);
      expect(response.text).to.contain(errorTexts.identityNotVerified);
      expect((await currentRequest(patient.id)).status).to.equal('identity_failed');
    });
  });

  describe('identity checked in person', function () {
    let subject: PatientAtStatus;
    let page: string;

    before(async function () {
      subject = await patientAt('identity_failed');
      page = (await nurse.get(`${staffPath}/access/${subject.requestId}`).expect(200)).text;
    });

    it('offers the nurse the in-person form', async function () {
      expect(page).to.contain('Record an identity check in person');
      expect(page).to.contain(`${staffPath}/access/${subject.requestId}/verify-in-person`);
    });

    it('rejects the form without confirmation', async function () {
      const before = await snapshotOf(subject.patient.id);

      const response = await nurse
        .post(`${staffPath}/access/${subject.requestId}/verify-in-person`)
        .type('form')
        .send({ _csrf: csrfTokenFrom(page), version: String(before.version), document: 'passport' });

      expect(response.status).to.equal(400);
      expect(response.text).to.contain('Confirm that you checked the document in person. Nothing was recorded.');
      expect(await snapshotOf(subject.patient.id)).to.deep.equal(before);
    });

    it('records the check by the nurse', async function () {
      const version = /verify-in-person">\s*<input type="hidden" name="_csrf" value="[^"]+">\s*<input type="hidden" name="version" value="(\d+)"/.exec(page)![1]!;

      const response = await nurse
        .post(`${staffPath}/access/${subject.requestId}/verify-in-person`)
        .type('form')
        .send({ _csrf: csrfTokenFrom(page), version, document: 'passport', confirmed: 'on' });

      expect(response.status, response.text).to.equal(303);
      const request = await currentRequest(subject.patient.id);
      expect(request.status).to.equal('mfa_pending');
      expect(request.identityMethod).to.equal('in_person');
      expect(request.identityVerifiedAt).to.not.equal(null);
      const verification = await pluginOf(journey).models.IdentityVerification.findByPk(request.currentVerificationId!);
      expect(verification!.method).to.equal('in_person');
      expect(verification!.inPersonDocument).to.equal('passport');
      const events = await auditActionsOf(subject.patient.id);
      expect(events[events.length - 1]).to.deep.include({ action: 'identity.verifiedInPerson', actorType: 'staff' });
      expect(events[events.length - 1]!.details).to.deep.include({ document: 'passport', staffName: 'Tomás Keane' });
    });

    it('rejects a second check from one page', async function () {
      const version = /verify-in-person">\s*<input type="hidden" name="_csrf" value="[^"]+">\s*<input type="hidden" name="version" value="(\d+)"/.exec(page)![1]!;
      const before = await snapshotOf(subject.patient.id);

      const response = await nurse
        .post(`${staffPath}/access/${subject.requestId}/verify-in-person`)
        .type('form')
        .send({ _csrf: csrfTokenFrom(page), version, document: 'driving_licence', confirmed: 'on' });

      expect(response.status).to.equal(409);
      expect(await snapshotOf(subject.patient.id)).to.deep.equal(before);
      expect(await pluginOf(journey).models.IdentityVerification.count({ where: { patientId: subject.patient.id, method: 'in_person' } })).to.equal(1);
    });

    it('lets the patient enrol and reach pending', async function () {
      await enrolAuthenticator(journey, subject.agent);

      const request = await currentRequest(subject.patient.id);
      expect(request.status).to.equal('pending');
      const landing = await subject.agent.get(`${recordPath}/`).expect(200);
      expect(landing.text).to.contain('Waiting for the practice to approve');
    });

    it('lets a manager approve the checked patient', async function () {
      const response = await decide(manager, subject.requestId, 'approve');

      expect(response.status, response.text).to.equal(303);
      expect((await currentRequest(subject.patient.id)).status).to.equal('approved');
    });
  });

  describe('concurrent decisions', function () {
    for (const round of [1, 2, 3]) {
      it(`applies one of two simultaneous decisions, round ${round}`, async function () {
        const { patient, requestId } = await patientAt('pending');
        const version = (await currentRequest(patient.id)).version;
        const [managerPage, deputyPage] = await Promise.all([manager.get(`${staffPath}/access/${requestId}`), secondManager.get(`${staffPath}/access/${requestId}`)]);
        const notificationsBefore = (await notificationsOf(patient.id)).length;

        const [approval, denial] = await Promise.all([
          manager.post(`${staffPath}/access/${requestId}/decision`).type('form').send({ _csrf: csrfTokenFrom(managerPage.text), version: String(version), decision: 'approve' }),
          secondManager.post(`${staffPath}/access/${requestId}/decision`).type('form').send({ _csrf: csrfTokenFrom(deputyPage.text), version: String(version), decision: 'deny' }),
        ]);

        expect([approval.status, denial.status].sort()).to.deep.equal([303, 409]);
        const winner = approval.status === 303 ? { decision: 'approve', status: 'approved', action: 'access.approved', staffName: 'Priya Raman' } : { decision: 'deny', status: 'denied', action: 'access.denied', staffName: 'Dara Quinn' };
        const loser = approval.status === 303 ? { decision: 'deny', staffName: 'Dara Quinn' } : { decision: 'approve', staffName: 'Priya Raman' };
        const losingResponse = approval.status === 303 ? denial : approval;
        expect(losingResponse.text).to.contain(errorTexts.staleVersion);

        const request = await currentRequest(patient.id);
        expect(request.status).to.equal(winner.status);
        expect(request.version).to.equal(version + 1);

        const events = (await auditActionsOf(patient.id)).filter((event) => ['access.approved', 'access.denied', 'access.decisionRejected'].includes(event.action));
        expect(events).to.have.length(2);
        const applied = events.find((event) => event.action === winner.action);
        const rejected = events.find((event) => event.action === 'access.decisionRejected');
        expect(applied!.details).to.deep.include({ staffName: winner.staffName });
        expect(rejected!.details).to.deep.include({ decision: loser.decision, reason: 'staleVersion', staffName: loser.staffName });
        expect(await notificationsOf(patient.id)).to.have.length(notificationsBefore + 1);
      });
    }
  });

  describe('decision on a stale page', function () {
    it('rejects the decision with 409', async function () {
      const { patient, requestId } = await patientAt('pending');
      const stalePage = await manager.get(`${staffPath}/access/${requestId}`).expect(200);
      const staleVersion = /name="version" value="(\d+)"/.exec(stalePage.text)![1]!;
      expect((await decide(secondManager, requestId, 'approve')).status).to.equal(303);
      const before = await snapshotOf(patient.id);

      const response = await manager
        .post(`${staffPath}/access/${requestId}/decision`)
        .type('form')
        .send({ _csrf: csrfTokenFrom(stalePage.text), version: staleVersion, decision: 'deny', reason: 'Looked wrong' });

      expect(response.status).to.equal(409);
      expect(response.text).to.contain(errorTexts.staleVersion);
      expect(await snapshotOf(patient.id)).to.deep.equal(before);
      const events = await auditActionsOf(patient.id);
      expect(events[events.length - 1]!.details).to.deep.include({ decision: 'deny', reason: 'staleVersion', status: 'approved' });
    });
  });

  describe('permissions', function () {
    let pending: PatientAtStatus;
    let failed: PatientAtStatus;
    let approved: PatientAtStatus;

    before(async function () {
      pending = await patientAt('pending');
      failed = await patientAt('identity_failed');
      approved = await patientAt('approved');
    });

    async function stateOfAll() {
      return {
        pending: await snapshotOf(pending.patient.id),
        failed: await snapshotOf(failed.patient.id),
        approved: await snapshotOf(approved.patient.id),
        approvedFactors: await pluginOf(journey).models.MfaFactor.count({ where: { patientId: approved.patient.id } }),
        settings: (await pluginOf(journey).models.PracticeSettings.findByPk(riversideId))!.version,
        auditEvents: await pluginOf(journey).models.AuditEvent.count(),
      };
    }

    const attempts: Array<{ role: 'receptionist' | 'nurse'; action: string; post: () => { path: string; fields: Record<string, string> } }> = [
      { role: 'receptionist', action: 'decide', post: () => ({ path: `/access/${pending.requestId}/decision`, fields: { decision: 'approve' } }) },
      { role: 'receptionist', action: 'decide from the list', post: () => ({ path: '/access/decision', fields: { rowDecision: `deny:${pending.requestId}:1` } }) },
      { role: 'receptionist', action: 'verify in person', post: () => ({ path: `/access/${failed.requestId}/verify-in-person`, fields: { document: 'passport', confirmed: 'on' } }) },
      { role: 'receptionist', action: 'reset MFA', post: () => ({ path: `/access/${approved.requestId}/reset-mfa`, fields: { reason: 'Lost phone' } }) },
      { role: 'receptionist', action: 'change settings', post: () => ({ path: '/settings', fields: { enabled: 'on', autoApprove: 'on' } }) },
      { role: 'nurse', action: 'decide', post: () => ({ path: `/access/${pending.requestId}/decision`, fields: { decision: 'deny' } }) },
      { role: 'nurse', action: 'reset MFA', post: () => ({ path: `/access/${approved.requestId}/reset-mfa`, fields: { reason: 'Lost phone' } }) },
    ];

    for (const { role, action, post } of attempts) {
      it(`rejects ${action} by the ${role} with 403`, async function () {
        const staff = role === 'nurse' ? nurse : receptionist;
        const page = await staff.get(`${staffPath}/access`).expect(200);
        const { path, fields } = post();
        const before = await stateOfAll();
        const requestId = /^\/access\/(\d+)\//.exec(path)?.[1];
        const target = requestId ? await pluginOf(journey).models.AccessRequest.findByPk(Number(requestId)) : null;
        const settingsVersion = before.settings;

        const response = await staff
          .post(`${staffPath}${path}`)
          .type('form')
          .send({ _csrf: csrfTokenFrom(page.text), version: String(target?.version ?? settingsVersion), ...fields });

        expect(response.status).to.equal(403);
        expect(response.text).to.contain(errorTexts.permissionNeeded);
        expect(await stateOfAll()).to.deep.equal(before);
      });
    }

    it('shows the receptionist no action forms', async function () {
      const page = await receptionist.get(`${staffPath}/access/${approved.requestId}`).expect(200);

      expect(page.text).not.to.contain('/decision"');
      expect(page.text).not.to.contain('/reset-mfa"');
      expect(page.text).not.to.contain('/verify-in-person"');
    });
  });

  describe('ids of another practice', function () {
    let approved: PatientAtStatus;
    let failed: PatientAtStatus;

    before(async function () {
      approved = await patientAt('approved');
      failed = await patientAt('identity_failed');
      // A flagged request, so that the review route has something it could clear.
      await pluginOf(journey).models.AccessRequest.update({ detailsChangedInHost: true }, { where: { id: approved.requestId } });
    });

    async function stateOf(subject: PatientAtStatus) {
      return {
        request: await snapshotOf(subject.patient.id),
        factors: await pluginOf(journey).models.MfaFactor.count({ where: { patientId: subject.patient.id } }),
        verifications: await pluginOf(journey).models.IdentityVerification.count({ where: { patientId: subject.patient.id } }),
        auditEvents: await pluginOf(journey).models.AuditEvent.count({ where: { patientId: subject.patient.id } }),
        notifications: (await notificationsOf(subject.patient.id)).length,
      };
    }

    const routes: Array<{ name: string; path: (id: number) => string; fields: (version: number, id: number) => Record<string, string> }> = [
      { name: 'decision', path: (id) => `/access/${id}/decision`, fields: (version) => ({ decision: 'revoke', version: String(version) }) },
      { name: 'list decision', path: () => '/access/decision', fields: (version, id) => ({ rowDecision: `revoke:${id}:${version}` }) },
      { name: 'list decision to approve', path: () => '/access/decision', fields: (version, id) => ({ rowDecision: `approve:${id}:${version}` }) },
      { name: 'decision to approve', path: (id) => `/access/${id}/decision`, fields: (version) => ({ decision: 'approve', version: String(version) }) },
      { name: 'verify-in-person', path: (id) => `/access/${id}/verify-in-person`, fields: (version) => ({ document: 'passport', confirmed: 'on', version: String(version) }) },
      { name: 'reset-mfa', path: (id) => `/access/${id}/reset-mfa`, fields: () => ({ reason: 'Lost phone' }) },
      { name: 'details-reviewed', path: (id) => `/access/${id}/details-reviewed`, fields: (version) => ({ version: String(version) }) },
    ];

    it('answers 404 to GET of the patient page', async function () {
      for (const subject of [approved, failed]) {
        const before = await stateOf(subject);

        const response = await harbourManager.get(`${staffPath}/access/${subject.requestId}`);

        expect(response.status).to.equal(404);
        expect(response.text).to.contain(errorTexts.notFound);
        expect(response.text).not.to.contain(subject.patient.familyName);
        expect(await stateOf(subject)).to.deep.equal(before);
      }
    });

    for (const { name, path, fields } of routes) {
      it(`answers 404 to POST ${name}`, async function () {
        const page = await harbourManager.get(`${staffPath}/access`).expect(200);
        for (const subject of [approved, failed]) {
          const before = await stateOf(subject);

          const response = await harbourManager
            .post(`${staffPath}${path(subject.requestId)}`)
            .type('form')
            .send({ _csrf: csrfTokenFrom(page.text), ...fields(before.request.version, subject.requestId) });

          expect(response.status, `${name} for ${subject.patient.familyName}`).to.equal(404);
          expect(response.text).to.contain(errorTexts.notFound);
          expect(await stateOf(subject)).to.deep.equal(before);
        }
      });
    }
  });

  describe('MFA reset', function () {
    let subject: PatientAtStatus;
    let newOtpauthUri: string;

    before(async function () {
      subject = await patientAt('approved');
    });

    it('shows data before the reset', async function () {
      const section = await subject.agent.get(`${recordPath}/section/problems`).expect(200);

      expect(itemCount(section.text)).to.equal(1);
    });

    it('rejects a reset without a reason', async function () {
      const page = await manager.get(`${staffPath}/access/${subject.requestId}`).expect(200);

      const response = await manager.post(`${staffPath}/access/${subject.requestId}/reset-mfa`).type('form').send({ _csrf: csrfTokenFrom(page.text), reason: ' ' });

      expect(response.status).to.equal(400);
      expect(await pluginOf(journey).models.MfaFactor.count({ where: { patientId: subject.patient.id } })).to.equal(1);
    });

    it('removes the authenticator and recovery codes', async function () {
      const page = await manager.get(`${staffPath}/access/${subject.requestId}`).expect(200);
      const notificationsBefore = (await notificationsOf(subject.patient.id)).length;

      const response = await manager.post(`${staffPath}/access/${subject.requestId}/reset-mfa`).type('form').send({ _csrf: csrfTokenFrom(page.text), reason: 'Lost phone' });

      expect(response.status, response.text).to.equal(303);
      expect(await pluginOf(journey).models.MfaFactor.count({ where: { patientId: subject.patient.id } })).to.equal(0);
      expect(await pluginOf(journey).models.RecoveryCode.count({ where: { patientId: subject.patient.id } })).to.equal(0);
      expect((await currentRequest(subject.patient.id)).status).to.equal('approved');
      const notifications = await notificationsOf(subject.patient.id);
      expect(notifications).to.have.length(notificationsBefore + 1);
      expect(notifications[notifications.length - 1]!.subject).to.equal(notificationSubjects.mfaReset);
      const events = await auditActionsOf(subject.patient.id);
      expect(events.find((event) => event.action === 'mfa.resetByStaff')!.details).to.deep.include({ reason: 'Lost phone', staffName: 'Priya Raman', reverify: false });
    });

    it('ends every clinical session', async function () {
      const sessions = await pluginOf(journey).models.ClinicalSession.findAll({ where: { patientId: subject.patient.id } });

      expect(sessions).to.have.length.greaterThan(0);
      expect(sessions.every((session) => session.endedAt !== null && session.endedReason === 'mfaReset')).to.equal(true);
    });

    it('sends the patient to enrol again before any data', async function () {
      const section = await subject.agent.get(`${recordPath}/section/problems`).expect(303);
      const landing = await subject.agent.get(section.headers.location!).expect(200);

      expect(landing.text).to.contain('Set up an authenticator app');
      expect(itemCount(landing.text)).to.equal(0);
      newOtpauthUri = await decodeQrCode(landing.text);
      expect(new URL(newOtpauthUri).searchParams.get('secret')).to.not.equal(new URL(subject.otpauthUri!).searchParams.get('secret'));
    });

    it('rejects the old code at enrolment', async function () {
      const oldCode = await authenticatorCode(subject.otpauthUri!, journey.clock);

      const response = await postForm(subject.agent, `${recordPath}/`, `${recordPath}/authenticator`, { code: oldCode });

      expect(response.status).to.equal(400);
      expect((await pluginOf(journey).models.MfaFactor.findOne({ where: { patientId: subject.patient.id } }))!.confirmedAt).to.equal(null);
    });

    it('opens the record after the new enrolment', async function () {
      const enrolment = await enrolAuthenticator(journey, subject.agent);

      expect(enrolment.otpauthUri).to.equal(newOtpauthUri);
      const section = await subject.agent.get(`${recordPath}/section/problems`).expect(200);
      expect(itemCount(section.text)).to.equal(1);
      subject.recoveryCodes = [...subject.recoveryCodes, ...enrolment.recoveryCodes];
    });

    it('rejects old codes at the challenge', async function () {
      journey.clock.advance(16 * 60 * 1000);
      const oldRecoveryCode = subject.recoveryCodes[0]!;
      const oldTotpCode = await authenticatorCode(subject.otpauthUri!, journey.clock);

      const recoveryAttempt = await postForm(subject.agent, `${recordPath}/`, `${recordPath}/challenge`, { code: oldRecoveryCode });
      const totpAttempt = await postForm(subject.agent, `${recordPath}/`, `${recordPath}/challenge`, { code: oldTotpCode });

      expect(recoveryAttempt.status).to.equal(400);
      expect(totpAttempt.status).to.equal(400);
      const landing = await subject.agent.get(`${recordPath}/`).expect(200);
      expect(landing.text).to.contain('Enter your code');
    });

    it('accepts the new authenticator code', async function () {
      const code = await authenticatorCode(newOtpauthUri, journey.clock);

      const response = await postForm(subject.agent, `${recordPath}/`, `${recordPath}/challenge`, { code });

      expect(response.status, response.text).to.equal(303);
      const section = await subject.agent.get(`${recordPath}/section/problems`).expect(200);
      expect(itemCount(section.text)).to.equal(1);
    });
  });

  describe('MFA reset with a new identity check', function () {
    let subject: PatientAtStatus;

    before(async function () {
      await saveSettings({ reverifyAfterMfaReset: true });
      subject = await patientAt('approved');
    });

    after(async function () {
      await saveSettings({ reverifyAfterMfaReset: false });
    });

    it('sends the patient back to the identity check', async function () {
      const page = await manager.get(`${staffPath}/access/${subject.requestId}`).expect(200);

      const response = await manager.post(`${staffPath}/access/${subject.requestId}/reset-mfa`).type('form').send({ _csrf: csrfTokenFrom(page.text), reason: 'New phone' });

      expect(response.status, response.text).to.equal(303);
      const request = await currentRequest(subject.patient.id);
      expect(request.status).to.equal('identity_pending');
      expect(request.statusReason).to.equal('mfaReset');
      expect(request.identityVerifiedAt).to.equal(null);
      const section = await subject.agent.get(`${recordPath}/section/problems`).expect(303);
      const landing = await subject.agent.get(section.headers.location!).expect(200);
      expect(landing.text).to.contain('Checking your identity');
      expect(itemCount(landing.text)).to.equal(0);
    });

    it('rejects approval before the new check', async function () {
      const response = await decide(manager, subject.requestId, 'approve');

      expect(response.status).to.equal(422);
    });

    it('reaches pending after a new check and enrolment', async function () {
      const start = await postForm(subject.agent, `${recordPath}/`, `${recordPath}/identity/start`);
      expect(start.status, start.text).to.equal(303);
      const sessionId = /\/verify\/(vs_[A-Za-z0-9]+)/.exec(start.headers.location ?? '')![1]!;
      const { patient } = subject;
      await finishIdentityCheck(subject.agent, sessionId, { kind: 'verified', firstName: patient.givenNames.join(' '), lastName: patient.familyName, dob: patient.birthDate });

      await enrolAuthenticator(journey, subject.agent);

      expect((await currentRequest(subject.patient.id)).status).to.equal('pending');
    });
  });

  describe('notifications', function () {
    let subject: PatientAtStatus;
    let lastNotificationId = 0;

    /** Returns the notifications sent since the last call, as recipient and subject. */
    async function newNotifications() {
      const rows = await journey.sandbox.models.Notification.findAll({ where: { id: { [Op.gt]: lastNotificationId } }, order: [['id', 'ASC']] });
      lastNotificationId = rows.length > 0 ? rows[rows.length - 1]!.id : lastNotificationId;
      return rows.map((row) => ({ to: row.recipientType === 'staff' ? 'staff' : String(row.recipientId), subject: row.subject, body: row.body }));
    }

    before(async function () {
      const last = await journey.sandbox.models.Notification.findOne({ order: [['id', 'DESC']] });
      lastNotificationId = last?.id ?? 0;
      subject = await patientAt('mfa_pending');
      expect(await newNotifications()).to.deep.equal([]);
    });

    it('tells staff once when the request is pending', async function () {
      const enrolment = await enrolAuthenticator(journey, subject.agent);
      subject.recoveryCodes = enrolment.recoveryCodes;

      const sent = await newNotifications();
      expect(sent.map(({ to, subject: title }) => ({ to, subject: title }))).to.deep.equal([{ to: 'staff', subject: notificationSubjects.pendingApproval }]);
      expect(sent[0]!.body).to.contain(`request ${subject.requestId}`);
      expect(sent[0]!.body).not.to.contain(subject.patient.familyName);
    });

    it('tells the patient once on approval', async function () {
      await decide(manager, subject.requestId, 'approve');

      expect((await newNotifications()).map(({ to, subject: title }) => ({ to, subject: title }))).to.deep.equal([{ to: subject.patient.id, subject: notificationSubjects.approved }]);
    });

    it('tells the patient once when a recovery code is used', async function () {
      journey.clock.advance(16 * 60 * 1000);

      const response = await postForm(subject.agent, `${recordPath}/`, `${recordPath}/challenge`, { code: subject.recoveryCodes[0]! });

      expect(response.status, response.text).to.equal(303);
      const sent = await newNotifications();
      expect(sent.map(({ to, subject: title }) => ({ to, subject: title }))).to.deep.equal([{ to: subject.patient.id, subject: notificationSubjects.recoveryCodeUsed }]);
      expect(sent[0]!.body).to.contain('You have 9 recovery codes left.');
    });

    it('tells the patient once on revocation', async function () {
      await decide(manager, subject.requestId, 'revoke');

      expect((await newNotifications()).map(({ to, subject: title }) => ({ to, subject: title }))).to.deep.equal([{ to: subject.patient.id, subject: notificationSubjects.revoked }]);
    });

    it('tells staff once when the patient asks again', async function () {
      const response = await postForm(subject.agent, `${recordPath}/`, `${recordPath}/request-again`);

      expect(response.status).to.equal(303);
      expect((await newNotifications()).map(({ to, subject: title }) => ({ to, subject: title }))).to.deep.equal([{ to: 'staff', subject: notificationSubjects.pendingApproval }]);
    });

    it('tells the patient once on denial', async function () {
      await decide(manager, subject.requestId, 'deny');

      expect((await newNotifications()).map(({ to, subject: title }) => ({ to, subject: title }))).to.deep.equal([{ to: subject.patient.id, subject: notificationSubjects.denied }]);
    });

    it('tells the patient once on an MFA reset', async function () {
      const page = await manager.get(`${staffPath}/access/${subject.requestId}`).expect(200);

      await manager.post(`${staffPath}/access/${subject.requestId}/reset-mfa`).type('form').send({ _csrf: csrfTokenFrom(page.text), reason: 'Lost phone' }).expect(303);

      expect((await newNotifications()).map(({ to, subject: title }) => ({ to, subject: title }))).to.deep.equal([{ to: subject.patient.id, subject: notificationSubjects.mfaReset }]);
    });

    it('sends nothing for a rejected decision', async function () {
      await decide(manager, subject.requestId, 'revoke');

      expect(await newNotifications()).to.deep.equal([]);
    });
  });

  describe('the list', function () {
    const seededCount = 120;
    const givenNames = ['Ada', 'Bram', 'Cora', 'Dev', 'Esme', 'Finn', 'Gwen', 'Hugo', 'Iris', 'Jude'];
    const familyNames = ['Harper', 'Lowe', 'Marsh', 'Quinn', 'Rowe', 'Shaw'];
    const otherStatuses: AccessStatus[] = ['approved', 'denied', 'revoked', 'identity_pending', 'identity_failed', 'identity_mismatch', 'mfa_pending'];
    const statusLabels: Record<AccessStatus | 'all', string> = {
      all: 'All',
      pending: 'Pending',
      approved: 'Approved',
      denied: 'Denied',
      revoked: 'Revoked',
      identity_pending: 'Identity check started',
      identity_failed: 'Identity check failed',
      identity_mismatch: 'Details did not match',
      mfa_pending: 'Authenticator not yet set up',
    };
    const listBase = new Date('2026-11-01T00:00:00Z').getTime();

    /** Returns the name, date of birth, status and last change of seeded patient `index`. */
    function seedOf(index: number) {
      const birthDate = [5, 50, 95].includes(index)
        ? '1984-03-17'
        : `${1940 + (index % 60)}-${String(1 + (index % 12)).padStart(2, '0')}-${String(1 + (index % 28)).padStart(2, '0')}`;
      return {
        givenNames: [givenNames[index % givenNames.length]!],
        familyName: index % 20 === 7 ? 'Ó Súilleabháin' : familyNames[index % familyNames.length]!,
        birthDate,
        status: index % 2 === 0 ? 'pending' : otherStatuses[((index - 1) / 2) % otherStatuses.length]!,
        // Three requests share each instant, so the id decides their order.
        lastChangedAt: new Date(listBase + Math.floor(index / 3) * 60_000),
      };
    }

    const requestIds: number[] = [];
    const indexOfRequest = new Map<number, number>();

    function expectedIds(matches: (index: number) => boolean, order: 'newest' | 'oldest' = 'newest'): number[] {
      const ids = requestIds.filter((id) => matches(indexOfRequest.get(id)!));
      const key = (id: number) => seedOf(indexOfRequest.get(id)!).lastChangedAt.getTime();
      const ascending = [...ids].sort((left, right) => key(left) - key(right) || left - right);
      return order === 'oldest' ? ascending : ascending.reverse();
    }

    /** Follows `rel` links from `start`, returning each page's request ids. */
    async function walk(start: string, rel: 'next' | 'prev'): Promise<{ pages: number[][]; lastHref: string }> {
      const pages: number[][] = [];
      let href: string | null = start;
      let lastHref = start;
      while (href) {
        const page = await harbourManager.get(href).expect(200);
        pages.push(listedRequestIds(page.text));
        lastHref = href;
        href = linkOf(page.text, rel);
        expect(pages.length, 'pages walked').to.be.at.most(10);
      }
      return { pages, lastHref };
    }

    before(async function () {
      const plugin = pluginOf(journey);
      await journey.sandbox.models.Patient.bulkCreate(
        Array.from({ length: seededCount }, (_, index) => {
          const seed = seedOf(index);
          return {
            practiceId: Number(harbourId),
            demoKey: null,
            givenNames: JSON.stringify(seed.givenNames),
            familyName: seed.familyName,
            birthDate: seed.birthDate,
            status: 'active' as const,
            mergedIntoId: null,
            sourceSystemId: `list-seed-${index}`,
            portalLogin: null,
            passwordHash: null,
          };
        }),
      );
      for (let index = 0; index < seededCount; index += 1) {
        const patient = await journey.sandbox.models.Patient.findOne({ where: { practiceId: Number(harbourId), sourceSystemId: `list-seed-${index}` } });
        const request = await plugin.access.create(harbourId, toHostPatient(patient!));
        const seed = seedOf(index);
        await plugin.models.AccessRequest.update({ status: seed.status, lastChangedAt: seed.lastChangedAt }, { where: { id: request.id } });
        requestIds.push(Number(request.id));
        indexOfRequest.set(Number(request.id), index);
      }
      // The statuses and times above were set around the access service, so recount them and
      // copy them into the search index.
      await rebuildStatusCounts(plugin.models, harbourId);
      await rebuildSearchOrder(plugin.models, harbourId);
    });

    it('counts requests per status', async function () {
      const page = await harbourManager.get(`${staffPath}/access`).expect(200);

      const expected: Record<string, number> = { [statusLabels.all]: seededCount };
      for (const status of Object.keys(statusLabels) as Array<AccessStatus | 'all'>) {
        if (status !== 'all') {
          expected[statusLabels[status]] = expectedIds((index) => seedOf(index).status === status).length;
        }
      }
      expect(filterCounts(page.text)).to.deep.equal(expected);
      expect(expected[statusLabels.pending]).to.equal(60);
    });

    it('keeps the counts to the practice', async function () {
      const page = await manager.get(`${staffPath}/access`).expect(200);

      expect(filterCounts(page.text)[statusLabels.all]).to.be.lessThan(seededCount);
      expect(listedRequestIds(page.text).some((id) => indexOfRequest.has(id))).to.equal(false);
    });

    it('filters by status', async function () {
      for (const status of ['approved', 'identity_mismatch', 'mfa_pending'] as const) {
        const page = await harbourManager.get(`${staffPath}/access?status=${status}`).expect(200);

        expect(listedRequestIds(page.text), status).to.deep.equal(expectedIds((index) => seedOf(index).status === status));
        expect(page.text).to.contain(`aria-current="page">${statusLabels[status]} <span`);
      }
    });

    it('orders by last change, newest or oldest first', async function () {
      const newest = await harbourManager.get(`${staffPath}/access?status=denied`).expect(200);
      const oldest = await harbourManager.get(`${staffPath}/access?status=denied&order=oldest`).expect(200);

      const denied = expectedIds((index) => seedOf(index).status === 'denied');
      expect(listedRequestIds(newest.text)).to.deep.equal(denied);
      expect(listedRequestIds(oldest.text)).to.deep.equal([...denied].reverse());
    });

    const searches: Array<{ query: string; matches: (index: number) => boolean; count?: number }> = [
      { query: 'ada', matches: (index) => index % 10 === 0, count: 12 },
      { query: 'ADA', matches: (index) => index % 10 === 0, count: 12 },
      { query: 'harp', matches: (index) => index % 6 === 0 && index % 20 !== 7, count: 20 },
      { query: 'ada harper', matches: (index) => index % 30 === 0, count: 4 },
      { query: 'harper ada', matches: (index) => index % 30 === 0, count: 4 },
      { query: 'suilleabhain', matches: (index) => index % 20 === 7, count: 6 },
      { query: 'Súil', matches: (index) => index % 20 === 7, count: 6 },
      { query: '17/03/1984', matches: (index) => [5, 50, 95].includes(index), count: 3 },
      { query: '1984-03-17', matches: (index) => [5, 50, 95].includes(index), count: 3 },
      { query: 'zed', matches: () => false, count: 0 },
    ];

    for (const { query, matches, count } of searches) {
      it(`searches for "${query}"`, async function () {
        const page = await harbourManager.get(`${staffPath}/access?q=${encodeURIComponent(query)}`).expect(200);

        const expected = expectedIds(matches);
        expect(listedRequestIds(page.text)).to.deep.equal(expected);
        if (count !== undefined) {
          expect(expected).to.have.length(count);
        }
      });
    }

    it('combines search and status filter', async function () {
      const page = await harbourManager.get(`${staffPath}/access?status=pending&q=ada`).expect(200);

      expect(listedRequestIds(page.text)).to.deep.equal(expectedIds((index) => index % 10 === 0 && seedOf(index).status === 'pending'));
      expect(page.text).to.contain('<input type="hidden" name="status" value="pending">');
    });

    it('walks every page forward and back', async function () {
      const forward = await walk(`${staffPath}/access`, 'next');
      const backward = await walk(forward.lastHref, 'prev');

      expect(forward.pages.map((page) => page.length)).to.deep.equal([50, 50, 20]);
      expect(forward.pages.flat()).to.deep.equal(expectedIds(() => true));
      expect(new Set(forward.pages.flat()).size).to.equal(seededCount);
      expect(backward.pages).to.deep.equal([...forward.pages].reverse());
    });

    it('walks filtered pages in the oldest-first order', async function () {
      const forward = await walk(`${staffPath}/access?status=pending&order=oldest`, 'next');
      const backward = await walk(forward.lastHref, 'prev');

      expect(forward.lastHref).to.contain('status=pending');
      expect(forward.lastHref).to.contain('order=oldest');
      expect(forward.pages.map((page) => page.length)).to.deep.equal([50, 10]);
      expect(forward.pages.flat()).to.deep.equal(expectedIds((index) => seedOf(index).status === 'pending', 'oldest'));
      expect(backward.pages).to.deep.equal([...forward.pages].reverse());
    });

    it('walks a name search with shared times in small pages', async function () {
      // Hugo (index 7, 17, …) and Harper (index 0, 6, 12, …) share instants, as index 6 and 7 do.
      const matches = (index: number) => index % 10 === 7 || (index % 6 === 0 && index % 20 !== 7);
      const plugin = pluginOf(journey);
      const list = (order: 'newest' | 'oldest', cursor: ListCursor | null) =>
        listAccessRequests({ sequelize: journey.sandbox.sequelize, models: plugin.models }, { practiceId: harbourId, status: 'all', search: 'h', order, cursor, pageSize: 4 });

      for (const order of ['newest', 'oldest'] as const) {
        const forward: number[] = [];
        let page = await list(order, null);
        forward.push(...page.rows.map((row) => Number(row.id)));
        while (page.next) {
          page = await list(order, page.next);
          forward.push(...page.rows.map((row) => Number(row.id)));
        }
        const lastPageSize = page.rows.length;
        const backward: number[] = [];
        while (page.previous) {
          page = await list(order, page.previous);
          backward.unshift(...page.rows.map((row) => Number(row.id)));
        }

        expect(forward, order).to.deep.equal(expectedIds(matches, order));
        expect(backward, order).to.deep.equal(forward.slice(0, forward.length - lastPageSize));
      }
    });

    const badQueries = ['status=nope', 'page=garbage', 'order=sideways', `q=${'a'.repeat(101)}`, 'q=%07bell', 'page=a253402300800000.1', 'page=b999999999999999.1'];

    for (const query of badQueries) {
      it(`rejects ?${query.slice(0, 20)} with a 400`, async function () {
        const response = await harbourManager.get(`${staffPath}/access?${query}`);

        expect(response.status).to.equal(400);
        expect(response.text).to.contain('The filter, search or page in the address is not valid.');
        expect(listedRequestIds(response.text)).to.deep.equal([]);
      });
    }

    for (const query of ["'", '-', '’ ,', '(  )']) {
      it(`rejects the search "${query}" as having no words`, async function () {
        const response = await harbourManager.get(`${staffPath}/access?q=${encodeURIComponent(query)}`);

        expect(response.status).to.equal(400);
        expect(response.text).to.contain('The search has no letters or digits.');
        expect(listedRequestIds(response.text)).to.deep.equal([]);
      });
    }

    it('rejects a search of more than 8 words', async function () {
      const eight = await harbourManager.get(`${staffPath}/access?q=${encodeURIComponent('ada harper a h ad ha har harp')}`);
      const nine = await harbourManager.get(`${staffPath}/access?q=${encodeURIComponent('ada harper a h ad ha har harp zed')}`);

      expect(eight.status).to.equal(200);
      expect(listedRequestIds(eight.text)).to.deep.equal(expectedIds((index) => index % 30 === 0));
      expect(nine.status).to.equal(400);
      expect(nine.text).to.contain('Search with at most 8 words of a name.');
      expect(listedRequestIds(nine.text)).to.deep.equal([]);
    });

    /**
     * Returns what one row's decision buttons send: the list form's address and hidden fields,
     * and each button's rowDecision value by its decision.
     */
    function rowDecisionForm(html: string, requestId: number) {
      const row = new RegExp(`<tr data-request-id="${requestId}">[\\s\\S]*?</tr>`).exec(html)?.[0];
      const buttons = row ? [...row.matchAll(/<button type="submit" name="rowDecision" value="(\w+):(\d+):(\d+)">/g)] : [];
      const form = /<form id="cra-list-decisions" method="post" action="([^"]+)">[\s\S]*?<\/form>/.exec(html);
      if (buttons.length === 0 || !form || !form[0].includes(row!)) {
        return null;
      }
      const fields = Object.fromEntries([...form[0].matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)].map((match) => [match[1]!, unescapeHref(match[2]!)]));
      const decisions = buttons.map((button) => button[1]!);
      const rowDecisions = Object.fromEntries(buttons.map((button) => [button[1]!, { value: `${button[1]}:${button[2]}:${button[3]}`, requestId: Number(button[2]), version: button[3]! }]));
      return { fields, action: unescapeHref(form[1]!), decisions, rowDecisions };
    }

    it('offers on each row only the decisions it allows', async function () {
      const pending = await harbourManager.get(`${staffPath}/access?status=pending`).expect(200);
      const approved = await harbourManager.get(`${staffPath}/access?status=approved`).expect(200);
      const started = await harbourManager.get(`${staffPath}/access?status=identity_pending`).expect(200);

      const pendingIds = listedRequestIds(pending.text);
      const approvedIds = listedRequestIds(approved.text);
      const startedIds = listedRequestIds(started.text);

      // The seeded requests never had their identity verified, so none of them can be approved.
      expect(pendingIds.map((id) => rowDecisionForm(pending.text, id)?.decisions)).to.deep.equal(pendingIds.map(() => ['deny']));
      expect(approvedIds.map((id) => rowDecisionForm(approved.text, id)?.decisions)).to.deep.equal(approvedIds.map(() => ['revoke']));
      expect(startedIds.map((id) => rowDecisionForm(started.text, id))).to.deep.equal(startedIds.map(() => null));
      expect(startedIds).to.not.have.length(0);
    });

    it('shows no decisions to staff without the permission', async function () {
      const page = await receptionist.get(`${staffPath}/access`).expect(200);

      expect(listedRequestIds(page.text)).to.not.have.length(0);
      expect(page.text).to.not.contain('rowDecision');
      expect(page.text).to.not.contain('cra-list-decisions');
    });

    /** Returns the hidden fields and the cancel address of a list decision's confirmation page. */
    function confirmationOf(html: string) {
      const form = /<form method="post" action="[^"]+\/access\/decision" class="cra-decision-form">[\s\S]*?<\/form>/.exec(html)?.[0] ?? '';
      const fields = Object.fromEntries([...form.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)].map((match) => [match[1]!, unescapeHref(match[2]!)]));
      const cancel = /<a href="([^"]+)">Cancel and go back to the list<\/a>/.exec(form)?.[1];
      return { fields, cancelHref: cancel === undefined ? null : unescapeHref(cancel) };
    }

    it('asks before denying from the list', async function () {
      const plugin = pluginOf(journey);
      const view = `${staffPath}/access?status=pending&q=ada`;
      const page = await harbourManager.get(view).expect(200);
      const requestId = listedRequestIds(page.text)[0]!;
      const form = rowDecisionForm(page.text, requestId)!;
      const before = await plugin.models.AccessRequest.findByPk(requestId, { raw: true });
      const eventsBefore = await plugin.models.AuditEvent.count({ where: { practiceId: harbourId } });

      const response = await harbourManager.post(form.action!).type('form').send({ ...form.fields, rowDecision: form.rowDecisions.deny!.value });
      const confirmation = confirmationOf(response.text);

      expect(form.action).to.equal(`${staffPath}/access/decision`);
      expect(form.rowDecisions.deny!.requestId).to.equal(requestId);
      expect(form.fields).to.have.keys('_csrf', 'listStatus', 'listQ', 'listOrder');
      expect(form.fields).to.deep.include({ listStatus: 'pending', listQ: 'ada', listOrder: 'newest' });
      expect(response.status, response.text).to.equal(200);
      expect(response.text).to.match(/<h1>Deny .+ request\?<\/h1>/);
      expect(response.text).to.contain('<button type="submit">Deny request</button>');
      expect(response.text).to.contain('name="reason"');
      expect(response.text).to.contain('name="message"');
      expect(confirmation.fields).to.deep.include({ rowDecision: form.rowDecisions.deny!.value, confirmed: 'yes', listStatus: 'pending', listQ: 'ada', listOrder: 'newest' });
      expect(confirmation.cancelHref).to.equal(view);
      expect(await plugin.models.AccessRequest.findByPk(requestId, { raw: true })).to.deep.equal(before);
      expect(await plugin.models.AuditEvent.count({ where: { practiceId: harbourId } })).to.equal(eventsBefore);
    });

    it('denies from the list once confirmed', async function () {
      const plugin = pluginOf(journey);
      const view = `${staffPath}/access?status=pending&q=ada`;
      const page = await harbourManager.get(view).expect(200);
      const requestId = listedRequestIds(page.text)[0]!;
      const form = rowDecisionForm(page.text, requestId)!;
      const question = await harbourManager.post(form.action!).type('form').send({ ...form.fields, rowDecision: form.rowDecisions.deny!.value }).expect(200);
      const { fields } = confirmationOf(question.text);
      const patientId = (await plugin.models.AccessRequest.findByPk(requestId))!.subjectPatientId;
      const notificationsBefore = (await notificationsOf(patientId)).length;

      const response = await harbourManager.post(form.action!).type('form').send({ ...fields, reason: 'Not registered here', message: 'Please call the practice.' });
      const after = await harbourManager.get(response.headers.location!).expect(200);
      const notifications = await notificationsOf(patientId);

      expect(response.status, response.text).to.equal(303);
      expect(response.headers.location).to.equal(`${view}&notice=deny&noticeRequest=${requestId}`);
      expect(after.text).to.contain('Request denied. The patient has been told.');
      expect(listedRequestIds(after.text)).to.not.include(requestId);
      expect((await plugin.models.AccessRequest.findByPk(requestId))!.status).to.equal('denied');
      expect((await plugin.models.AccessRequest.findByPk(requestId))!.decisionReason).to.equal('Not registered here');
      expect(notifications).to.have.length(notificationsBefore + 1);
      expect(notifications.at(-1)!.body).to.contain('Please call the practice.');
    });

    it('asks before revoking from the list', async function () {
      const plugin = pluginOf(journey);
      const page = await harbourManager.get(`${staffPath}/access?status=approved`).expect(200);
      const requestId = listedRequestIds(page.text)[0]!;
      const form = rowDecisionForm(page.text, requestId)!;
      const before = await plugin.models.AccessRequest.findByPk(requestId, { raw: true });

      const response = await harbourManager.post(form.action!).type('form').send({ ...form.fields, rowDecision: form.rowDecisions.revoke!.value });

      expect(response.status, response.text).to.equal(200);
      expect(response.text).to.match(/<h1>Revoke .+ access\?<\/h1>/);
      expect(response.text).to.contain('<button type="submit">Revoke access</button>');
      expect(confirmationOf(response.text).cancelHref).to.equal(`${staffPath}/access?status=approved`);
      expect(await plugin.models.AccessRequest.findByPk(requestId, { raw: true })).to.deep.equal(before);
    });

    it('approves a verified request from the list', async function () {
      const plugin = pluginOf(journey);
      const denied = await plugin.models.AccessRequest.findOne({ where: { practiceId: harbourId, status: 'denied' }, order: [['id', 'ASC']] });
      await plugin.models.AccessRequest.update({ identityMethod: 'in_person', identityVerifiedAt: new Date('2026-11-30T10:00:00Z') }, { where: { id: denied!.id } });
      const page = await harbourManager.get(`${staffPath}/access?status=denied&q=${encodeURIComponent(denied!.displayName)}`).expect(200);
      const form = rowDecisionForm(page.text, Number(denied!.id))!;

      const response = await harbourManager.post(form.action!).type('form').send({ ...form.fields, rowDecision: form.rowDecisions.approve!.value });

      expect(form.decisions).to.deep.equal(['approve']);
      expect(response.status, response.text).to.equal(303);
      expect((await plugin.models.AccessRequest.findByPk(denied!.id))!.status).to.equal('approved');
    });

    it('rejects a list decision made on a stale row', async function () {
      const page = await harbourManager.get(`${staffPath}/access?status=pending`).expect(200);
      const requestId = listedRequestIds(page.text)[0]!;
      const form = rowDecisionForm(page.text, requestId)!;
      const confirmed = { ...form.fields, rowDecision: form.rowDecisions.deny!.value, confirmed: 'yes' };
      await harbourManager.post(form.action!).type('form').send(confirmed).expect(303);

      const staleConfirmation = await harbourManager.post(form.action!).type('form').send({ ...form.fields, rowDecision: form.rowDecisions.deny!.value });
      const stale = await harbourManager.post(form.action!).type('form').send(confirmed);

      expect(staleConfirmation.status).to.equal(409);
      expect(staleConfirmation.text).to.contain(errorTexts.staleVersion);
      expect(stale.status).to.equal(409);
      expect(stale.text).to.contain(errorTexts.staleVersion);
      expect(stale.text).to.contain(`<a href="${staffPath}/access?status&#x3D;pending">Back to the list of patients</a>`);
    });

    it('rejects a list decision the status does not allow', async function () {
      const plugin = pluginOf(journey);
      const page = await harbourManager.get(`${staffPath}/access?status=pending`).expect(200);
      const requestId = listedRequestIds(page.text)[0]!;
      const form = rowDecisionForm(page.text, requestId)!;
      const revoke = `revoke:${requestId}:${form.rowDecisions.deny!.version}`;
      const before = await plugin.models.AccessRequest.findByPk(requestId, { raw: true });

      const question = await harbourManager.post(form.action!).type('form').send({ ...form.fields, rowDecision: revoke });
      const confirmed = await harbourManager.post(form.action!).type('form').send({ ...form.fields, rowDecision: revoke, confirmed: 'yes' });

      expect(question.status).to.equal(409);
      expect(question.text).to.contain(errorTexts.notAllowedFromStatus);
      expect(confirmed.status).to.equal(409);
      expect(confirmed.text).to.contain(errorTexts.notAllowedFromStatus);
      expect(await plugin.models.AccessRequest.findByPk(requestId, { raw: true })).to.deep.equal(before);
    });

    it('counts a typed line break as one character', async function () {
      const plugin = pluginOf(journey);
      const page = await harbourManager.get(`${staffPath}/access?status=pending`).expect(200);
      const requestId = listedRequestIds(page.text)[0]!;
      const form = rowDecisionForm(page.text, requestId)!;
      const patientId = (await plugin.models.AccessRequest.findByPk(requestId))!.subjectPatientId;
      // 1,000 characters as the browser counts them, sent with 24 CR LF line breaks (1,024).
      const message = `${Array.from({ length: 25 }, () => 'x'.repeat(39)).join('\r\n')}y`;

      const response = await harbourManager.post(form.action!).type('form').send({ ...form.fields, rowDecision: form.rowDecisions.deny!.value, confirmed: 'yes', message });
      const sent = (await notificationsOf(patientId)).at(-1)!;

      expect(message.replace(/\r\n/g, '\n')).to.have.length(1000);
      expect(response.status, response.text).to.equal(303);
      expect(sent.body).to.contain(message.replace(/\r\n/g, '\n'));
    });

    it('rejects mixed or impossible list decisions', async function () {
      const plugin = pluginOf(journey);
      const page = await harbourManager.get(`${staffPath}/access?status=pending`).expect(200);
      const requestId = listedRequestIds(page.text)[0]!;
      const form = rowDecisionForm(page.text, requestId)!;
      const { version } = form.rowDecisions.deny!;
      const before = await plugin.models.AccessRequest.findByPk(requestId, { raw: true });

      const mixed = [
        { rowDecision: `deny:${requestId}:${version}`, decision: 'deny' },
        { rowDecision: `deny:${requestId}:${version}`, version },
        { decision: 'deny', version },
        { rowDecision: `deny:${requestId}:2147483648` },
        { rowDecision: `deny:${requestId}:0` },
        { rowDecision: `deny:0:${version}` },
        { rowDecision: `deny:${requestId}` },
        { rowDecision: `deny:${requestId}:${version}`, extra: 'deny' },
        { rowDecision: `Deny:${requestId}:${version}` },
        { rowDecision: `deny:${requestId}:${version}`, confirmed: 'no' },
        { rowDecision: `deny:${requestId}:${version}`, confirmed: 'yes', reason: 'x'.repeat(501) },
      ];
      const responses = [];
      for (const fields of mixed) {
        responses.push(await harbourManager.post(form.action!).type('form').send({ ...form.fields, ...fields }));
      }

      expect(responses.map((response) => response.status)).to.deep.equal(mixed.map(() => 400));
      expect(responses[0]!.text).to.contain('Nothing was changed');
      expect(await plugin.models.AccessRequest.findByPk(requestId, { raw: true })).to.deep.equal(before);
    });

    it('shows a list notice only when true', async function () {
      const plugin = pluginOf(journey);
      const approved = await plugin.models.AccessRequest.findOne({ where: { practiceId: harbourId, status: 'approved' } });
      const otherPractice = await plugin.models.AccessRequest.findOne({ where: { practiceId: { [Op.ne]: harbourId }, status: 'approved' } });
      const list = `${staffPath}/access?status=approved`;

      const matching = await harbourManager.get(`${list}&notice=approve&noticeRequest=${approved!.id}`).expect(200);
      const madeUp = await harbourManager.get(`${list}&notice=revoke&noticeRequest=${approved!.id}`).expect(200);
      const unnamed = await harbourManager.get(`${list}&notice=approve`).expect(200);
      const foreign = await harbourManager.get(`${list}&notice=approve&noticeRequest=${otherPractice!.id}`).expect(200);
      const malformed = await harbourManager.get(`${list}&notice=approve&noticeRequest=first`);

      expect(matching.text).to.contain('Access approved. The patient has been told.');
      expect(madeUp.text).to.not.contain('Access revoked.');
      expect(unnamed.text).to.not.contain('Access approved.');
      expect(foreign.text).to.not.contain('Access approved.');
      expect(malformed.status).to.equal(400);
    });

    it('shows an address notice only when true', async function () {
      const approved = await pluginOf(journey).models.AccessRequest.findOne({ where: { practiceId: harbourId, status: 'approved' } });

      const matching = await harbourManager.get(`${staffPath}/access/${approved!.id}?notice=approve`).expect(200);
      const madeUp = await harbourManager.get(`${staffPath}/access/${approved!.id}?notice=revoke`).expect(200);

      expect(matching.text).to.contain('Access approved. The patient has been told.');
      expect(madeUp.text).to.not.contain('Access revoked.');
    });

    it('reads a tab in the search as a space', async function () {
      const page = await harbourManager.get(`${staffPath}/access?q=${encodeURIComponent('ada\tharper')}`).expect(200);

      expect(listedRequestIds(page.text)).to.deep.equal(expectedIds((index) => index % 30 === 0));
    });
  });
});
