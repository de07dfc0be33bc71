/**
 * Browser helpers for the browser journey tests and `scripts/take-screenshots.ts`: Chromium
 * through playwright-core, axe-core checks, and the steps of the journey as a person takes
 * them in the pages, with a callback at every page reached.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Result as AxeResult } from 'axe-core';
import { demoPassword } from '../../sandbox/demo/practices.js';
import { TestClock } from '../support/clock.js';
import { authenticatorCode, recordPath, staffPath, type JourneySandbox } from '../support/journey.js';

const run = promisify(execFile);

/** Debian's Chromium. playwright-core drives it; its own browser downloads are never used. */
export const chromiumExecutable = '/usr/bin/chromium';

const chromiumArguments = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const desktopViewport = { width: 1280, height: 800 };
export const phoneViewport = { width: 390, height: 844 };

/** Returns why browser tests cannot run here, or null when they can. */
export function browserUnavailableReason(): string | null {
  return existsSync(chromiumExecutable) ? null : `${chromiumExecutable} is missing: install the Debian package chromium to run the browser tests.`;
}

/**
 * Launches headless Chromium. playwright-core's `launch()` creates a new profile folder
 * (`playwright_chromiumdev_profile-*` in the OS temp folder) for every launch and deletes it
 * on close, and it rejects a `--user-data-dir` argument, so no state carries over between runs.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumExecutable, headless: true, args: chromiumArguments });
}

/** Opens a browser context with the practice's locale and time zone, like a patient's own browser. */
export async function openContext(
  browser: Browser,
  options: { viewport?: { width: number; height: number }; javaScriptEnabled?: boolean } = {},
): Promise<BrowserContext> {
  const phone = options.viewport?.width === phoneViewport.width;
  const context = await browser.newContext({
    viewport: options.viewport ?? desktopViewport,
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    locale: 'en-GB',
    timezoneId: 'Europe/London',
    // A phone context honours the pages' viewport meta element, as a phone's browser does.
    isMobile: phone,
    hasTouch: phone,
  });
  // Every page is local and loads in well under a second, so a missing element fails the
  // step quickly instead of after playwright's default 30 seconds.
  context.setDefaultTimeout(5_000);
  return context;
}

// ---------------------------------------------------------------------------------------------
// Accessibility checks
// ---------------------------------------------------------------------------------------------

/** axe-core rule tags: WCAG 2.0, 2.1 and 2.2 at levels A and AA. */
export const wcagTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The parts of an axe-core violation that a failure message shows. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: Array<{ target: string; html: string; failureSummary: string }>;
}

/**
 * Runs axe-core on the page and returns its violations. The script goes in through
 * `page.evaluate`, not a script element, because the sandbox's Content-Security-Policy blocks
 * inline scripts and the page is checked with that policy in force.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => 'axe' in window);
  if (!loaded) {
    await page.evaluate(axeSource);
  }
  const violations = page.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: AxeResult[] }> } }).axe;
    const results = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? null,
      help: violation.help,
      helpUrl: violation.helpUrl,
      nodes: violation.nodes.map((node) => ({
        target: node.target.map(String).join(' '),
        html: node.html,
        failureSummary: node.failureSummary ?? '',
      })),
    }));
  }, wcagTags);
  return withTimeout(violations, 20_000, `axe-core did not finish on ${page.url()} within 20 s. It waits on timers, which never fire in a context with JavaScript turned off.`);
}

function withTimeout<T>(promise: Promise<T>, milliseconds: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), milliseconds);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Formats violations one rule per paragraph, with the elements and what to fix. */
export function formatViolations(violations: AxeViolation[]): string {
  return violations
    .map((violation) => {
      const nodes = violation.nodes
        .map((node) => `    at ${node.target}\n      ${node.html}\n      ${node.failureSummary.replaceAll('\n', '\n      ')}`)
        .join('\n');
      return `  ${violation.id} (${violation.impact ?? 'no impact given'}): ${violation.help}\n  ${violation.helpUrl}\n${nodes}`;
    })
    .join('\n\n');
}

/** Fails with a readable list when axe-core finds WCAG A or AA violations on the page. */
export async function expectNoAxeViolations(page: Page, pageName: string): Promise<void> {
  const violations = await axeViolations(page);
  expect(violations.length, `axe-core violations on ${pageName} (${page.url()}):\n${formatViolations(violations)}`).to.equal(0);
}

/** One stop of the keyboard focus, in document order and on screen. */
interface FocusStop {
  description: string;
  documentIndex: number;
  top: number;
}

/**
 * Presses Tab through the page from the top and returns each focused element, until focus
 * leaves the page or comes back to the first stop.
 */
export async function tabSequence(page: Page, maxStops = 80): Promise<FocusStop[]> {
  // Focus the document itself, so the first Tab starts from the top of the page even when an
  // error summary took focus on load.
  await page.evaluate(() => {
    const root = document.documentElement;
    root.setAttribute('tabindex', '-1');
    root.focus({ preventScroll: true });
    root.removeAttribute('tabindex');
    window.scrollTo(0, 0);
  });
  const stops: FocusStop[] = [];
  for (let count = 0; count < maxStops; count += 1) {
    await page.keyboard.press('Tab');
    const stop = await page.evaluate(() => {
      const element = document.activeElement;
      if (element === null || element === document.body) {
        return null;
      }
      const label = (element.getAttribute('aria-label') ?? element.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40);
      return {
        description: `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''} "${label}"`,
        documentIndex: Array.prototype.indexOf.call(document.getElementsByTagName('*'), element) as number,
        top: element.getBoundingClientRect().top + window.scrollY,
      };
    });
    if (stop === null || (stops.length > 0 && stop.documentIndex === stops[0]!.documentIndex)) {
      break;
    }
    stops.push(stop);
  }
  return stops;
}

/**
 * Checks that the skip link takes the first Tab (on the host's pages, which have one) and that
 * focus then moves through the page in document order and from top to bottom. Items in one row (the header's links, the buttons of
 * a form) may differ in top by a few pixels, hence the tolerance.
 */
export async function expectFocusOrderFollowsPage(page: Page, pageName: string, options: { skipLink?: boolean } = {}): Promise<void> {
  const rowTolerance = 24;
  const stops = await tabSequence(page);

  expect(stops.length, `focusable elements on ${pageName}`).to.be.greaterThan(0);
  if (options.skipLink ?? true) {
    expect(stops[0]!.description, `first Tab stop on ${pageName}`).to.contain('Skip to main content');
  }
  for (let index = 1; index < stops.length; index += 1) {
    const previous = stops[index - 1]!;
    const current = stops[index]!;
    const context = `on ${pageName}, Tab from ${previous.description} to ${current.description}`;
    // A date field takes one Tab for each of its day, month and year parts, so an element
    // may follow itself.
    expect(current.documentIndex, `document order ${context}`).to.be.at.least(previous.documentIndex);
    expect(current.top, `top-to-bottom order ${context}`).to.be.at.least(previous.top - rowTolerance);
  }
}

/**
 * Returns by how many CSS pixels the page is wider than `width`; 0 when it fits. The
 * document's scroll width is compared, not `innerWidth`, because a phone browser zooms out
 * to fit a page that is too wide, and `innerWidth` grows with it.
 */
export async function horizontalOverflow(page: Page, width: number): Promise<number> {
  return page.evaluate((viewportWidth) => Math.max(0, document.documentElement.scrollWidth - viewportWidth), width);
}

// ---------------------------------------------------------------------------------------------
// Journey steps
// ---------------------------------------------------------------------------------------------

/**
 * Called with every page a step reaches, once it has loaded: tests check the page there and
 * the screenshot script saves it. The name says which page and state it is.
 */
export type PageVisitor = (page: Page, pageName: string) => Promise<void>;

export const ignorePage: PageVisitor = async () => {};

/** Clicks a button or link that loads a new page, and waits until that page has loaded. */
export async function clickAndLoad(page: Page, name: string | RegExp, role: 'button' | 'link' = 'button'): Promise<void> {
  await page.getByRole(role, { name, exact: typeof name === 'string' }).click();
  await page.waitForLoadState('load');
}

/** Returns the text of the page's h1 heading. */
export async function mainHeading(page: Page): Promise<string> {
  return ((await page.locator('h1').textContent()) ?? '').trim();
}

/** Opens an address of the sandbox and returns the HTTP status of the page that loads. */
export async function openPage(page: Page, journey: JourneySandbox, path: string): Promise<number> {
  const response = await page.goto(`${journey.publicUrl}${path}`);
  return response?.status() ?? 0;
}

/** Signs in on the host's staff or portal sign-in page. */
export async function signInWithBrowser(
  page: Page,
  journey: JourneySandbox,
  area: 'admin' | 'portal',
  email: string,
  visit: PageVisitor = ignorePage,
): Promise<void> {
  await openPage(page, journey, `/${area}/sign-in`);
  await visit(page, `${area} sign-in`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(demoPassword);
  await clickAndLoad(page, 'Sign in');
  expect(new URL(page.url()).pathname, `page after signing in as ${email}`).to.equal(`/${area}`);
}

/** Sets the two settings on the Clinical Record Access settings page and saves them. */
export async function saveSettings(page: Page, journey: JourneySandbox, settings: { enabled: boolean; autoApprove: boolean }, visit: PageVisitor = ignorePage): Promise<void> {
  await openPage(page, journey, `${staffPath}/`);
  await visit(page, 'staff settings');
  await page.getByLabel('Enable clinical record access').setChecked(settings.enabled);
  await page.getByLabel('Auto-approve verified patients').setChecked(settings.autoApprove);
  await clickAndLoad(page, 'Save settings');
}

/**
 * Requests access from the start page and submits the emulator's hosted verification page
 * with the outcome "Verified" and the prefilled details, changed by `documentDetails` to test
 * a mismatch. Ends on the page the patient comes back to.
 */
export async function verifyIdentityWithBrowser(
  page: Page,
  journey: JourneySandbox,
  options: { visit?: PageVisitor; documentDetails?: { familyName?: string } } = {},
): Promise<void> {
  const visit = options.visit ?? ignorePage;
  await openPage(page, journey, `${recordPath}/`);
  await visit(page, 'patient start');
  await clickAndLoad(page, 'Start: check my identity');

  expect(page.url(), 'address of the identity check page').to.match(/\/verify\/vs_[A-Za-z0-9]+$/);
  await visit(page, 'identity check (Stripe emulator)');
  await page.getByLabel('Verified', { exact: true }).check();
  if (options.documentDetails?.familyName !== undefined) {
    await page.getByLabel('Family name').fill(options.documentDetails.familyName);
  }
  await clickAndLoad(page, 'Submit result');

  expect(new URL(page.url()).pathname, 'page after the identity check').to.equal(`${recordPath}/`);
}

/** Screenshots the QR code image as shown and decodes it with zbarimg, a real QR decoder. */
export async function scanQrCode(page: Page): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'cra-qr-'));
  try {
    const file = join(folder, 'qr.png');
    await page.locator('img.cra-qr').screenshot({ path: file });
    const { stdout } = await run('zbarimg', ['--quiet', '--raw', file]);
    return stdout.trim();
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * Returns a 6-digit code that the authenticator would not show one step before, at or after
 * the clock's instant, so the server rejects it whatever its tolerance.
 */
export async function wrongCodeFor(otpauthUri: string, clock: TestClock): Promise<string> {
  const accepted = new Set<string>();
  for (const offsetSeconds of [-30, 0, 30]) {
    accepted.add(await authenticatorCode(otpauthUri, new TestClock(new Date(clock.now().getTime() + offsetSeconds * 1000))));
  }
  return ['000000', '111111', '222222', '333333'].find((code) => !accepted.has(code))!;
}

/**
 * Sets up the authenticator from the QR code on the page, saves the recovery codes and
 * confirms them. With `tryWrongCodeFirst`, a wrong code is entered once to show the error.
 * Returns the otpauth URI and the recovery codes.
 */
export async function enrolAuthenticatorWithBrowser(
  page: Page,
  journey: JourneySandbox,
  options: { visit?: PageVisitor; tryWrongCodeFirst?: boolean } = {},
): Promise<{ otpauthUri: string; recoveryCodes: string[] }> {
  const visit = options.visit ?? ignorePage;
  expect(await mainHeading(page), 'main heading').to.equal('Set up an authenticator app');
  await visit(page, 'authenticator setup');
  const otpauthUri = await scanQrCode(page);
  expect(otpauthUri, 'decoded QR code').to.match(/^otpauth:\/\/totp\//);

  if (options.tryWrongCodeFirst) {
    await page.getByLabel('Enter the 6-digit code your app shows').fill(await wrongCodeFor(otpauthUri, journey.clock));
    await clickAndLoad(page, 'Confirm the code');
    await visit(page, 'authenticator setup with a wrong code');
  }

  await page.getByLabel('Enter the 6-digit code your app shows').fill(await authenticatorCode(otpauthUri, journey.clock));
  await clickAndLoad(page, 'Confirm the code');
  expect(new URL(page.url()).pathname, 'page after confirming the code').to.equal(`${recordPath}/recovery-codes`);
  await visit(page, 'recovery codes');

  const recoveryCodes = await page.locator('ol.cra-recovery-codes code').allTextContents();
  expect(recoveryCodes, 'recovery codes on the page').to.have.length(10);
  await clickAndLoad(page, 'I have saved my recovery codes');
  return { otpauthUri, recoveryCodes };
}

/**
 * Enters a code on the challenge page after moving the clock to the next 30-second step, so
 * the code is not one the patient has already used. With `tryWrongCodeFirst`, a wrong code
 * is entered once to show the error.
 */
export async function passChallengeWithBrowser(
  page: Page,
  journey: JourneySandbox,
  otpauthUri: string,
  options: { visit?: PageVisitor; tryWrongCodeFirst?: boolean } = {},
): Promise<void> {
  const visit = options.visit ?? ignorePage;
  journey.clock.advance(30_000);
  await openPage(page, journey, `${recordPath}/`);
  expect(await mainHeading(page), 'main heading').to.equal('Enter your code');
  await visit(page, 'code challenge');

  if (options.tryWrongCodeFirst) {
    await page.getByLabel('Code from your app, or a recovery code').fill(await wrongCodeFor(otpauthUri, journey.clock));
    await clickAndLoad(page, 'Continue');
    await visit(page, 'code challenge with a wrong code');
  }

  await page.getByLabel('Code from your app, or a recovery code').fill(await authenticatorCode(otpauthUri, journey.clock));
  await clickAndLoad(page, 'Continue');
  expect(await mainHeading(page), 'main heading').to.equal('Your clinical record');
}

/** Opens a patient's page from the staff list, filtered by status, by the patient's name. */
export async function openStaffPatientPage(
  page: Page,
  journey: JourneySandbox,
  patientName: string,
  options: { status?: string; visit?: PageVisitor } = {},
): Promise<void> {
  const visit = options.visit ?? ignorePage;
  await openPage(page, journey, `${staffPath}/access${options.status ? `?status=${options.status}` : ''}`);
  await visit(page, `staff list${options.status ? ` (${options.status})` : ''}`);
  await clickAndLoad(page, patientName, 'link');
  expect(await mainHeading(page), 'main heading').to.equal(patientName);
}

/** Makes a decision on the staff patient's page that is open, with a reason. */
export async function decideWithBrowser(page: Page, decision: 'Approve' | 'Deny' | 'Revoke', reason: string): Promise<void> {
  await page.getByLabel('Reason (optional)').fill(reason);
  await clickAndLoad(page, decision);
}

/** Section slugs with the heading each section page shows. */
export const recordSections = [
  { slug: 'problems', heading: 'Problems and diagnoses' },
  { slug: 'medications', heading: 'Medications' },
  { slug: 'allergies', heading: 'Allergies' },
  { slug: 'immunisations', heading: 'Immunisations' },
  { slug: 'lab-results', heading: 'Lab results' },
] as const;

/** Counts the record items (rows or list entries) on a section page. */
export function recordItemCount(page: Page): Promise<number> {
  return page.locator('[data-record-item]').count();
}
