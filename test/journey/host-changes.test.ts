import { expect } from 'chai';
import type { Agent } from 'supertest';
import { rebuildStatusCounts } from '../../plugin/access/access-service.js';
import { searchIndexDrift } from '../support/search-index.js';
import {
  accessRequestOf,
  completeIdentityCheck,
  csrfTokenFrom,
  enableClinicalAccess,
  enrolAuthenticator,
  patientIdOf,
  pluginOf,
  recordPath,
  requestAccess,
  signIn,
  staffDecide,
  staffPath,
  startJourneySandbox,
  type JourneySandbox,
} from '../support/journey.js';

const managerEmail = 'manager@riverside.example.test';

interface DemoPatient {
  portalLogin: string;
  givenNames: string[];
  familyName: string;
  birthDate: string;
}

const chidi: DemoPatient = { portalLogin: 'chidi.okafor@example.test', givenNames: ['Chidi'], familyName: 'Okafor', birthDate: '1988-09-30' };
const oliver: DemoPatient = { portalLogin: 'oliver.bennett@example.test', givenNames: ['Oliver'], familyName: 'Bennett', birthDate: '1979-01-05' };
const priya: DemoPatient = { portalLogin: 'priya.raghunathan@example.test', givenNames: ['Priya'], familyName: 'Raghunathan', birthDate: '1975-10-19' };
const zoe: DemoPatient = { portalLogin: 'zoe.ashworth-clarke@example.test', givenNames: ['Zoë'], familyName: 'Ashworth-Clarke', birthDate: '1992-07-08' };
const declan: DemoPatient = { portalLogin: 'declan.obrien@example.test', givenNames: ['Declan'], familyName: "O'Brien", birthDate: '1981-11-02' };

/** Counts the items a section page lists. */
function itemCount(html: string): number {
  return [...html.matchAll(/data-record-item="/g)].length;
}

/** Returns the table row of one request on the staff list, or null when the page does not list it. */
function listRowOf(html: string, requestId: number): string | null {
  const match = new RegExp(`<tr data-request-id="${requestId}">[\\s\\S]*?</tr>`).exec(html);
  return match ? match[0] : null;
}

/**
 * Takes a demo patient from request to approved access with auto-approve on, and returns the
 * patient's portal agent, which has an open clinical session.
 */
async function approvedPatient(journey: JourneySandbox, patient: DemoPatient): Promise<Agent> {
  const agent = await signIn(journey, 'portal', patient.portalLogin);
  const sessionId = await requestAccess(agent);
  await completeIdentityCheck(journey, sessionId, { kind: 'verified', firstName: patient.givenNames.join(' '), lastName: patient.familyName, dob: patient.birthDate });
  await agent.get(`${recordPath}/identity/return`).expect(303);
  await enrolAuthenticator(journey, agent);
  return agent;
}

/**
 * Submits the sandbox's patient form as `staff`, starting from the patient's current values,
 * and returns the response.
 */
async function changePatient(journey: JourneySandbox, staff: Agent, patientId: string, changes: Record<string, string>) {
  const row = await journey.sandbox.models.Patient.findByPk(Number(patientId));
  const page = await staff.get('/admin/patients');
  const fields = {
    _csrf: csrfTokenFrom(page.text),
    givenNames: (JSON.parse(row!.givenNames) as string[]).join(' '),
    familyName: row!.familyName,
    birthDate: row!.birthDate,
    status: row!.status,
    ...changes,
  };
  return staff.post(`/admin/patients/${patientId}`).type('form').send(fields);
}

async function auditEventsOf(journey: JourneySandbox, patientId: string, action?: string) {
  const where: Record<string, string> = { patientId };
  if (action) {
    where.action = action;
  }
  return pluginOf(journey).models.AuditEvent.findAll({ where, order: [['id', 'ASC']] });
}

describe('host changes: patient status and details', function () {
  let journey: JourneySandbox;
  let manager: Agent;

  before(async function () {
    journey = await startJourneySandbox();
    await enableClinicalAccess(journey, { autoApprove: true });
    manager = await signIn(journey, 'admin', managerEmail);
  });

  // Each step happens a second after the one before, so a change that moved a request's last
  // change time without its search index shows as a difference in the last test.
  beforeEach(function () {
    journey.clock.advance(1000);
  });

  after(async function () {
    await journey.stop();
  });

  describe('status changes', function () {
    const cases = [
      { status: 'deceased', patient: chidi, reason: 'patient_deceased', label: 'patient recorded as deceased' },
      { status: 'inactive', patient: oliver, reason: 'patient_inactive', label: 'patient no longer active in the practice record' },
      { status: 'merged', patient: priya, reason: 'patient_merged', label: 'patient record merged into another' },
    ] as const;

    for (const { status, patient, reason, label } of cases) {
      describe(`patient becomes ${status}`, function () {
        let portal: Agent;
        let patientId: string;

        before(async function () {
          patientId = await patientIdOf(journey, patient.portalLogin);
          portal = await approvedPatient(journey, patient);
        });

        it('shows data before the change', async function () {
          const section = await portal.get(`${recordPath}/section/problems`).expect(200);

          expect(itemCount(section.text)).to.be.greaterThan(0);
        });

        it('saves the change on the sandbox page', async function () {
          const response = await changePatient(journey, manager, patientId, { status });

          expect(response.status, response.text).to.equal(303);
          const row = await journey.sandbox.models.Patient.findByPk(Number(patientId));
          expect(row!.status).to.equal(status);
        });

        it('revokes the request with the host reason', async function () {
          const request = await accessRequestOf(journey, patientId);

          expect(request!.status).to.equal('revoked');
          expect(request!.statusReason).to.equal(reason);
        });

        it('ends every clinical session', async function () {
          const sessions = await pluginOf(journey).models.ClinicalSession.findAll({ where: { patientId } });

          expect(sessions).to.have.length.greaterThan(0);
          for (const session of sessions) {
            expect(session.endedAt).to.not.equal(null);
            expect(session.endedReason).to.equal(reason);
          }
        });

        it('shows no data on the next request', async function () {
          const section = await portal.get(`${recordPath}/section/problems`).expect(303);
          const landing = await portal.get(section.headers.location!).expect(200);

          expect(section.headers.location).to.equal(`${recordPath}/`);
          expect(landing.text).to.contain('Clinical record not available');
          expect(itemCount(landing.text)).to.equal(0);
        });

        it('records a system action in the trail', async function () {
          const events = await auditEventsOf(journey, patientId, 'access.revokedByHostChange');

          expect(events).to.have.length(1);
          expect(events[0]!.actorType).to.equal('system');
          expect(events[0]!.actorId).to.equal(null);
          expect(JSON.parse(events[0]!.details!)).to.deep.include({ from: 'approved', to: 'revoked', hostStatus: status });
        });

        it('refuses approval while the patient is not active', async function () {
          const request = await accessRequestOf(journey, patientId);

          const response = await staffDecide(journey, request!.id, 'approve');

          expect(response.status).to.equal(422);
          expect(response.text).to.contain('no longer active in the practice record');
          expect((await accessRequestOf(journey, patientId))!.status).to.equal('revoked');
        });

        it('shows the system action to staff', async function () {
          const request = await accessRequestOf(journey, patientId);

          const page = await manager.get(`${staffPath}/access/${request!.id}`).expect(200);

          expect(page.text).to.match(/<tr data-action="access\.revokedByHostChange">\s*<td>[^<]*<\/td>\s*<td>System<\/td>/);
          expect(page.text).to.contain('Access ended by a change in the practice record');
          expect(page.text).to.contain(label);
        });
      });
    }

    describe('after the first change', function () {
      it('changes nothing for a repeated event', async function () {
        const patientId = await patientIdOf(journey, chidi.portalLogin);
        const before = await accessRequestOf(journey, patientId);
        const practiceId = before!.practiceId;

        for (const listener of journey.sandbox.registry.patientChangeListeners) {
          await listener({ practiceId, patientId, changed: ['status'] });
        }

        const after = await accessRequestOf(journey, patientId);
        expect(after!.version).to.equal(before!.version);
        expect(await auditEventsOf(journey, patientId, 'access.revokedByHostChange')).to.have.length(1);
      });

      it('revokes a request still in progress', async function () {
        const portalLogin = 'siobhan.obrien@example.test';
        const patientId = await patientIdOf(journey, portalLogin);
        const portal = await signIn(journey, 'portal', portalLogin);
        await requestAccess(portal);
        expect((await accessRequestOf(journey, patientId))!.status).to.equal('identity_pending');

        const response = await changePatient(journey, manager, patientId, { status: 'inactive' });

        expect(response.status, response.text).to.equal(303);
        const request = await accessRequestOf(journey, patientId);
        expect(request!.status).to.equal('revoked');
        expect(request!.statusReason).to.equal('patient_inactive');
        const events = await auditEventsOf(journey, patientId, 'access.revokedByHostChange');
        expect(JSON.parse(events[0]!.details!)).to.deep.include({ from: 'identity_pending', to: 'revoked' });
      });

      it('leaves a denied request denied', async function () {
        const patientId = await patientIdOf(journey, 'lucja.wisniewska@example.test');
        const plugin = pluginOf(journey);
        const practiceId = (await journey.sandbox.models.Patient.findByPk(Number(patientId)))!.practiceId;
        const hostPatient = await plugin.host.patients.get(String(practiceId), patientId);
        const created = await plugin.access.create(String(practiceId), hostPatient!);
        await plugin.models.AccessRequest.update({ status: 'denied' }, { where: { id: created.id } });
        await plugin.models.RequestNamePrefix.update({ status: 'denied' }, { where: { requestId: created.id } });
        await rebuildStatusCounts(plugin.models, String(practiceId));

        const response = await changePatient(journey, manager, patientId, { status: 'deceased' });

        expect(response.status, response.text).to.equal(303);
        const request = await accessRequestOf(journey, patientId);
        expect(request!.status).to.equal('denied');
        expect(request!.statusReason).to.equal(null);
        expect(await auditEventsOf(journey, patientId, 'access.revokedByHostChange')).to.have.length(0);
      });
    });
  });

  describe('name changes', function () {
    let patientId: string;
    let requestId: number;
    let pageBeforeChange: string;

    before(async function () {
      patientId = await patientIdOf(journey, zoe.portalLogin);
      await approvedPatient(journey, zoe);
      requestId = Number((await accessRequestOf(journey, patientId))!.id);
      pageBeforeChange = (await manager.get(`${staffPath}/access/${requestId}`).expect(200)).text;
    });

    it('flags the request after a name change', async function () {
      const response = await changePatient(journey, manager, patientId, { familyName: 'Fairbanks' });

      expect(response.status, response.text).to.equal(303);
      const request = await accessRequestOf(journey, patientId);
      expect(request!.detailsChangedInHost).to.equal(true);
      expect(request!.displayName).to.equal('Zoë Fairbanks');
      expect(request!.status).to.equal('approved');
    });

    it('shows the flag on the list', async function () {
      const list = await manager.get(`${staffPath}/access`).expect(200);

      const row = listRowOf(list.text, requestId);
      expect(row).to.not.equal(null);
      expect(row).to.contain('Zoë Fairbanks');
      expect(row).to.contain('Details changed – review');
    });

    it('shows the flag on the patient page', async function () {
      const page = await manager.get(`${staffPath}/access/${requestId}`).expect(200);

      expect(page.text).to.contain('Needs review');
      expect(page.text).to.contain(`${staffPath}/access/${requestId}/details-reviewed`);
    });

    it('finds the patient by the new name', async function () {
      const found = await manager.get(`${staffPath}/access?q=fairbanks`).expect(200);
      const old = await manager.get(`${staffPath}/access?q=ashworth`).expect(200);

      expect(listRowOf(found.text, requestId)).to.not.equal(null);
      expect(listRowOf(old.text, requestId)).to.equal(null);
    });

    it('audits which details changed, not their values', async function () {
      const events = await auditEventsOf(journey, patientId, 'access.detailsChangedInHost');
      const allDetails = (await auditEventsOf(journey, patientId)).map((event) => event.details ?? '').join('\n');

      expect(events).to.have.length(1);
      expect(events[0]!.actorType).to.equal('system');
      expect(JSON.parse(events[0]!.details!)).to.deep.equal({ fields: ['name'] });
      expect(allDetails).not.to.contain('Fairbanks');
      expect(allDetails).not.to.contain('Ashworth');
      expect(allDetails).not.to.contain('Zoë');
      expect(allDetails).not.to.contain(zoe.birthDate);
    });

    it('rejects a decision from an older page', async function () {
      const version = /name="version" value="(\d+)"/.exec(pageBeforeChange)![1]!;

      const response = await manager
        .post(`${staffPath}/access/${requestId}/decision`)
        .type('form')
        .send({ _csrf: csrfTokenFrom(pageBeforeChange), version, decision: 'revoke', reason: '', message: '' });

      expect(response.status).to.equal(409);
      expect(response.text).to.contain('access changed after you opened the page');
      expect((await accessRequestOf(journey, patientId))!.status).to.equal('approved');
    });

    it('rejects the review without permission', async function () {
      const receptionist = await signIn(journey, 'admin', 'reception@riverside.example.test');
      const page = await receptionist.get(`${staffPath}/access/${requestId}`).expect(200);
      const request = await accessRequestOf(journey, patientId);

      const response = await receptionist
        .post(`${staffPath}/access/${requestId}/details-reviewed`)
        .type('form')
        .send({ _csrf: csrfTokenFrom(page.text), version: String(request!.version) });

      expect(response.status).to.equal(403);
      expect(page.text).not.to.contain('/details-reviewed');
      expect((await accessRequestOf(journey, patientId))!.detailsChangedInHost).to.equal(true);
    });

    it('clears the flag once reviewed', async function () {
      const page = await manager.get(`${staffPath}/access/${requestId}`).expect(200);
      const version = /action="[^"]*\/details-reviewed"[^>]*>\s*<input type="hidden" name="_csrf" value="[^"]+">\s*<input type="hidden" name="version" value="(\d+)"/.exec(page.text)![1]!;

      const response = await manager.post(`${staffPath}/access/${requestId}/details-reviewed`).type('form').send({ _csrf: csrfTokenFrom(page.text), version });

      expect(response.status, response.text).to.equal(303);
      const request = await accessRequestOf(journey, patientId);
      expect(request!.detailsChangedInHost).to.equal(false);
      const list = await manager.get(`${staffPath}/access`).expect(200);
      expect(listRowOf(list.text, requestId)).not.to.contain('Details changed');
      const after = await manager.get(response.headers.location!).expect(200);
      expect(after.text).to.contain('Changed details marked as reviewed.');
      expect(after.text).not.to.contain('Needs review');
      expect(after.text).to.contain('Reviewed the changed name or date of birth');
    });

    it('audits the review with the staff member', async function () {
      const events = await auditEventsOf(journey, patientId, 'access.detailsReviewed');

      expect(events).to.have.length(1);
      expect(events[0]!.actorType).to.equal('staff');
      expect(JSON.parse(events[0]!.details!)).to.deep.equal({ staffName: 'Priya Raman' });
    });

    it('rejects a second review', async function () {
      const page = await manager.get(`${staffPath}/access/${requestId}`).expect(200);
      const request = await accessRequestOf(journey, patientId);

      const response = await manager
        .post(`${staffPath}/access/${requestId}/details-reviewed`)
        .type('form')
        .send({ _csrf: csrfTokenFrom(page.text), version: String(request!.version) });

      expect(response.status).to.equal(409);
      expect(response.text).to.contain('nothing to review');
      expect((await accessRequestOf(journey, patientId))!.version).to.equal(request!.version);
    });
  });

  describe('date of birth changes', function () {
    let patientId: string;
    let requestId: number;

    before(async function () {
      patientId = await patientIdOf(journey, declan.portalLogin);
      const portal = await signIn(journey, 'portal', declan.portalLogin);
      await requestAccess(portal);
      requestId = Number((await accessRequestOf(journey, patientId))!.id);
    });

    it('flags the request after a date of birth change', async function () {
      const response = await changePatient(journey, manager, patientId, { birthDate: '1981-11-20' });

      expect(response.status, response.text).to.equal(303);
      const request = await accessRequestOf(journey, patientId);
      expect(request!.detailsChangedInHost).to.equal(true);
      expect(request!.birthDate).to.equal('1981-11-20');
      const events = await auditEventsOf(journey, patientId, 'access.detailsChangedInHost');
      expect(JSON.parse(events[0]!.details!)).to.deep.equal({ fields: ['birthDate'] });
    });

    it('finds the patient by the new date in both forms', async function () {
      const british = await manager.get(`${staffPath}/access?q=${encodeURIComponent('20/11/1981')}`).expect(200);
      const iso = await manager.get(`${staffPath}/access?q=1981-11-20`).expect(200);
      const old = await manager.get(`${staffPath}/access?q=1981-11-02`).expect(200);

      expect(listRowOf(british.text, requestId)).to.contain('Details changed – review');
      expect(listRowOf(iso.text, requestId)).to.not.equal(null);
      expect(listRowOf(old.text, requestId)).to.equal(null);
    });
  });

  describe('sandbox patient page', function () {
    const portalLogin = 'mary.pemberton@example.test';
    let patientId: string;

    before(async function () {
      patientId = await patientIdOf(journey, portalLogin);
    });

    async function patientSnapshot() {
      const row = await journey.sandbox.models.Patient.findByPk(Number(patientId));
      return { givenNames: row!.givenNames, familyName: row!.familyName, birthDate: row!.birthDate, status: row!.status };
    }

    it("lists only the practice's patients", async function () {
      const page = await manager.get('/admin/patients').expect(200);

      expect(page.text).to.contain('Mary Anne Louise Pemberton');
      expect(page.text).to.contain(`href="/admin/patients/${patientId}"`);
      expect(page.text).not.to.contain('Aroha');
      expect(page.text).not.to.contain('Eilidh');
    });

    it('shows the form with the current details', async function () {
      const page = await manager.get(`/admin/patients/${patientId}`).expect(200);

      expect(page.text).to.contain('name="_csrf"');
      expect(page.text).to.contain('value="Mary Anne Louise"');
      expect(page.text).to.contain('value="1947-12-30"');
      expect(page.text).to.contain('<option value="active" selected>');
    });

    const badInputs = [
      { field: 'familyName', value: '', message: 'Enter the family name.' },
      { field: 'givenNames', value: '   ', message: 'Enter at least one given name.' },
      { field: 'birthDate', value: '30/12/1947', message: 'Enter the date of birth as YYYY-MM-DD, for example 1984-03-17.' },
      { field: 'birthDate', value: '1947-02-30', message: 'The date of birth is not a real date. Check the day and month.' },
      { field: 'birthDate', value: '2031-01-01', message: 'The date of birth is in the future. Enter a date up to today.' },
      { field: 'status', value: 'archived', message: 'Choose a status: active, inactive, deceased or merged.' },
      { field: 'familyName', value: 'Pem\u0000berton', message: 'The family name must not contain control characters.' },
    ];

    for (const { field, value, message } of badInputs) {
      it(`rejects ${field} "${value.replace(/\p{Cc}/gu, '?')}" with a 400`, async function () {
        const before = await patientSnapshot();
        const eventsBefore = await pluginOf(journey).models.AuditEvent.count();

        const response = await changePatient(journey, manager, patientId, { [field]: value });

        expect(response.status).to.equal(400);
        expect(response.text).to.contain('The patient record was not changed');
        expect(response.text).to.contain(message);
        expect(await patientSnapshot()).to.deep.equal(before);
        expect(await pluginOf(journey).models.AuditEvent.count()).to.equal(eventsBefore);
      });
    }

    it('lists every problem of a form at once', async function () {
      const response = await changePatient(journey, manager, patientId, { familyName: '', birthDate: 'soon' });

      expect(response.status).to.equal(400);
      expect(response.text).to.contain('Enter the family name.');
      expect(response.text).to.contain('Enter the date of birth as YYYY-MM-DD');
    });

    it('rejects a form without the CSRF token', async function () {
      const before = await patientSnapshot();

      const response = await manager.post(`/admin/patients/${patientId}`).type('form').send({ givenNames: 'Mary', familyName: 'Changed', birthDate: '1947-12-30', status: 'active' });

      expect(response.status).to.equal(403);
      expect(await patientSnapshot()).to.deep.equal(before);
    });

    it("answers 404 for another practice's patient", async function () {
      const harbourManager = await signIn(journey, 'admin', 'manager@harbour.example.test');
      const before = await patientSnapshot();

      const page = await harbourManager.get(`/admin/patients/${patientId}`);
      const response = await changePatient(journey, harbourManager, patientId, { familyName: 'Changed' });

      expect(page.status).to.equal(404);
      expect(response.status).to.equal(404);
      expect(response.text).to.contain('There is no patient with this number at your practice.');
      expect(await patientSnapshot()).to.deep.equal(before);
    });

    it('answers 404 for a malformed patient number', async function () {
      await manager.get('/admin/patients/12abc').expect(404);
      await manager.get('/admin/patients/0').expect(404);
    });

    it('rejects staff other than managers', async function () {
      const nurse = await signIn(journey, 'admin', 'nurse@riverside.example.test');
      const before = await patientSnapshot();

      const list = await nurse.get('/admin/patients');
      const response = await changePatient(journey, nurse, patientId, { familyName: 'Changed' });

      expect(list.status).to.equal(403);
      expect(response.status).to.equal(403);
      expect(response.text).to.contain('Only a practice manager can change patient records.');
      expect(await patientSnapshot()).to.deep.equal(before);
    });

    it('reports an unchanged form as unchanged', async function () {
      const eventsBefore = await pluginOf(journey).models.AuditEvent.count();

      const response = await changePatient(journey, manager, patientId, {});

      expect(response.status).to.equal(303);
      expect(response.headers.location).to.equal(`/admin/patients/${patientId}?notice=unchanged`);
      expect(await pluginOf(journey).models.AuditEvent.count()).to.equal(eventsBefore);
    });

    it('saves a valid change', async function () {
      const response = await changePatient(journey, manager, patientId, { givenNames: ' Mary   Anne ', familyName: 'Pemberton-Hale', birthDate: '1947-12-31' });

      expect(response.status, response.text).to.equal(303);
      const page = await manager.get(response.headers.location!).expect(200);
      expect(page.text).to.contain('Patient record saved.');
      expect(await patientSnapshot()).to.deep.equal({ givenNames: '["Mary","Anne"]', familyName: 'Pemberton-Hale', birthDate: '1947-12-31', status: 'active' });
    });
  });

  describe('two changes at once', function () {
    it('keeps the name the host saved last', async function () {
      const patientId = await patientIdOf(journey, priya.portalLogin);
      const plugin = pluginOf(journey);
      const practiceId = String((await journey.sandbox.models.Patient.findByPk(Number(patientId)))!.practiceId);
      await plugin.access.create(practiceId, (await plugin.host.patients.get(practiceId, patientId))!);

      // Two saves race, so each round may order them either way; the copy must follow the host.
      for (let round = 1; round <= 10; round += 1) {
        const responses = await Promise.all([
          changePatient(journey, manager, patientId, { familyName: `Alpha${round}` }),
          changePatient(journey, manager, patientId, { familyName: `Beta${round}` }),
        ]);
        const host = (await plugin.host.patients.get(practiceId, patientId))!;
        const request = (await accessRequestOf(journey, patientId))!;

        expect(responses.map((response) => response.status), `round ${round}`).to.deep.equal([303, 303]);
        expect(request.displayName, `round ${round}`).to.equal(`Priya ${host.familyName}`);
      }
    });
  });

  describe('after every change above', function () {
    it('keeps the name search index in step', async function () {
      const practices = await journey.sandbox.models.Practice.findAll();
      const plugin = pluginOf(journey);
      let requests = 0;
      for (const practice of practices) {
        expect(await searchIndexDrift(plugin.models, String(practice.id)), practice.name).to.deep.equal([]);
        requests += await plugin.models.AccessRequest.count({ where: { practiceId: String(practice.id) } });
      }
      expect(requests).to.be.at.least(5);
    });
  });
});
