/**
 * Renders the patient's clinical record pages: the overview and one page per section. The
 * result is the page body only, because the host wraps it in its portal layout. Templates
 * live in `views/patient/`, and every value they print is escaped by Handlebars.
 */
import type { ClinicalSection } from '../host/contract.js';
import type { Templates } from '../http/templates.js';
import type { Translator } from '../i18n.js';
import type { MedicationView, ProblemView, SectionView } from './view-models.js';

/** The sections in the order the overview and the navigation list them. */
export const CLINICAL_SECTIONS: readonly ClinicalSection[] = [
  'problems',
  'medications',
  'allergies',
  'immunisations',
  'labResults',
];

/** URL path segment of each section, for example `/lab-results`. */
export const SECTION_SLUGS = {
  problems: 'problems',
  medications: 'medications',
  allergies: 'allergies',
  immunisations: 'immunisations',
  labResults: 'lab-results',
} as const satisfies Record<ClinicalSection, string>;

export type SectionSlug = (typeof SECTION_SLUGS)[ClinicalSection];

/**
 * Sections by slug. A Map, not an object, so that a slug such as `constructor` or
 * `__proto__` finds nothing instead of an inherited property.
 */
const SECTIONS_BY_SLUG: ReadonlyMap<string, ClinicalSection> = new Map(
  CLINICAL_SECTIONS.map((section) => [SECTION_SLUGS[section], section]),
);

/** Locale key of each section's page title, for the title the host shows around the page. */
export const SECTION_TITLE_KEYS: Readonly<Record<ClinicalSection, string>> = {
  problems: 'clinicalAccess.records.sections.problems.title',
  medications: 'clinicalAccess.records.sections.medications.title',
  allergies: 'clinicalAccess.records.sections.allergies.title',
  immunisations: 'clinicalAccess.records.sections.immunisations.title',
  labResults: 'clinicalAccess.records.sections.labResults.title',
};

/** Locale key of the overview page's title. */
export const OVERVIEW_TITLE_KEY = 'clinicalAccess.records.overview.title';

/**
 * Returns the section a URL slug names, or null for any other value. The caller responds to
 * null with 404 Not Found. Slugs are exact and case-sensitive, so `Problems` and
 * `labResults` are unknown.
 */
export function sectionForSlug(slug: unknown): ClinicalSection | null {
  return typeof slug === 'string' ? (SECTIONS_BY_SLUG.get(slug) ?? null) : null;
}

/** Reports whether a value is one of the section slugs. */
export function isSectionSlug(slug: unknown): slug is SectionSlug {
  return sectionForSlug(slug) !== null;
}

/** The services the pages need from the plugin context. */
export type RecordPagePlugin = { templates: Templates; translator: Translator };

export interface RecordPageInput {
  /** BCP 47 locale of the page, for example `en-GB`. */
  locale: string;
  /** The host's CSRF token, passed on to the templates for any form they hold. */
  csrfToken: string;
  /**
   * Path the patient router is mounted at, for example `/portal/clinical-record`. The
   * overview is `<basePath>/` and a section is `<basePath>/section/<slug>`. A trailing slash
   * is ignored.
   */
  basePath: string;
}

export interface SectionPageInput extends RecordPageInput {
  section: ClinicalSection;
  /** The section's view, as RecordService.loadSection returns it. */
  view: SectionView & { truncated?: boolean };
}

interface NavigationItem {
  section: ClinicalSection;
  slug: SectionSlug;
  href: string;
  current: boolean;
}

function trimTrailingSlashes(basePath: string): string {
  return basePath.replace(/\/+$/, '');
}

function sectionLinks(basePath: string, currentSection: ClinicalSection | null): NavigationItem[] {
  const base = trimTrailingSlashes(basePath);
  return CLINICAL_SECTIONS.map((section) => ({
    section,
    slug: SECTION_SLUGS[section],
    href: `${base}/section/${SECTION_SLUGS[section]}`,
    current: section === currentSection,
  }));
}

/**
 * Splits problems and medications into current and past lists, each keeping the view's
 * order. Other sections need no groups.
 */
function groupItems(view: SectionView): { current: unknown[]; past: unknown[] } | null {
  if (view.section === 'problems') {
    const items: ProblemView[] = view.items;
    return { current: items.filter((item) => item.active), past: items.filter((item) => !item.active) };
  }
  if (view.section === 'medications') {
    const items: MedicationView[] = view.items;
    return { current: items.filter((item) => item.current), past: items.filter((item) => !item.current) };
  }
  return null;
}

/**
 * Renders the body of one section's page. Throws Error when the view belongs to another
 * section, because the page would then show one section's data under another's heading.
 */
export function renderSectionHtml(plugin: RecordPagePlugin, input: SectionPageInput): string {
  const { section, view } = input;
  if (!Object.hasOwn(SECTION_SLUGS, section)) {
    throw new RangeError(`Unknown clinical record section ${JSON.stringify(section)}: expected one of ${CLINICAL_SECTIONS.join(', ')}.`);
  }
  if (view.section !== section) {
    throw new Error(`Cannot render the ${section} page from a view of the ${String(view.section)} section.`);
  }

  return plugin.templates.render(`patient/sections/${SECTION_SLUGS[section]}`, {
    t: plugin.translator.forLocale(input.locale),
    csrfToken: input.csrfToken,
    view: { ...view, truncated: view.truncated === true },
    groups: groupItems(view),
    navigation: {
      overviewHref: `${trimTrailingSlashes(input.basePath)}/`,
      items: sectionLinks(input.basePath, section),
    },
  });
}

/** Notice shown at the top of the overview after the step that led to it. */
export type OverviewNotice = 'recoveryCodeUsed';

export interface OverviewPageInput extends RecordPageInput {
  /** `recoveryCodeUsed` after the patient opened the record with a recovery code. */
  notice?: OverviewNotice | null;
  /** Unused recovery codes the patient has left. Leave out to hide the recovery codes part. */
  remainingRecoveryCodes?: number;
  /** True when new recovery codes wait for the patient to save them. */
  recoveryCodesPending?: boolean;
}

/**
 * Remaining recovery codes at or below which the overview suggests getting new ones.
 * NOTE: 2 is a judgement call, not a figure from a standard. Each sign-in without the
 * authenticator app uses one code.
 */
export const LOW_RECOVERY_CODES = 2;

/**
 * Renders the body of the overview page: links to every section, and the patient's recovery
 * codes with a form to replace them. The form posts to `<basePath>/recovery-codes/regenerate`
 * and the saving link opens `<basePath>/recovery-codes`.
 */
export function renderOverviewHtml(plugin: RecordPagePlugin, input: OverviewPageInput): string {
  const base = trimTrailingSlashes(input.basePath);
  const remaining = input.remainingRecoveryCodes;
  const recoveryCodes = remaining === undefined
    ? null
    : {
        remaining,
        low: remaining <= LOW_RECOVERY_CODES,
        pending: input.recoveryCodesPending === true,
        saveHref: `${base}/recovery-codes`,
        regenerateAction: `${base}/recovery-codes/regenerate`,
      };

  return plugin.templates.render('patient/record-overview', {
    t: plugin.translator.forLocale(input.locale),
    csrfToken: input.csrfToken,
    sections: sectionLinks(input.basePath, null),
    notice: input.notice === 'recoveryCodeUsed' ? input.notice : null,
    recoveryCodes,
  });
}
