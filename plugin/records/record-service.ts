/**
 * Loads one section of a patient's clinical record from the host and runs it through the
 * pipeline in view-models.ts. Reading every page happens here, so the views and templates
 * never see a cursor.
 */
import type { ClinicalRecordEntry, ClinicalSection, HostApi, HostId, HostLogger } from '../host/contract.js';
import { SECTION_RESOURCE_TYPES } from './status-rules.js';
import { buildSectionView, type SectionViewMap } from './view-models.js';

/** Entries requested per host call. The sandbox host serves at most 500 per page. */
export const RECORD_PAGE_SIZE = 100;

/**
 * Maximum number of entries shown for one section of one patient. The service reads up to
 * MAX_READ_ENTRIES, sorts them, and keeps this many of the newest, so the shown part of a
 * long record is always its most recent part. The result's `truncated` flag makes the page
 * show a notice.
 * NOTE: 2,000 is a judgement of what one page can show usefully, not a measured limit.
 */
export const MAX_SECTION_ENTRIES = 2000;

/**
 * Maximum number of entries read for one section. Beyond it the host's remaining entries are
 * never read. The host returns entries in its own order, not by date, so such a record can
 * miss recent items, and the page then shows the same notice.
 */
export const MAX_READ_ENTRIES = 10_000;

/**
 * Maximum number of host calls for one section. A host may return short or empty pages, so
 * the entry cap alone does not bound the number of calls.
 */
const MAX_PAGE_REQUESTS = 100;

/** A section's view with a flag for a record longer than the plugin reads. */
export type LoadedSection<Section extends ClinicalSection = ClinicalSection> = SectionViewMap[Section] & {
  /** True when the host has more entries than the service read, so the view is incomplete. */
  truncated: boolean;
};

export interface LoadSectionOptions {
  /** BCP 47 locale the dates and numbers are written in, for example `en-GB`. */
  locale: string;
}

export interface RecordService {
  /**
   * Reads every page of one section from the host, up to the read cap, builds its view and
   * keeps the newest entries up to the display cap.
   * Throws RangeError for an unknown section or a malformed locale, and Error when the host
   * returns a cursor it has already returned. Errors from the host propagate unchanged.
   */
  loadSection<Section extends ClinicalSection>(
    practiceId: HostId,
    patientId: HostId,
    section: Section,
    options: LoadSectionOptions,
  ): Promise<LoadedSection<Section>>;
}

export interface RecordServiceDependencies {
  clinicalRecords: HostApi['clinicalRecords'];
  /** Receives ids and counts only, never clinical content or patient details. */
  logger: HostLogger;
  /** Entries shown per section. Defaults to MAX_SECTION_ENTRIES, and tests lower it. */
  maxEntries?: number;
  /** Entries read per section. Defaults to MAX_READ_ENTRIES, and tests lower it. */
  maxReadEntries?: number;
}

interface ReadResult {
  entries: ClinicalRecordEntry[];
  truncated: boolean;
  pageRequests: number;
}

/** Creates the service that loads clinical record sections for patient pages. */
export function createRecordService(dependencies: RecordServiceDependencies): RecordService {
  const { clinicalRecords } = dependencies;
  const logger = dependencies.logger.child({ component: 'clinical-records' });
  const maxEntries = dependencies.maxEntries ?? MAX_SECTION_ENTRIES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`Invalid maxEntries ${String(maxEntries)}: expected a positive whole number.`);
  }
  const maxReadEntries = Math.max(dependencies.maxReadEntries ?? MAX_READ_ENTRIES, maxEntries);

  const readAllPages = async (practiceId: HostId, patientId: HostId, section: ClinicalSection): Promise<ReadResult> => {
    const entries: ClinicalRecordEntry[] = [];
    const seenCursors = new Set<string>();
    let cursor: string | null = null;
    let pageRequests = 0;

    do {
      if (pageRequests === MAX_PAGE_REQUESTS) {
        return { entries, truncated: true, pageRequests };
      }
      const limit = Math.min(RECORD_PAGE_SIZE, maxReadEntries - entries.length);
      const page = await clinicalRecords.list(practiceId, patientId, section, { cursor, limit });
      pageRequests += 1;
      entries.push(...page.entries);

      // A host may return more entries than the limit asked for, so cut at the cap here.
      if (entries.length > maxReadEntries) {
        entries.length = maxReadEntries;
        return { entries, truncated: true, pageRequests };
      }
      cursor = page.nextCursor;
      if (cursor !== null && seenCursors.has(cursor)) {
        throw new Error(
          `The host returned page cursor ${JSON.stringify(cursor)} twice while listing ${section} for patient ${patientId} of practice ${practiceId}, so the record cannot be read to its end.`,
        );
      }
      if (cursor !== null) {
        seenCursors.add(cursor);
      }
    } while (cursor !== null && entries.length < maxReadEntries);

    return { entries, truncated: cursor !== null, pageRequests };
  };

  return {
    async loadSection(practiceId, patientId, section, options) {
      if (!Object.hasOwn(SECTION_RESOURCE_TYPES, section)) {
        throw new RangeError(
          `Unknown clinical record section ${JSON.stringify(section)}: expected one of ${Object.keys(SECTION_RESOURCE_TYPES).join(', ')}.`,
        );
      }

      const read = await readAllPages(practiceId, patientId, section);
      const { entries, pageRequests } = read;
      const view = buildSectionView(section, entries, { locale: options.locale });

      // The view is sorted, so keeping its first items keeps the newest.
      const items = view.items as unknown[];
      const truncated = read.truncated || items.length > maxEntries;
      if (items.length > maxEntries) {
        items.length = maxEntries;
      }

      const logFields = { practiceId, patientId, section, entries: entries.length, pageRequests, truncated };
      if (truncated) {
        logger.warn(logFields, 'clinical record section truncated at the entry cap');
      } else {
        logger.debug(logFields, 'clinical record section loaded');
      }
      return { ...view, truncated };
    },
  };
}
