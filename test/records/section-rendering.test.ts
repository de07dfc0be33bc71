/**
 * Loads clinical record sections through the sandbox host's real clinical records API and
 * renders them with the plugin's own templates and catalogue. Items are counted by their
 * `data-record-item` attribute, so a count follows the rendered page, not the view model.
 */
import { expect } from 'chai';
import type { TFunction } from 'i18next';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import type { ClinicalRecordPage, ClinicalSection, FhirResource, HostApi, HostLogger } from '../../plugin/host/contract.js';
import type { Translator } from '../../plugin/i18n.js';
import {
  createRecordService,
  MAX_SECTION_ENTRIES,
  RECORD_PAGE_SIZE,
  type LoadedSection,
  type RecordService,
} from '../../plugin/records/record-service.js';
import {
  CLINICAL_SECTIONS,
  isSectionSlug,
  OVERVIEW_TITLE_KEY,
  renderOverviewHtml,
  renderSectionHtml,
  SECTION_SLUGS,
  SECTION_TITLE_KEYS,
  sectionForSlug,
  type RecordPagePlugin,
} from '../../plugin/records/section-page.js';
import { demoPatients } from '../../sandbox/demo/patients.js';
import { parseBundle } from '../../sandbox/fhir/bundle.js';
import { storeParsedBundle } from '../../sandbox/fhir/store.js';
import { pluginOf, silentLogger, startTestSandbox, type TestSandbox } from '../support/sandbox.js';

const syntheaUrl = new URL('../../../shared/fixtures/fhir/synthea-sample-complete-patient.json', import.meta.url);
const viewsFolder = fileURLToPath(new URL('../../views/', import.meta.url));
const englishLocaleFolder = fileURLToPath(new URL('../../locales/en/', import.meta.url));
const recordsCataloguePath = fileURLToPath(new URL('../../locales/en/records.json', import.meta.url));

const LOCALE = 'en-GB';
const BASE_PATH = '/portal/clinical-record';
const CSRF_TOKEN = 'test-csrf-token';

interface PatientIds {
  practiceId: string;
  patientId: string;
}

interface LogRecord {
  level: string;
  fields: Record<string, unknown>;
  message: string | undefined;
}

/** Creates a pino-compatible logger that keeps every record, with its child bindings merged in. */
function capturingLogger(records: LogRecord[], bindings: Record<string, unknown> = {}): HostLogger {
  const write = (level: string) => (object: object, message?: string) => {
    records.push({ level, fields: { ...bindings, ...object }, message });
  };
  return {
    trace: write('trace'),
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => capturingLogger(records, { ...bindings, ...more }),
  };
}

type ClinicalRecords = HostApi['clinicalRecords'];
type PageRequest = { cursor: string | null; limit: number };

/** Wraps the host's clinical records API and keeps the page request of each call. */
function countingClinicalRecords(inner: ClinicalRecords, calls: PageRequest[]): ClinicalRecords {
  return {
    list: async (practiceId, patientId, section, page) => {
      calls.push({ ...page });
      return inner.list(practiceId, patientId, section, page);
    },
  };
}

/**
 * Creates an in-memory clinical records API that serves `total` final lab results. Importing
 * a record longer than the 2,000-entry cap into the sandbox would make the test slow, so the
 * cap tests page through this instead.
 */
function generatedLabResults(total: number, options: { pageOverflow?: number; repeatCursor?: boolean } = {}): ClinicalRecords {
  return {
    async list(_practiceId, _patientId, _section, page): Promise<ClinicalRecordPage> {
      const start = page.cursor === null ? 0 : Number(page.cursor);
      const end = Math.min(total, start + page.limit + (options.pageOverflow ?? 0));
      const entries = [];
      for (let index = start; index < end; index += 1) {
        entries.push({
          resource: {
            resourceType: 'Observation',
            id: `generated-${index}`,
            status: 'final',
            category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
            code: { text: 'Sodium' },
            effectiveDateTime: '2024-01-15',
            valueQuantity: { value: 140, unit: 'mmol/L' },
          },
        });
      }
      if (options.repeatCursor === true) {
        return { entries, nextCursor: 'same-cursor' };
      }
      return { entries, nextCursor: end < total ? String(end) : null };
    },
  };
}

/** Counts the items of one kind on a page. */
function countItems(html: string, kind: string): number {
  return html.split(`data-record-item="${kind}"`).length - 1;
}

/**
 * Returns the markup of each item of one kind: from its `data-record-item` attribute to the
 * next item's, or to the page's closing help text for the last one.
 */
function itemsOf(html: string, kind: string): string[] {
  return html
    .split(`data-record-item="${kind}"`)
    .slice(1)
    .map((chunk) => chunk.split('data-record-item=')[0]!.split('class="cra-record-help"')[0]!);
}

/** Returns the one item of a kind whose markup contains `text`, failing when none or several do. */
function itemWith(html: string, kind: string, text: string): string {
  const matches = itemsOf(html, kind).filter((item) => item.includes(text));
  expect(matches, `${kind} items containing ${JSON.stringify(text)}`).to.have.length(1);
  return matches[0]!;
}

function countH1(html: string): number {
  return (html.match(/<h1[\s>]/g) ?? []).length;
}

/** Flattens a nested catalogue into dotted keys. */
function flattenKeys(catalogue: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(catalogue).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null
      ? flattenKeys(value as Record<string, unknown>, `${prefix}${key}.`)
      : [`${prefix}${key}`],
  );
}

/** Reads every English catalogue file into one set of dotted keys. */
async function englishKeys(): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const file of (await readdir(englishLocaleFolder)).filter((name) => name.endsWith('.json'))) {
    const catalogue = JSON.parse(await readFile(`${englishLocaleFolder}${file}`, 'utf8')) as Record<string, unknown>;
    flattenKeys(catalogue).forEach((key) => keys.add(key));
  }
  return keys;
}

/** Reports whether a key resolves, directly or through its English plural forms. */
function keyExists(keys: Set<string>, key: string): boolean {
  return keys.has(key) || (keys.has(`${key}_one`) && keys.has(`${key}_other`));
}

/** Lists the record templates: the overview, the section pages and the `records-` partials. */
async function recordTemplatePaths(): Promise<string[]> {
  const entries = await readdir(viewsFolder, { recursive: true });
  return entries
    .map((entry) => String(entry).split('\\').join('/'))
    .filter(
      (path) =>
        path === 'patient/record-overview.hbs' ||
        (path.startsWith('patient/sections/') && path.endsWith('.hbs')) ||
        /^partials\/records-[a-z-]+\.hbs$/.test(path),
    )
    .map((path) => `${viewsFolder}${path}`);
}

/** Returns the translation keys a template passes to `t`, as `{{t "key"}}` or `(t "key")`. */
function keysInTemplate(source: string): string[] {
  return [...source.matchAll(/[{(]\s*t\s+"([^"]+)"/g)].map((match) => match[1]!);
}

/** Wraps a translator to record every key i18next could not resolve, which it returns unchanged. */
function recordingTranslator(translator: Translator, missingKeys: Set<string>): Translator {
  return {
    languages: translator.languages,
    forLocale(locale) {
      const t = translator.forLocale(locale);
      const recording = (key: string, options?: Record<string, unknown>) => {
        const text = t(key, options);
        if (text === key) {
          missingKeys.add(key);
        }
        return text;
      };
      return recording as unknown as TFunction;
    },
  };
}

const SCRIPT = '<script>alert(1)</script>';
const ESCAPED_SCRIPT = '&lt;script&gt;alert(1)&lt;/script&gt;';
const NARRATIVE_MARKER = 'NARRATIVE-MARKER';
const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

function narrative(resourceName: string): Record<string, unknown> {
  return {
    status: 'generated',
    div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${NARRATIVE_MARKER} ${resourceName}</p><script>alert(2)</script></div>`,
  };
}

function coded(system: string, code: string): Record<string, unknown> {
  return { coding: [{ system, code }] };
}

/** Builds a bundle whose every displayed text is markup, and whose every resource has a narrative. */
function hostileBundle(): Record<string, unknown> {
  const subject = { reference: 'Patient/hostile-text' };
  const resources: FhirResource[] = [
    {
      resourceType: 'Patient',
      id: 'hostile-text',
      text: narrative('patient'),
      name: [{ use: 'official', family: 'Hostile', given: ['Text'] }],
      birthDate: '1970-01-01',
    },
    {
      resourceType: 'Condition',
      id: 'hostile-condition',
      text: narrative('condition'),
      clinicalStatus: coded('http://terminology.hl7.org/CodeSystem/condition-clinical', 'active'),
      verificationStatus: coded('http://terminology.hl7.org/CodeSystem/condition-ver-status', 'confirmed'),
      code: { text: SCRIPT },
      subject,
      onsetString: SCRIPT,
      recordedDate: '2021-05-14',
    },
    {
      resourceType: 'MedicationRequest',
      id: 'hostile-medication',
      text: narrative('medication'),
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: { text: SCRIPT },
      subject,
      authoredOn: '2021-05-14',
      dosageInstruction: [{ text: '<img src=x onerror=alert(1)>', patientInstruction: SCRIPT }],
    },
    {
      resourceType: 'AllergyIntolerance',
      id: 'hostile-allergy',
      text: narrative('allergy'),
      clinicalStatus: coded('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'active'),
      verificationStatus: coded('http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', 'confirmed'),
      code: { text: SCRIPT },
      patient: subject,
      reaction: [{ manifestation: [{ text: SCRIPT }], description: '"><svg onload=alert(1)>' }],
    },
    {
      resourceType: 'Immunization',
      id: 'hostile-immunisation',
      text: narrative('immunisation'),
      status: 'completed',
      vaccineCode: { text: SCRIPT },
      patient: subject,
      occurrenceString: SCRIPT,
      protocolApplied: [{ doseNumberString: SCRIPT }],
    },
    {
      resourceType: 'Immunization',
      id: 'hostile-not-given',
      text: narrative('not given'),
      status: 'not-done',
      statusReason: { text: SCRIPT },
      vaccineCode: { text: SCRIPT },
      patient: subject,
      occurrenceDateTime: '2021-05-14',
    },
    {
      resourceType: 'Observation',
      id: 'hostile-result',
      text: narrative('result'),
      status: 'final',
      category: [coded(OBSERVATION_CATEGORY, 'laboratory')],
      code: { text: SCRIPT },
      subject,
      effectiveDateTime: '2021-05-14',
      valueString: SCRIPT,
      referenceRange: [{ text: SCRIPT, appliesTo: [{ text: SCRIPT }] }],
      component: [{ code: { text: SCRIPT }, valueQuantity: { value: 1, unit: SCRIPT } }],
    },
  ];
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: resources.map((resource) => ({
      fullUrl: `https://hostile.example.test/fhir/${resource.resourceType}/${String(resource.id)}`,
      resource,
    })),
  };
}

describe('records: section pages', function () {
  let testSandbox: TestSandbox;
  let plugin: RecordPagePlugin;
  let clinicalRecords: ClinicalRecords;
  let records: RecordService;

  before(async function () {
    testSandbox = await startTestSandbox();
    plugin = pluginOf(testSandbox);
    clinicalRecords = testSandbox.sandbox.hostApi.clinicalRecords;
    records = createRecordService({ clinicalRecords, logger: silentLogger });
  });

  after(async function () {
    await testSandbox.close();
  });

  async function demoPatientIds(key: string): Promise<PatientIds> {
    const patient = await testSandbox.sandbox.models.Patient.findOne({ where: { demoKey: key } });
    if (!patient) {
      throw new Error(`No demo patient with key ${key} in the test sandbox.`);
    }
    return { practiceId: String(patient.practiceId), patientId: String(patient.id) };
  }

  async function importBundle(practiceKey: 'riverside' | 'harbour', bundle: unknown): Promise<PatientIds> {
    const practice = await testSandbox.sandbox.models.Practice.findOne({ where: { demoKey: practiceKey } });
    const report = await storeParsedBundle(testSandbox.sandbox.models, practice!.id, parseBundle(bundle));
    return { practiceId: String(practice!.id), patientId: String(report.patientId) };
  }

  function render(section: ClinicalSection, view: LoadedSection, pagePlugin: RecordPagePlugin = plugin): string {
    return renderSectionHtml(pagePlugin, { section, view, locale: LOCALE, csrfToken: CSRF_TOKEN, basePath: BASE_PATH });
  }

  async function loadAndRender(ids: PatientIds, section: ClinicalSection, service: RecordService = records): Promise<string> {
    const view = await service.loadSection(ids.practiceId, ids.patientId, section, { locale: LOCALE });
    return render(section, view);
  }

  describe('Synthea patient', function () {
    let synthea: PatientIds;

    before(async function () {
      synthea = await importBundle('harbour', JSON.parse(await readFile(syntheaUrl, 'utf8')));
    });

    it('lists 21 problems', async function () {
      const html = await loadAndRender(synthea, 'problems');

      expect(countItems(html, 'problem')).to.equal(21);
    });

    it('groups 7 current and 14 past problems', async function () {
      const html = await loadAndRender(synthea, 'problems');
      const [currentPart, pastPart] = html.split('id="cra-problems-past"');

      expect(countItems(currentPart!, 'problem')).to.equal(7);
      expect(countItems(pastPart!, 'problem')).to.equal(14);
    });

    it('lists 12 medications', async function () {
      const html = await loadAndRender(synthea, 'medications');

      expect(countItems(html, 'medication')).to.equal(12);
    });

    it('words a structured dosage', async function () {
      const html = await loadAndRender(synthea, 'medications');
      const hydrochlorothiazide = itemWith(html, 'medication', 'Hydrochlorothiazide 25 MG Oral Tablet');

      expect(hydrochlorothiazide).to.include('<p>Dose: 1</p>');
      expect(hydrochlorothiazide).to.include('<p>Once a day</p>');
    });

    it('lists 26 lab results', async function () {
      const html = await loadAndRender(synthea, 'labResults');

      expect(countItems(html, 'lab-result')).to.equal(26);
    });

    it('says no allergy information is recorded', async function () {
      const html = await loadAndRender(synthea, 'allergies');

      expect(html).to.include('data-record-state="none-recorded"');
      expect(html).to.include('No allergy information has been recorded.');
      expect(html).not.to.include('No known allergies');
      expect(countItems(html, 'allergy')).to.equal(0);
    });

    it('says no immunisations are recorded', async function () {
      const html = await loadAndRender(synthea, 'immunisations');

      expect(html).to.include('data-record-state="empty"');
      expect(html).to.include('No immunisations are recorded.');
      expect(countItems(html, 'immunisation')).to.equal(0);
    });

    it('labels the lab results table', async function () {
      const html = await loadAndRender(synthea, 'labResults');

      expect(html).to.include('<caption id="cra-lab-results-caption">Lab results, newest first</caption>');
      expect(html).to.include('role="region" aria-labelledby="cra-lab-results-caption" tabindex="0"');
      expect(html.match(/<th scope="col">/g)).to.have.length(4);
      expect(html.match(/<th scope="row">/g)).to.have.length(26);
    });

    it('renders one h1 on every page', async function () {
      for (const section of CLINICAL_SECTIONS) {
        const html = await loadAndRender(synthea, section);
        expect(countH1(html), section).to.equal(1);
      }
      const overview = renderOverviewHtml(plugin, { locale: LOCALE, csrfToken: CSRF_TOKEN, basePath: BASE_PATH });
      expect(countH1(overview), 'overview').to.equal(1);
    });
  });

  describe('demo patients', function () {
    it('shows no known allergies as recorded', async function () {
      const html = await loadAndRender(await demoPatientIds('zoe-ashworth-clarke'), 'allergies');

      expect(html).to.include('data-record-state="no-known-allergies"');
      expect(itemWith(html, 'no-known-allergy', 'No known allergies')).to.include('Recorded 12 January 2021');
      expect(html).not.to.include('No allergy information has been recorded');
    });

    it('shows missing allergy information as not recorded', async function () {
      const html = await loadAndRender(await demoPatientIds('declan-obrien'), 'allergies');

      expect(html).to.include('data-record-state="none-recorded"');
      expect(html).to.include('No allergy information has been recorded.');
      expect(html).not.to.include('No known allergies');
    });

    it('labels a preliminary result', async function () {
      const html = await loadAndRender(await demoPatientIds('lucja-wisniewska'), 'labResults');
      const preliminary = itemWith(html, 'lab-result', 'Tissue transglutaminase');

      expect(preliminary).to.include('cra-status-label--preliminary">Preliminary</strong>');
      expect(html.match(/cra-status-label--preliminary/g)).to.have.length(1);
    });

    it('labels a provisional diagnosis', async function () {
      const html = await loadAndRender(await demoPatientIds('lucja-wisniewska'), 'problems');

      expect(itemWith(html, 'problem', 'Coeliac disease')).to.include('cra-status-label--provisional">Provisional</strong>');
      expect(itemWith(html, 'problem', 'Iron deficiency anaemia')).not.to.include('cra-status-label');
    });

    it('labels an unconfirmed problem and allergy', async function () {
      const problems = await loadAndRender(await demoPatientIds('oliver-bennett'), 'problems');
      const allergies = await loadAndRender(await demoPatientIds('lucja-wisniewska'), 'allergies');

      expect(itemWith(problems, 'problem', 'Sleep apnoea')).to.include('cra-status-label--unconfirmed">Unconfirmed</strong>');
      expect(itemWith(allergies, 'allergy', 'Nickel')).to.include('cra-status-label--unconfirmed">Unconfirmed</strong>');
    });

    it('labels amended result with comparator', async function () {
      const html = await loadAndRender(await demoPatientIds('chidi-okafor'), 'labResults');
      const amended = itemWith(html, 'lab-result', 'cra-status-label--amended');

      expect(amended).to.include('<span class="cra-result-value">&lt; 5 mg/L</span>');
      expect(amended).to.include('Amended</strong>');
      expect(amended).not.to.include('cra-result-flag');
    });

    it('keeps a greater-than comparator', async function () {
      const html = await loadAndRender(await demoPatientIds('declan-obrien'), 'labResults');
      const egfrRows = itemsOf(html, 'lab-result').filter((row) => row.includes('eGFR (CKD-EPI)'));

      expect(egfrRows).to.have.length(2);
      for (const row of egfrRows) {
        expect(row).to.include('<span class="cra-result-value">&gt; 90 mL/min/1.73m²</span>');
      }
    });

    it('marks low and high results in words', async function () {
      const lucja = await loadAndRender(await demoPatientIds('lucja-wisniewska'), 'labResults');
      const declan = await loadAndRender(await demoPatientIds('declan-obrien'), 'labResults');

      expect(itemWith(lucja, 'lab-result', 'Haemoglobin')).to.include('<strong class="cra-result-flag cra-result-flag--low">Low</strong>');
      expect(itemWith(lucja, 'lab-result', 'Haemoglobin')).to.include('115–165 g/L');
      expect(itemWith(declan, 'lab-result', 'Total cholesterol')).to.include('<strong class="cra-result-flag cra-result-flag--high">High</strong>');
      expect(itemWith(declan, 'lab-result', '140 mmol/L')).not.to.include('cra-result-flag');
    });

    it('marks an abnormal result in words', async function () {
      const html = await loadAndRender(await demoPatientIds('aroha-ngatai'), 'labResults');
      const culture = itemWith(html, 'lab-result', 'Escherichia coli');

      expect(culture).to.include('<strong class="cra-result-flag cra-result-flag--abnormal">Outside the normal range</strong>');
    });

    it('shows no flag on results in range', async function () {
      const html = await loadAndRender(await demoPatientIds('siobhan-obrien'), 'labResults');

      expect(countItems(html, 'lab-result')).to.equal(3);
      expect(html).not.to.include('cra-result-flag');
    });

    it('hides entered-in-error and refuted records', async function () {
      const chidi = await demoPatientIds('chidi-okafor');
      const problems = await loadAndRender(chidi, 'problems');
      const allergies = await loadAndRender(chidi, 'allergies');
      const labResults = await loadAndRender(chidi, 'labResults');
      const oliverProblems = await loadAndRender(await demoPatientIds('oliver-bennett'), 'problems');

      expect(countItems(problems, 'problem')).to.equal(2);
      expect(problems).not.to.include('Type 1 diabetes');
      expect(allergies).not.to.include('Allergy to penicillin');
      expect(allergies).to.include('data-record-state="none-recorded"');
      expect(countItems(labResults, 'lab-result')).to.equal(3);
      expect(labResults).not.to.include('Potassium');
      expect(oliverProblems).not.to.include('Deep vein thrombosis');
    });

    it('lists a vaccination not given apart from doses', async function () {
      const html = await loadAndRender(await demoPatientIds('amelia-brook'), 'immunisations');
      const doses = itemsOf(html, 'immunisation');
      const notGiven = itemsOf(html, 'immunisation-not-given');

      expect(doses).to.have.length(7);
      expect(notGiven).to.have.length(1);
      expect(notGiven[0]).to.include('teenage booster');
      expect(notGiven[0]).to.include('Declined at the school vaccination session.');
      expect(doses.filter((dose) => dose.includes('teenage booster'))).to.deep.equal([]);
    });

    it('never counts a declined booster as a dose', async function () {
      const html = await loadAndRender(await demoPatientIds('jose-martinez-garcia'), 'immunisations');

      expect(countItems(html, 'immunisation')).to.equal(1);
      expect(itemWith(html, 'immunisation-not-given', 'Spikevax')).to.include('Fever on the day of the appointment.');
      expect(itemsOf(html, 'immunisation').filter((dose) => dose.includes('Spikevax'))).to.deep.equal([]);
    });

    it('shows dates at their stored precision', async function () {
      const ids = await demoPatientIds('siobhan-obrien');
      const problems = await loadAndRender(ids, 'problems');
      const immunisations = await loadAndRender(ids, 'immunisations');

      expect(itemWith(problems, 'problem', 'Hay fever')).to.include('<dd>April 2002</dd>');
      expect(itemWith(problems, 'problem', 'Asthma')).to.include('<dd>1990</dd>');
      expect(problems).not.to.match(/\d April 2002/);
      expect(itemWith(immunisations, 'immunisation', 'BCG vaccine')).to.include('<td>1997</td>');
    });

    it('keeps the calendar day of a result taken abroad', async function () {
      const html = await loadAndRender(await demoPatientIds('aroha-ngatai'), 'labResults');

      expect(itemWith(html, 'lab-result', 'Escherichia coli')).to.include('<td>1 January 2024</td>');
    });

    it('pages through all 120 results', async function () {
      const calls: PageRequest[] = [];
      const service = createRecordService({ clinicalRecords: countingClinicalRecords(clinicalRecords, calls), logger: silentLogger });
      const ids = await demoPatientIds('mary-pemberton');

      const view = await service.loadSection(ids.practiceId, ids.patientId, 'labResults', { locale: LOCALE });
      const html = render('labResults', view);

      expect(calls).to.have.length(2);
      expect(calls[0]).to.deep.equal({ cursor: null, limit: RECORD_PAGE_SIZE });
      expect(calls[1]!.cursor).to.be.a('string');
      expect(view.truncated).to.equal(false);
      expect(countItems(html, 'lab-result')).to.equal(120);
      expect(html).not.to.include('data-record-truncated');
    });
  });

  describe('entry cap', function () {
    it('truncates a record longer than the cap', async function () {
      const logs: LogRecord[] = [];
      const service = createRecordService({ clinicalRecords, logger: capturingLogger(logs), maxEntries: 50 });
      const ids = await demoPatientIds('mary-pemberton');

      const view = await service.loadSection(ids.practiceId, ids.patientId, 'labResults', { locale: LOCALE });
      const html = render('labResults', view);

      expect(view.truncated).to.equal(true);
      expect(countItems(html, 'lab-result')).to.equal(50);
      expect(html).to.include('data-record-truncated');
      expect(html).to.include('Your record has more entries than this page can show');
      expect(logs.filter((record) => record.level === 'warn')).to.have.length(1);
    });

    it('reads a record exactly at the cap in full', async function () {
      const service = createRecordService({ clinicalRecords, logger: silentLogger, maxEntries: 120 });
      const ids = await demoPatientIds('mary-pemberton');

      const view = await service.loadSection(ids.practiceId, ids.patientId, 'labResults', { locale: LOCALE });

      expect(view.truncated).to.equal(false);
      expect(view.items).to.have.length(120);
    });

    it('shows the newest 2,000 entries by default', async function () {
      const calls: PageRequest[] = [];
      const entries = generatedLabResults(2500);
      const service = createRecordService({
        clinicalRecords: countingClinicalRecords(entries, calls),
        logger: silentLogger,
      });

      const view = await service.loadSection('1', '1', 'labResults', { locale: LOCALE });
      const full = await createRecordService({ clinicalRecords: generatedLabResults(2500), logger: silentLogger, maxEntries: 2500 }).loadSection('1', '1', 'labResults', {
        locale: LOCALE,
      });

      expect(MAX_SECTION_ENTRIES).to.equal(2000);
      expect(view.items).to.have.length(2000);
      expect(view.truncated).to.equal(true);
      expect(calls, 'every page is read').to.have.length(2500 / RECORD_PAGE_SIZE);
      expect(view.items.map((item) => item.id)).to.deep.equal(full.items.slice(0, 2000).map((item) => item.id));
    });

    it('stops reading at the read cap', async function () {
      const calls: PageRequest[] = [];
      const service = createRecordService({
        clinicalRecords: countingClinicalRecords(generatedLabResults(500), calls),
        logger: silentLogger,
        maxEntries: 50,
        maxReadEntries: 200,
      });

      const view = await service.loadSection('1', '1', 'labResults', { locale: LOCALE });

      expect(view.items).to.have.length(50);
      expect(view.truncated).to.equal(true);
      expect(calls).to.have.length(2);
    });

    it('cuts a page longer than requested at the cap', async function () {
      const service = createRecordService({
        clinicalRecords: generatedLabResults(500, { pageOverflow: 50 }),
        logger: silentLogger,
        maxEntries: 120,
      });

      const view = await service.loadSection('1', '1', 'labResults', { locale: LOCALE });

      expect(view.items).to.have.length(120);
      expect(view.truncated).to.equal(true);
    });

    it('rejects a repeated page cursor', async function () {
      const service = createRecordService({ clinicalRecords: generatedLabResults(500, { repeatCursor: true }), logger: silentLogger });

      let error: unknown = null;
      try {
        await service.loadSection('1', '1', 'labResults', { locale: LOCALE });
      } catch (caught) {
        error = caught;
      }

      expect(error).to.be.instanceOf(Error);
      expect((error as Error).message).to.include('returned page cursor "same-cursor" twice');
    });

    it('rejects unknown section before host call', async function () {
      const calls: PageRequest[] = [];
      const service = createRecordService({ clinicalRecords: countingClinicalRecords(clinicalRecords, calls), logger: silentLogger });

      let error: unknown = null;
      try {
        await service.loadSection('1', '1', 'vitalSigns' as ClinicalSection, { locale: LOCALE });
      } catch (caught) {
        error = caught;
      }

      expect(error).to.be.instanceOf(RangeError);
      expect(calls).to.deep.equal([]);
    });

    it('rejects a cap below one', function () {
      expect(() => createRecordService({ clinicalRecords, logger: silentLogger, maxEntries: 0 })).to.throw(RangeError, 'Invalid maxEntries 0');
    });
  });

  describe('logging', function () {
    it('logs ids and counts only', async function () {
      const logs: LogRecord[] = [];
      const service = createRecordService({ clinicalRecords, logger: capturingLogger(logs) });
      const mary = await demoPatientIds('mary-pemberton');
      const chidi = await demoPatientIds('chidi-okafor');

      for (const section of CLINICAL_SECTIONS) {
        await service.loadSection(mary.practiceId, mary.patientId, section, { locale: LOCALE });
        await service.loadSection(chidi.practiceId, chidi.patientId, section, { locale: LOCALE });
      }
      const written = JSON.stringify(logs);

      expect(logs).to.have.length(10);
      for (const record of logs) {
        expect(Object.keys(record.fields).sort()).to.deep.equal(
          ['component', 'entries', 'pageRequests', 'patientId', 'practiceId', 'section', 'truncated'],
        );
      }
      for (const clinicalText of ['Pemberton', 'Mary', 'Okafor', 'Creatinine', 'Cellulitis', 'Apixaban', 'Codeine', 'Hepatitis']) {
        expect(written, clinicalText).not.to.include(clinicalText);
      }
    });
  });

  describe('host text', function () {
    let hostile: PatientIds;

    before(async function () {
      hostile = await importBundle('riverside', hostileBundle());
    });

    it('escapes host text in every section', async function () {
      for (const section of CLINICAL_SECTIONS) {
        const html = await loadAndRender(hostile, section);
        expect(html, section).to.include(ESCAPED_SCRIPT);
        expect(html, section).not.to.include('<script');
        expect(html, section).not.to.include('<img');
        expect(html, section).not.to.include('<svg');
      }
    });

    it('shows each hostile item once', async function () {
      expect(countItems(await loadAndRender(hostile, 'problems'), 'problem')).to.equal(1);
      expect(countItems(await loadAndRender(hostile, 'medications'), 'medication')).to.equal(1);
      expect(countItems(await loadAndRender(hostile, 'allergies'), 'allergy')).to.equal(1);
      expect(countItems(await loadAndRender(hostile, 'immunisations'), 'immunisation')).to.equal(1);
      expect(countItems(await loadAndRender(hostile, 'immunisations'), 'immunisation-not-given')).to.equal(1);
      expect(countItems(await loadAndRender(hostile, 'labResults'), 'lab-result')).to.equal(1);
      expect(countItems(await loadAndRender(hostile, 'labResults'), 'lab-component')).to.equal(1);
    });

    it('never renders the narrative', async function () {
      for (const section of CLINICAL_SECTIONS) {
        const html = await loadAndRender(hostile, section);
        expect(html, section).not.to.include(NARRATIVE_MARKER);
      }
    });
  });

  describe('overview', function () {
    it('links to the five sections', function () {
      const html = renderOverviewHtml(plugin, { locale: LOCALE, csrfToken: CSRF_TOKEN, basePath: `${BASE_PATH}/` });

      expect(html).to.include(`<a href="${BASE_PATH}/section/problems">Problems and diagnoses</a>`);
      expect(html).to.include(`<a href="${BASE_PATH}/section/medications">Medications</a>`);
      expect(html).to.include(`<a href="${BASE_PATH}/section/allergies">Allergies</a>`);
      expect(html).to.include(`<a href="${BASE_PATH}/section/immunisations">Immunisations</a>`);
      expect(html).to.include(`<a href="${BASE_PATH}/section/lab-results">Lab results</a>`);
    });

    it('leaves out recovery codes without a count', function () {
      const html = renderOverviewHtml(plugin, { locale: LOCALE, csrfToken: CSRF_TOKEN, basePath: BASE_PATH });

      expect(html).not.to.include('cra-record-recovery-codes');
      expect(html).not.to.include('<form');
    });

    it('reports a used recovery code', function () {
      const html = renderOverviewHtml(plugin, {
        locale: LOCALE,
        csrfToken: CSRF_TOKEN,
        basePath: BASE_PATH,
        notice: 'recoveryCodeUsed',
        remainingRecoveryCodes: 1,
        recoveryCodesPending: false,
      });

      expect(html).to.include('You opened your record with a recovery code.');
      expect(html).to.include('You have 1 unused recovery code left.');
      expect(html).to.include('You are running low on recovery codes.');
      expect(html).to.include(`<form method="post" action="${BASE_PATH}/recovery-codes/regenerate">`);
      expect(html).to.include(`<input type="hidden" name="_csrf" value="${CSRF_TOKEN}">`);
    });

    it('words zero and many remaining codes', function () {
      const none = renderOverviewHtml(plugin, { locale: LOCALE, csrfToken: CSRF_TOKEN, basePath: BASE_PATH, remainingRecoveryCodes: 0 });
      const many = renderOverviewHtml(plugin, { locale: LOCALE, csrfToken: CSRF_TOKEN, basePath: BASE_PATH, remainingRecoveryCodes: 8 });

      expect(none).to.include('You have no unused recovery codes left.');
      expect(many).to.include('You have 8 unused recovery codes left.');
      expect(many).not.to.include('running low');
    });

    it('links to saving pending codes', function () {
      const html = renderOverviewHtml(plugin, {
        locale: LOCALE,
        csrfToken: CSRF_TOKEN,
        basePath: BASE_PATH,
        remainingRecoveryCodes: 10,
        recoveryCodesPending: true,
      });

      expect(html).to.include(`<a href="${BASE_PATH}/recovery-codes">Save your new recovery codes</a>`);
      expect(html).not.to.include('/recovery-codes/regenerate');
    });
  });

  describe('section slugs', function () {
    it('maps every slug to its section', function () {
      for (const section of CLINICAL_SECTIONS) {
        expect(sectionForSlug(SECTION_SLUGS[section]), section).to.equal(section);
        expect(isSectionSlug(SECTION_SLUGS[section]), section).to.equal(true);
      }
      expect(SECTION_SLUGS.labResults).to.equal('lab-results');
    });

    it('rejects unknown slugs', function () {
      for (const slug of ['labResults', 'Problems', 'problems/', '', '__proto__', 'constructor', 'toString', undefined, null, 42]) {
        expect(sectionForSlug(slug), String(slug)).to.equal(null);
        expect(isSectionSlug(slug), String(slug)).to.equal(false);
      }
    });

    it('marks the current section in the navigation', async function () {
      const html = await loadAndRender(await demoPatientIds('siobhan-obrien'), 'immunisations');

      expect(html).to.include(`<a href="${BASE_PATH}/section/immunisations" aria-current="page">Immunisations</a>`);
      expect(html).to.include(`<a href="${BASE_PATH}/">Overview</a>`);
      expect(html.match(/aria-current="page"/g)).to.have.length(1);
    });

    it('rejects a view of another section', async function () {
      const view = await records.loadSection('1', '1', 'problems', { locale: LOCALE });

      expect(() => render('medications', view)).to.throw(Error, 'Cannot render the medications page from a view of the problems section.');
    });
  });

  describe('templates and locale keys', function () {
    it('finds the record templates', async function () {
      const paths = (await recordTemplatePaths()).map((path) => path.slice(viewsFolder.length)).sort();

      expect(paths).to.include.members([
        'patient/record-overview.hbs',
        'patient/sections/allergies.hbs',
        'patient/sections/immunisations.hbs',
        'patient/sections/lab-results.hbs',
        'patient/sections/medications.hbs',
        'patient/sections/problems.hbs',
        'partials/records-section-nav.hbs',
      ]);
    });

    it('defines every key the templates use', async function () {
      const keys = await englishKeys();

      for (const path of await recordTemplatePaths()) {
        const used = keysInTemplate(await readFile(path, 'utf8'));
        expect(used.length, path).to.be.greaterThan(0);
        for (const key of used) {
          expect(keyExists(keys, key), `${key} in ${path}`).to.equal(true);
        }
      }
      for (const key of [...Object.values(SECTION_TITLE_KEYS), OVERVIEW_TITLE_KEY]) {
        expect(keyExists(keys, key), key).to.equal(true);
      }
    });

    it('uses every key of the records catalogue', async function () {
      const catalogue = JSON.parse(await readFile(recordsCataloguePath, 'utf8')) as Record<string, unknown>;
      const used = new Set<string>([...Object.values(SECTION_TITLE_KEYS), OVERVIEW_TITLE_KEY]);
      for (const path of await recordTemplatePaths()) {
        keysInTemplate(await readFile(path, 'utf8')).forEach((key) => used.add(key));
      }

      for (const key of flattenKeys(catalogue)) {
        expect(used.has(key.replace(/_(zero|one|other)$/, '')), key).to.equal(true);
      }
    });

    it('never prints unescaped or fixed-width markup', async function () {
      for (const path of await recordTemplatePaths()) {
        const source = await readFile(path, 'utf8');
        expect(source, path).not.to.include('{{{');
        expect(source, path).not.to.match(/\bstyle=/);
        expect(source, path).not.to.match(/\bwidth=/);
      }
    });

    it('renders demo pages without missing keys', async function () {
      const missingKeys = new Set<string>();
      const recordingPlugin: RecordPagePlugin = {
        templates: plugin.templates,
        translator: recordingTranslator(plugin.translator, missingKeys),
      };

      for (const patient of demoPatients) {
        const ids = await demoPatientIds(patient.key);
        for (const section of CLINICAL_SECTIONS) {
          const view = await records.loadSection(ids.practiceId, ids.patientId, section, { locale: LOCALE });
          const html = render(section, view, recordingPlugin);
          expect(countH1(html), `${patient.key} ${section}`).to.equal(1);
        }
      }
      for (const remainingRecoveryCodes of [0, 1, 5]) {
        renderOverviewHtml(recordingPlugin, {
          locale: LOCALE,
          csrfToken: CSRF_TOKEN,
          basePath: BASE_PATH,
          notice: 'recoveryCodeUsed',
          remainingRecoveryCodes,
        });
      }

      expect([...missingKeys]).to.deep.equal([]);
    });
  });
});
