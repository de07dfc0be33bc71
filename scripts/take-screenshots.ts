/**
 * Takes the screenshots of docs/guide.md and docs/patient-guide.md:
 *   npx tsx scripts/take-screenshots.ts
 *
 * It starts the sandbox with the Stripe emulator on 127.0.0.1 (a temporary SQLite database,
 * or the server in TEST_DATABASE_URL), drives the browser journey of the browser tests in
 * Debian's Chromium, and writes PNG files to docs/images/, replacing those already there.
 * Staff pages are taken at 1280 × 800 CSS pixels and the phone views at 390 × 844; pages
 * longer than the window are taken whole. Other patients go through their steps over HTTP
 * first, so the staff list shows each status. CI does not run this script.
 */
import { mkdir, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import {
  accessRequestOf,
  completeIdentityCheck,
  enableClinicalAccess,
  enrolAuthenticator,
  patientIdOf,
  recordPath,
  requestAccess,
  signIn,
  staffDecide,
  startJourneySandbox,
  type JourneySandbox,
} from '../test/support/journey.js';
import {
  browserUnavailableReason,
  clickAndLoad,
  decideWithBrowser,
  enrolAuthenticatorWithBrowser,
  launchChromium,
  openContext,
  openPage,
  openStaffPatientPage,
  passChallengeWithBrowser,
  phoneViewport,
  recordSections,
  saveSettings,
  signInWithBrowser,
  verifyIdentityWithBrowser,
  type PageVisitor,
} from '../test/browser/support.js';

const imagesFolder = fileURLToPath(new URL('../docs/images/', import.meta.url));

/** The patient whose journey the guides show: a provisional diagnosis, a severe allergy and flagged results. */
const patient = { portalLogin: 'jose.martinez@example.test', name: 'José Martínez García' };
const managerEmail = 'manager@riverside.example.test';

/** File names of the pages the journey steps reach, by the name the steps give each page. */
const journeyShots: Record<string, string> = {
  'patient start': 'patient-1-start.png',
  'identity check (Stripe emulator)': 'sandbox-identity-check.png',
  'authenticator setup': 'patient-2-authenticator.png',
  'recovery codes': 'patient-3-recovery-codes.png',
  'code challenge': 'patient-5-enter-code.png',
  'code challenge with a wrong code': 'patient-wrong-code.png',
};

const saved: string[] = [];

/** Saves the whole page, or with `fullPage: false` only the window, as the phone shows it. */
async function screenshot(page: Page, fileName: string, options: { fullPage?: boolean } = {}): Promise<void> {
  const path = `${imagesFolder}${fileName}`;
  await page.screenshot({ path, fullPage: options.fullPage ?? true, animations: 'disabled' });
  const { size } = await stat(path);
  saved.push(`${fileName} (${Math.round(size / 1024)} KB)`);
}

const shootJourneyPages: PageVisitor = async (page, pageName) => {
  const fileName = journeyShots[pageName];
  if (fileName !== undefined) {
    await screenshot(page, fileName);
  }
};

/**
 * Moves other patients to each status over HTTP: one still checking identity, one whose check
 * failed, one waiting, one approved and one denied. The mismatch comes later, in the browser.
 */
async function prepareOtherPatients(journey: JourneySandbox): Promise<void> {
  const started = await signIn(journey, 'portal', 'zoe.ashworth-clarke@example.test');
  await requestAccess(started);
  journey.clock.advance(4 * 60_000);

  const failed = await signIn(journey, 'portal', 'priya.raghunathan@example.test');
  await completeIdentityCheck(journey, await requestAccess(failed), { kind: 'error', code: 'document_expired' });
  await failed.get(`${recordPath}/identity/return`);
  journey.clock.advance(6 * 60_000);

  const decisions: Array<[string, 'approve' | 'deny' | null, { firstName: string; lastName: string; dob: string }]> = [
    ['chidi.okafor@example.test', 'approve', { firstName: 'Chidi', lastName: 'Okafor', dob: '1988-09-30' }],
    ['oliver.bennett@example.test', 'deny', { firstName: 'Oliver', lastName: 'Bennett', dob: '1979-01-05' }],
    ['mary.pemberton@example.test', null, { firstName: 'Mary Anne Louise', lastName: 'Pemberton', dob: '1947-12-30' }],
  ];
  for (const [portalLogin, decision, document] of decisions) {
    const agent = await signIn(journey, 'portal', portalLogin);
    await completeIdentityCheck(journey, await requestAccess(agent), { kind: 'verified', ...document });
    await agent.get(`${recordPath}/identity/return`);
    await enrolAuthenticator(journey, agent);
    if (decision !== null) {
      const request = await accessRequestOf(journey, await patientIdOf(journey, portalLogin));
      const reason = decision === 'approve' ? 'Photo ID checked by Stripe' : 'Registered at another practice since October';
      await staffDecide(journey, request!.id, decision, { reason });
    }
    journey.clock.advance(7 * 60_000);
  }
}

async function takeStaffSettingsShots(browser: Browser, journey: JourneySandbox): Promise<void> {
  const harbour = await (await openContext(browser)).newPage();
  await signInWithBrowser(harbour, journey, 'admin', 'manager@harbour.example.test');
  await saveSettings(harbour, journey, { enabled: true, autoApprove: false });
  await screenshot(harbour, 'staff-settings-stripe-missing.png');
  await harbour.context().close();

  const riverside = await (await openContext(browser)).newPage();
  await signInWithBrowser(riverside, journey, 'admin', managerEmail);
  await saveSettings(riverside, journey, { enabled: true, autoApprove: false });
  await screenshot(riverside, 'staff-settings.png');
  await riverside.context().close();
}

async function main(): Promise<void> {
  const unavailable = browserUnavailableReason();
  if (unavailable !== null) {
    throw new Error(unavailable);
  }
  await mkdir(imagesFolder, { recursive: true });

  const journey = await startJourneySandbox();
  const browser = await launchChromium();
  try {
    await takeStaffSettingsShots(browser, journey);
    await enableClinicalAccess(journey, { autoApprove: false, managerEmail });
    await prepareOtherPatients(journey);

    // The patient requests access, proves who they are and sets up the authenticator.
    const patientPage = await (await openContext(browser)).newPage();
    await signInWithBrowser(patientPage, journey, 'portal', patient.portalLogin);
    await verifyIdentityWithBrowser(patientPage, journey, { visit: shootJourneyPages });
    const { otpauthUri } = await enrolAuthenticatorWithBrowser(patientPage, journey, { visit: shootJourneyPages, tryWrongCodeFirst: true });
    await screenshot(patientPage, 'patient-4-waiting.png');
    await patientPage.context().close();

    // Another patient's document does not match the practice's record.
    const mismatchPage = await (await openContext(browser)).newPage();
    await signInWithBrowser(mismatchPage, journey, 'portal', 'declan.obrien@example.test');
    await verifyIdentityWithBrowser(mismatchPage, journey, { documentDetails: { familyName: 'Brennan' } });
    await screenshot(mismatchPage, 'patient-details-mismatch.png');
    await mismatchPage.context().close();
    journey.clock.advance(3 * 60_000);

    // Staff find the waiting patient and approve. The mismatched patient's page shows the in-person check form.
    const staffPage = await (await openContext(browser)).newPage();
    await signInWithBrowser(staffPage, journey, 'admin', managerEmail);
    await openPage(staffPage, journey, '/admin/settings/patient-portal/clinical-record-access/access');
    await screenshot(staffPage, 'staff-list.png');
    await clickAndLoad(staffPage, "Declan O'Brien", 'link');
    await screenshot(staffPage, 'staff-in-person-check.png');
    await openStaffPatientPage(staffPage, journey, patient.name, { status: 'pending' });
    await screenshot(staffPage, 'staff-patient-pending.png');
    await decideWithBrowser(staffPage, 'Approve', 'Photo ID checked by Stripe');
    await screenshot(staffPage, 'staff-patient-approved.png');

    // The patient comes back later, enters a code and reads the record.
    journey.clock.advance(2 * 60 * 60_000);
    const recordPage = await (await openContext(browser)).newPage();
    await signInWithBrowser(recordPage, journey, 'portal', patient.portalLogin);
    await passChallengeWithBrowser(recordPage, journey, otpauthUri, { visit: shootJourneyPages, tryWrongCodeFirst: true });
    await screenshot(recordPage, 'patient-6-record.png');
    for (const section of recordSections) {
      await clickAndLoad(recordPage, section.heading, 'link');
      await screenshot(recordPage, `record-${section.slug}.png`);
    }

    // The same patient on a phone.
    journey.clock.advance(60_000);
    const phonePage = await (await openContext(browser, { viewport: phoneViewport })).newPage();
    await signInWithBrowser(phonePage, journey, 'portal', patient.portalLogin);
    await passChallengeWithBrowser(phonePage, journey, otpauthUri);
    await screenshot(phonePage, 'phone-record.png', { fullPage: false });
    await clickAndLoad(phonePage, 'Lab results', 'link');
    await screenshot(phonePage, 'phone-lab-results.png', { fullPage: false });

    // Staff revoke access, and the patient's next page shows that access has stopped.
    await openStaffPatientPage(staffPage, journey, patient.name, { status: 'approved' });
    await decideWithBrowser(staffPage, 'Revoke', 'Patient asked us to stop online access');
    await recordPage.reload();
    await screenshot(recordPage, 'patient-access-stopped.png');
  } finally {
    await browser.close();
    await journey.stop();
  }

  console.log(`Saved in ${imagesFolder}:\n  ${saved.join('\n  ')}`);
}

await main();
