import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { accessRequestOf, patientIdOf, recordPath, staffDecide, staffPath, startJourneySandbox, type JourneySandbox } from '../support/journey.js';
import {
  browserUnavailableReason,
  clickAndLoad,
  decideWithBrowser,
  enrolAuthenticatorWithBrowser,
  expectFocusOrderFollowsPage,
  expectNoAxeViolations,
  horizontalOverflow,
  launchChromium,
  mainHeading,
  openContext,
  openPage,
  openStaffPatientPage,
  passChallengeWithBrowser,
  phoneViewport,
  recordItemCount,
  recordSections,
  saveSettings,
  signInWithBrowser,
  verifyIdentityWithBrowser,
  type PageVisitor,
} from './support.js';

const unavailable = browserUnavailableReason();
const describeWithBrowser = unavailable === null ? describe : describe.skip;

/** Horizontal overflow allowed at phone width, in CSS pixels, for sub-pixel rounding. */
const overflowTolerance = 1;

/**
 * Checks that every error summary on the page is announced (role="alert"), that the plugin's
 * summary has the focus once the page has loaded, and that each of its links leads to a field
 * that is marked invalid and described by its error message.
 */
async function expectErrorsLinkedToFields(page: Page, pageName: string): Promise<void> {
  const summaries = page.locator('.cra-error-summary, .host-error');
  for (const summary of await summaries.all()) {
    expect(await summary.getAttribute('role'), `role of the error summary on ${pageName}`).to.equal('alert');
    if ((await summary.getAttribute('class'))?.includes('cra-error-summary')) {
      expect(await summary.evaluate((element) => element === document.activeElement), `focus on the error summary of ${pageName}`).to.equal(true);
    }
    for (const link of await summary.locator('a[href^="#"]').all()) {
      const fieldId = (await link.getAttribute('href'))!.slice(1);
      const field = page.locator(`[id="${fieldId}"]`);
      expect(await field.count(), `field #${fieldId} that the error on ${pageName} links to`).to.equal(1);
      expect(await field.getAttribute('aria-invalid'), `aria-invalid of #${fieldId} on ${pageName}`).to.equal('true');
      const describedBy = ((await field.getAttribute('aria-describedby')) ?? '').split(/\s+/);
      const messages = await Promise.all(describedBy.map((id) => page.locator(`[id="${id}"]`).textContent()));
      expect(messages.map((text) => text?.trim()), `descriptions of #${fieldId} on ${pageName}`).to.include((await link.textContent())?.trim());
    }
  }
}

/** Checks every code field: digits keyboard, one-time-code autofill and a visible label. */
async function expectCodeFieldsUsable(page: Page, pageName: string): Promise<void> {
  for (const field of await page.locator('input[name="code"]').all()) {
    expect(await field.getAttribute('autocomplete'), `autocomplete of the code field on ${pageName}`).to.equal('one-time-code');
    expect(await field.getAttribute('inputmode'), `inputmode of the code field on ${pageName}`).to.equal('numeric');
    const id = await field.getAttribute('id');
    expect(await page.locator(`label[for="${id}"]`).count(), `label of the code field on ${pageName}`).to.equal(1);
  }
}

/** Returns a visitor that checks each page and records its name, for the journey's own asserts. */
function pageChecker(options: { phone?: boolean; focusOrder?: boolean; axe?: boolean } = {}): PageVisitor & { visited: string[] } {
  const visited: string[] = [];
  const visitor = async (page: Page, pageName: string) => {
    visited.push(pageName);
    if (options.axe ?? true) {
      await expectNoAxeViolations(page, pageName);
    }
    await expectErrorsLinkedToFields(page, pageName);
    await expectCodeFieldsUsable(page, pageName);
    if (options.focusOrder) {
      // The emulator's stand-in for Stripe's page has no host layout, so no skip link.
      await expectFocusOrderFollowsPage(page, pageName, { skipLink: !pageName.includes('Stripe emulator') });
    }
    if (options.phone) {
      expect(await horizontalOverflow(page, phoneViewport.width), `horizontal overflow in CSS pixels on ${pageName} at ${phoneViewport.width} px`).to.be.at.most(overflowTolerance);
    }
  };
  return Object.assign(visitor, { visited });
}

/** Opens each section from the record's navigation and returns the number of items on each. */
async function readEverySection(page: Page, check: PageVisitor): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const section of recordSections) {
    await clickAndLoad(page, section.heading, 'link');
    expect(new URL(page.url()).pathname).to.equal(`${recordPath}/section/${section.slug}`);
    expect(await mainHeading(page)).to.equal(section.heading);
    await check(page, `section ${section.slug}`);
    counts[section.slug] = await recordItemCount(page);
  }
  return counts;
}

describeWithBrowser(`browser journey${unavailable === null ? '' : ` (skipped: ${unavailable})`}`, function () {
  this.timeout(120_000);

  let journey: JourneySandbox;
  let browser: Browser;

  /** Opens a page in a new browser context, so it starts with no cookies. */
  async function newPage(options: Parameters<typeof openContext>[1] = {}): Promise<Page> {
    const context = await openContext(browser, options);
    return context.newPage();
  }

  /** Approves a request from the staff side without a browser, for the phone and no-script runs. */
  async function approveByStaff(portalLogin: string): Promise<void> {
    const request = await accessRequestOf(journey, await patientIdOf(journey, portalLogin));
    const response = await staffDecide(journey, request!.id, 'approve');
    expect(response.status, response.text).to.equal(303);
  }

  before(async function () {
    [journey, browser] = await Promise.all([startJourneySandbox(), launchChromium()]);
  });

  after(async function () {
    await browser?.close();
    await journey?.stop();
  });

  describe('staff settings', function () {
    const check = pageChecker({ focusOrder: true });

    it('refuses enabling without Stripe', async function () {
      const page = await newPage();
      await signInWithBrowser(page, journey, 'admin', 'manager@harbour.example.test', check);

      await saveSettings(page, journey, { enabled: true, autoApprove: false }, check);

      expect(await page.getByRole('alert').textContent()).to.contain('cannot be enabled because Stripe Identity is not set up');
      await check(page, 'staff settings, enabling refused');
    });

    it('enables the feature with auto-approve off', async function () {
      const page = await newPage();
      await signInWithBrowser(page, journey, 'admin', 'manager@riverside.example.test', check);

      await saveSettings(page, journey, { enabled: true, autoApprove: false }, check);

      expect(await page.getByRole('status').textContent()).to.contain('Settings saved.');
      expect(await page.getByLabel('Enable clinical record access').isChecked()).to.equal(true);
      expect(await page.getByLabel('Auto-approve verified patients').isChecked()).to.equal(false);
      await check(page, 'staff settings, saved');
    });
  });

  describe('patient on a desktop, approved by staff', function () {
    const portalLogin = 'siobhan.obrien@example.test';
    const patientName = 'Siobhán O’Brien';
    const check = pageChecker({ focusOrder: true });
    let patientPage: Page;
    let staffPage: Page;
    let otpauthUri: string;

    it('verifies identity at the Stripe emulator', async function () {
      patientPage = await newPage();
      await signInWithBrowser(patientPage, journey, 'portal', portalLogin, check);

      await verifyIdentityWithBrowser(patientPage, journey, { visit: check });

      expect(await mainHeading(patientPage)).to.equal('Set up an authenticator app');
    });

    it('sets up the authenticator from the QR code', async function () {
      const qrAlt = await patientPage.locator('img.cra-qr').getAttribute('alt');
      expect(qrAlt, 'text alternative of the QR code').to.match(/^QR code for your authenticator app/);

      ({ otpauthUri } = await enrolAuthenticatorWithBrowser(patientPage, journey, { visit: check, tryWrongCodeFirst: true }));

      expect(check.visited).to.include('authenticator setup with a wrong code');
      expect(new URL(otpauthUri).searchParams.get('issuer')).to.equal('Riverside Medical Centre');
      expect(await mainHeading(patientPage)).to.equal('Waiting for the practice to approve');
      await check(patientPage, 'waiting for approval');
    });

    it('shows no record while approval waits', async function () {
      const status = await openPage(patientPage, journey, `${recordPath}/section/problems`);

      expect(status).to.equal(200);
      expect(new URL(patientPage.url()).pathname).to.equal(`${recordPath}/`);
      expect(await mainHeading(patientPage)).to.equal('Waiting for the practice to approve');
      expect(await recordItemCount(patientPage)).to.equal(0);
    });

    it('lets staff approve on the patient page', async function () {
      staffPage = await newPage();
      await signInWithBrowser(staffPage, journey, 'admin', 'manager@riverside.example.test');
      await openStaffPatientPage(staffPage, journey, patientName, { status: 'pending', visit: check });
      await check(staffPage, 'staff patient page, pending');

      await decideWithBrowser(staffPage, 'Approve', 'Photo ID checked by Stripe');

      expect(await staffPage.locator('[data-status]').getAttribute('data-status')).to.equal('approved');
      await check(staffPage, 'staff patient page, approved');
    });

    it('asks for a code in a new browser context', async function () {
      await patientPage.context().close();
      patientPage = await newPage();
      await signInWithBrowser(patientPage, journey, 'portal', portalLogin);

      await passChallengeWithBrowser(patientPage, journey, otpauthUri, { visit: check, tryWrongCodeFirst: true });

      expect(check.visited).to.include('code challenge with a wrong code');
      await check(patientPage, 'record overview');
    });

    it('shows each of the five sections', async function () {
      const counts = await readEverySection(patientPage, check);

      expect(counts).to.deep.equal({ problems: 3, medications: 3, allergies: 1, immunisations: 3, 'lab-results': 3 });
      await openPage(patientPage, journey, `${recordPath}/section/allergies`);
      expect(await patientPage.locator('main').textContent()).to.contain('Allergy to penicillin');
    });

    it('answers an unknown section with 404', async function () {
      const status = await openPage(patientPage, journey, `${recordPath}/section/blood-pressure`);

      expect(status).to.equal(404);
      expect(await mainHeading(patientPage)).to.equal('Page not found');
      await check(patientPage, 'unknown section');
    });

    it('shows no data on the next page after revocation', async function () {
      await openStaffPatientPage(staffPage, journey, patientName, { status: 'approved' });
      await decideWithBrowser(staffPage, 'Revoke', 'Test of revocation');
      expect(await staffPage.locator('[data-status]').getAttribute('data-status')).to.equal('revoked');
      await check(staffPage, 'staff patient page, revoked');

      await openPage(patientPage, journey, `${recordPath}/section/allergies`);

      expect(new URL(patientPage.url()).pathname).to.equal(`${recordPath}/`);
      expect(await mainHeading(patientPage)).to.equal('Your access has been stopped');
      expect(await recordItemCount(patientPage)).to.equal(0);
      expect(await patientPage.locator('main').textContent()).not.to.contain('Allergy to penicillin');
      await check(patientPage, 'access stopped');
    });

    it('approves again from the list', async function () {
      await openPage(staffPage, journey, `${staffPath}/access?status=revoked`);
      await check(staffPage, 'staff list (revoked)');

      await clickAndLoad(staffPage, `Approve ${patientName}`);

      const address = new URL(staffPage.url());
      const requestId = (await accessRequestOf(journey, await patientIdOf(journey, portalLogin)))!.id;
      expect(address.pathname + address.search).to.equal(`${staffPath}/access?status=revoked&notice=approve&noticeRequest=${requestId}`);
      expect(await staffPage.locator('[role="status"]').textContent()).to.contain('Access approved.');
      expect(await staffPage.getByRole('link', { name: patientName, exact: true }).count()).to.equal(0);
      expect((await accessRequestOf(journey, await patientIdOf(journey, portalLogin)))!.status).to.equal('approved');
      await check(staffPage, 'staff list after a decision');
    });

    it('asks before revoking from the list', async function () {
      const statusOfPatient = async () => (await accessRequestOf(journey, await patientIdOf(journey, portalLogin)))!.status;
      await openPage(staffPage, journey, `${staffPath}/access?status=approved`);
      await clickAndLoad(staffPage, `Revoke ${patientName}`);

      expect(await mainHeading(staffPage)).to.equal(`Revoke ${patientName}'s access?`);
      await check(staffPage, 'list decision confirmation');
      await clickAndLoad(staffPage, 'Cancel and go back to the list', 'link');
      expect(new URL(staffPage.url()).search).to.equal('?status=approved');
      expect(await statusOfPatient()).to.equal('approved');

      await clickAndLoad(staffPage, `Revoke ${patientName}`);
      await staffPage.getByLabel('Reason (optional)').fill('The patient asked to stop online access');
      await clickAndLoad(staffPage, 'Revoke access');

      expect(new URL(staffPage.url()).searchParams.get('notice')).to.equal('revoke');
      expect(await staffPage.locator('[role="status"]').textContent()).to.contain('Access revoked.');
      expect(await statusOfPatient()).to.equal('revoked');
    });
  });

  describe('patient whose details do not match', function () {
    const check = pageChecker({ focusOrder: true });

    it('explains the mismatch', async function () {
      const page = await newPage();
      await signInWithBrowser(page, journey, 'portal', 'declan.obrien@example.test');

      await verifyIdentityWithBrowser(page, journey, { documentDetails: { familyName: 'Brennan' } });

      expect(await mainHeading(page)).to.equal('Your details did not match');
      await check(page, 'identity mismatch');
    });
  });

  describe('patient on a phone', function () {
    const portalLogin = 'mary.pemberton@example.test';
    const check = pageChecker({ phone: true });
    let page: Page;
    let otpauthUri: string;

    it('goes from request to approval without overflow', async function () {
      page = await newPage({ viewport: phoneViewport });
      await signInWithBrowser(page, journey, 'portal', portalLogin, check);
      await verifyIdentityWithBrowser(page, journey, { visit: check });
      ({ otpauthUri } = await enrolAuthenticatorWithBrowser(page, journey, { visit: check }));

      expect(await mainHeading(page)).to.equal('Waiting for the practice to approve');
      await check(page, 'waiting for approval');
    });

    it('reads every section without overflow', async function () {
      await approveByStaff(portalLogin);
      // The code entered during set-up opened clinical access for this session. That access
      // closes after 15 idle minutes, so the patient meets the code challenge afterwards.
      journey.clock.advance(16 * 60_000);

      await passChallengeWithBrowser(page, journey, otpauthUri, { visit: check, tryWrongCodeFirst: true });
      await check(page, 'record overview');
      const counts = await readEverySection(page, check);

      expect(counts['lab-results'], 'lab results, which make the widest table').to.be.greaterThan(20);
    });
  });

  describe('patient without JavaScript', function () {
    const portalLogin = 'zoe.ashworth-clarke@example.test';
    // axe-core cannot run without JavaScript; the same pages pass it in the runs above.
    const check = pageChecker({ axe: false });

    it('completes the journey with JavaScript turned off', async function () {
      const page = await newPage({ javaScriptEnabled: false });
      await signInWithBrowser(page, journey, 'portal', portalLogin, check);
      await verifyIdentityWithBrowser(page, journey, { visit: check });
      const { otpauthUri } = await enrolAuthenticatorWithBrowser(page, journey, { visit: check, tryWrongCodeFirst: true });
      expect(await mainHeading(page)).to.equal('Waiting for the practice to approve');

      // Staff approve from the list with JavaScript off too: each row's button submits the list's
      // one form, which contains the table.
      const staffPage = await newPage({ javaScriptEnabled: false });
      await signInWithBrowser(staffPage, journey, 'admin', 'manager@riverside.example.test');
      await openPage(staffPage, journey, `${staffPath}/access?status=pending`);
      await check(staffPage, 'staff list (pending)');
      await clickAndLoad(staffPage, 'Approve Zoë Ashworth-Clarke');
      expect(new URL(staffPage.url()).searchParams.get('notice')).to.equal('approve');
      expect(await staffPage.locator('[role="status"]').textContent()).to.contain('Access approved.');
      expect((await accessRequestOf(journey, await patientIdOf(journey, portalLogin)))!.status).to.equal('approved');

      journey.clock.advance(16 * 60_000);
      await passChallengeWithBrowser(page, journey, otpauthUri, { visit: check, tryWrongCodeFirst: true });
      const counts = await readEverySection(page, check);

      expect(counts).to.deep.equal({ problems: 2, medications: 3, allergies: 1, immunisations: 4, 'lab-results': 0 });
    });
  });
});
