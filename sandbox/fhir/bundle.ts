/**
 * Reads one patient's clinical record from a FHIR R4 Bundle, the sandbox's import format.
 *
 * The parser is pure: it takes decoded JSON and returns what to store, what it left out and
 * why, and the problems that stop the import. It never changes its input.
 */
import type { ClinicalSection, FhirResource } from '../../plugin/host/contract.js';

/** Bundle types the importer accepts. A `searchset` carries resources the same way. */
export const SUPPORTED_BUNDLE_TYPES: readonly string[] = ['transaction', 'batch', 'collection', 'searchset'];

/** Code system of `Observation.category`. Only the code `laboratory` makes a lab result. */
export const OBSERVATION_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/observation-category';

/** The bundle's Patient, reduced to what the host stores. */
export interface ParsedPatient {
  sourceId: string;
  /** Given names of the chosen name, in the order the bundle lists them. */
  givenNames: string[];
  familyName: string;
  /** Calendar date `YYYY-MM-DD`. */
  birthDate: string;
  status: 'active' | 'inactive' | 'deceased';
  identifiers: Array<{ system?: string; value: string }>;
}

/** A resource to store. Its `id` equals `sourceId`, and its bundle-local references are rewritten. */
export interface ParsedResource {
  resourceType: string;
  sourceId: string;
  /** Section the resource belongs to, or null for a Medication kept to resolve `medicationReference`. */
  section: ClinicalSection | null;
  resource: FhirResource;
}

/** An entry the importer left out. */
export interface SkippedEntry {
  /** The resource's `resourceType`, or an empty string when the entry has none. */
  resourceType: string;
  sourceId: string | null;
  /** Sentence that explains why the entry was left out. */
  reason: string;
}

/** Result of `parseBundle`. Import nothing unless `problems` is empty. */
export interface ParsedBundle {
  /** The bundle's Patient, or null when there are problems. */
  patient: ParsedPatient | null;
  /** Resources to store. Empty when there are problems. */
  resources: ParsedResource[];
  /** Entries left out, each with a reason. Empty when there are problems. */
  skipped: SkippedEntry[];
  /** Problems that stop the whole import, each a sentence that names what to fix. */
  problems: string[];
}

/** Resource types that are part of the record shown to patients, with their section. */
const SECTION_BY_RESOURCE_TYPE: ReadonlyMap<string, ClinicalSection | null> = new Map<string, ClinicalSection | null>([
  ['Condition', 'problems'],
  ['MedicationRequest', 'medications'],
  ['MedicationStatement', 'medications'],
  ['Medication', null],
  ['AllergyIntolerance', 'allergies'],
  ['Immunization', 'immunisations'],
  ['Observation', 'labResults'],
]);

/** Element that references the patient, for each kept type that has one. Medication has none. */
const PATIENT_ELEMENT_BY_RESOURCE_TYPE: ReadonlyMap<string, 'subject' | 'patient'> = new Map([
  ['Condition', 'subject'],
  ['MedicationRequest', 'subject'],
  ['MedicationStatement', 'subject'],
  ['AllergyIntolerance', 'patient'],
  ['Immunization', 'patient'],
  ['Observation', 'subject'],
] as const);

/** FHIR R4 `id` datatype. */
const FHIR_ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/** An entry whose resource has a `resourceType`, before the importer decides to keep it. */
interface CandidateEntry {
  fullUrl: string | null;
  resource: FhirResource;
  sourceId: string | null;
}

/**
 * Parses a FHIR R4 Bundle of type transaction, batch, collection or searchset that contains one
 * patient's record.
 *
 * The bundle must contain exactly one Patient. Conditions, MedicationRequests,
 * MedicationStatements, AllergyIntolerances, Immunizations and laboratory Observations that
 * reference that Patient are kept with their section. Medications are kept with section null so
 * that `medicationReference` can be resolved. Every other entry is skipped with a reason.
 * In kept resources, a `urn:uuid:` or `urn:oid:` reference to an entry of the bundle becomes
 * `<resourceType>/<id>`, because those URNs mean nothing once the bundle is gone. Other
 * references are kept as they are.
 */
export function parseBundle(json: unknown): ParsedBundle {
  const envelopeProblems = validateEnvelope(json);
  if (envelopeProblems.length > 0) {
    return rejected(envelopeProblems);
  }

  const entries = (json as { entry?: unknown[] }).entry ?? [];
  const skipped: SkippedEntry[] = [];
  const candidates: CandidateEntry[] = [];
  entries.forEach((entry, index) => {
    const candidate = readEntry(entry, index, skipped);
    if (candidate !== null) {
      candidates.push(candidate);
    }
  });

  const patientCandidates = candidates.filter((candidate) => candidate.resource.resourceType === 'Patient');
  const patientResult = parsePatientCandidates(patientCandidates);
  if (patientResult.problems.length > 0 || patientResult.patient === null) {
    return rejected(patientResult.problems);
  }
  const patient = patientResult.patient;
  const patientFullUrl = patientCandidates[0].fullUrl;

  const referenceTargets = collectReferenceTargets(candidates);
  const resources: ParsedResource[] = [];
  const keptKeys = new Set<string>();
  for (const candidate of candidates) {
    if (candidate.resource.resourceType === 'Patient') {
      continue;
    }
    const outcome = classifyCandidate(candidate, referenceTargets, patient.sourceId, patientFullUrl);
    if ('reason' in outcome) {
      skipped.push(outcome);
      continue;
    }

    const key = `${outcome.resourceType}/${outcome.sourceId}`;
    if (keptKeys.has(key)) {
      skipped.push({
        resourceType: outcome.resourceType,
        sourceId: outcome.sourceId,
        reason: `${key} appears more than once in the bundle, so only its first entry was imported.`,
      });
      continue;
    }
    keptKeys.add(key);
    resources.push(outcome);
  }

  return { patient, resources, skipped, problems: [] };
}

function rejected(problems: string[]): ParsedBundle {
  return { patient: null, resources: [], skipped: [], problems };
}

function validateEnvelope(json: unknown): string[] {
  if (!isPlainObject(json)) {
    return [`The input is ${describeJsonType(json)}, not a JSON object. Provide a FHIR R4 Bundle.`];
  }

  const problems: string[] = [];
  if (json.resourceType !== 'Bundle') {
    const found = typeof json.resourceType === 'string' ? `"${json.resourceType}"` : 'missing';
    problems.push(`The resourceType is ${found}, but the importer reads only a FHIR Bundle. Wrap the resources in a Bundle.`);
    return problems;
  }
  if (typeof json.type !== 'string' || !SUPPORTED_BUNDLE_TYPES.includes(json.type)) {
    const found = typeof json.type === 'string' ? `"${json.type}"` : 'missing';
    problems.push(
      `The Bundle type is ${found}. Export the record as a Bundle of type ${SUPPORTED_BUNDLE_TYPES.join(', ')}.`,
    );
  }
  if (json.entry !== undefined && !Array.isArray(json.entry)) {
    problems.push('The Bundle entry element is not an array. Bundle.entry must list the entries.');
  }
  return problems;
}

/** Returns the entry as a candidate, or records why it was skipped and returns null. */
function readEntry(entry: unknown, index: number, skipped: SkippedEntry[]): CandidateEntry | null {
  if (!isPlainObject(entry) || !isPlainObject(entry.resource)) {
    skipped.push({ resourceType: '', sourceId: null, reason: `Bundle entry ${index} has no resource.` });
    return null;
  }

  const resource = entry.resource;
  const fullUrl = typeof entry.fullUrl === 'string' ? entry.fullUrl : null;
  if (typeof resource.resourceType !== 'string' || resource.resourceType === '') {
    const sourceId = typeof resource.id === 'string' ? resource.id : null;
    skipped.push({ resourceType: '', sourceId, reason: `Bundle entry ${index} has a resource without a resourceType.` });
    return null;
  }

  const resourceType = resource.resourceType;
  const sourceId = typeof resource.id === 'string' ? resource.id : idFromFullUrl(fullUrl, resourceType);
  return { fullUrl, resource: resource as FhirResource, sourceId };
}

/**
 * Derives a resource id from an entry's fullUrl when the resource carries none, as in a
 * transaction that creates resources. Returns null when the fullUrl names no id.
 */
function idFromFullUrl(fullUrl: string | null, resourceType: string): string | null {
  if (fullUrl === null) {
    return null;
  }
  const urn = /^urn:(?:uuid|oid):(.+)$/.exec(fullUrl);
  if (urn !== null) {
    return urn[1];
  }
  const restful = new RegExp(`/${resourceType}/([^/]+)(?:/_history/[^/]+)?$`).exec(fullUrl);
  return restful === null ? null : restful[1];
}

function parsePatientCandidates(candidates: CandidateEntry[]): { patient: ParsedPatient | null; problems: string[] } {
  if (candidates.length === 0) {
    return { patient: null, problems: ['The bundle contains no Patient resource. Add the Patient the record belongs to.'] };
  }
  if (candidates.length > 1) {
    const ids = candidates.map((candidate) => candidate.sourceId ?? '(no id)').join(', ');
    return {
      patient: null,
      problems: [
        `The bundle contains ${candidates.length} Patient resources (ids ${ids}). Import one patient per bundle.`,
      ],
    };
  }
  return parsePatient(candidates[0]);
}

function parsePatient(candidate: CandidateEntry): { patient: ParsedPatient | null; problems: string[] } {
  const resource = candidate.resource;
  const problems: string[] = [];

  const sourceId = candidate.sourceId;
  if (sourceId === null) {
    problems.push('The Patient resource has no id, and its entry has no fullUrl to derive one from. Give the Patient an id.');
  } else if (!FHIR_ID_PATTERN.test(sourceId)) {
    problems.push(`The Patient id "${sourceId}" is invalid. A FHIR id has 1 to 64 letters, digits, "-" or ".".`);
  }

  const name = parsePatientName(resource.name, problems);
  const birthDate = parseBirthDate(resource.birthDate, problems);

  if (Array.isArray(resource.link)) {
    const replaced = resource.link.some((link) => isPlainObject(link) && link.type === 'replaced-by');
    if (replaced) {
      problems.push(
        'The Patient has a link of type replaced-by, so it was merged into another record. Import the surviving record instead.',
      );
    }
  }

  if (problems.length > 0 || sourceId === null || name === null || birthDate === null) {
    return { patient: null, problems };
  }
  return {
    patient: {
      sourceId,
      givenNames: name.givenNames,
      familyName: name.familyName,
      birthDate,
      status: patientStatus(resource),
      identifiers: parseIdentifiers(resource.identifier),
    },
    problems,
  };
}

/**
 * Chooses the first name with `use: official`, or else the first name with a family name
 * whose use is not `old` or `maiden`, because those two are no longer the patient's name.
 */
function parsePatientName(value: unknown, problems: string[]): { givenNames: string[]; familyName: string } | null {
  const names = Array.isArray(value) ? value.filter(isPlainObject) : [];
  const official = names.find((name) => name.use === 'official');
  const chosen =
    official ??
    names.find((name) => typeof name.family === 'string' && name.family !== '' && name.use !== 'old' && name.use !== 'maiden');
  if (chosen === undefined) {
    problems.push('The Patient has no official name and no current name with a family name. Add a name with family and given.');
    return null;
  }

  const use = official === undefined ? 'current' : 'official';
  if (typeof chosen.family !== 'string' || chosen.family.trim() === '') {
    problems.push(`The Patient's ${use} name has no family name. Add name.family.`);
    return null;
  }

  const given = chosen.given ?? [];
  if (!Array.isArray(given) || given.some((part) => typeof part !== 'string' || part.trim() === '')) {
    problems.push(`The given names of the Patient's ${use} name must be a list of non-empty strings. Correct name.given.`);
    return null;
  }
  return { givenNames: [...given], familyName: chosen.family };
}

/** Accepts only a full calendar date, because the importer must not invent a month or day. */
function parseBirthDate(value: unknown, problems: string[]): string | null {
  if (value === undefined) {
    problems.push('The Patient has no birthDate. Add the date of birth as YYYY-MM-DD.');
    return null;
  }
  if (typeof value !== 'string') {
    problems.push('The Patient birthDate is not a string. Write the date of birth as YYYY-MM-DD.');
    return null;
  }
  if (/^\d{4}(-\d{2})?$/.test(value)) {
    problems.push(
      `The Patient birthDate "${value}" is not a full date. Add the month and day as YYYY-MM-DD, because the importer does not invent them.`,
    );
    return null;
  }

  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (match === null) {
    problems.push(`The Patient birthDate "${value}" is invalid. Write the date of birth as YYYY-MM-DD.`);
    return null;
  }
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    problems.push(`The Patient birthDate "${value}" is not a calendar date. Correct it to a real date as YYYY-MM-DD.`);
    return null;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Deceased wins over `active`, because a deceased patient's record may still be marked active. */
function patientStatus(resource: FhirResource): ParsedPatient['status'] {
  if (resource.deceasedBoolean === true || typeof resource.deceasedDateTime === 'string') {
    return 'deceased';
  }
  return resource.active === false ? 'inactive' : 'active';
}

function parseIdentifiers(value: unknown): ParsedPatient['identifiers'] {
  if (!Array.isArray(value)) {
    return [];
  }
  const identifiers: ParsedPatient['identifiers'] = [];
  for (const identifier of value) {
    if (!isPlainObject(identifier) || typeof identifier.value !== 'string') {
      continue;
    }
    identifiers.push(
      typeof identifier.system === 'string'
        ? { system: identifier.system, value: identifier.value }
        : { value: identifier.value },
    );
  }
  return identifiers;
}

/**
 * Maps each `urn:uuid:` and `urn:oid:` fullUrl to the `<resourceType>/<id>` reference that
 * replaces it. When two entries share a fullUrl, the first one is the target.
 */
function collectReferenceTargets(candidates: CandidateEntry[]): Map<string, string> {
  const targets = new Map<string, string>();
  for (const candidate of candidates) {
    if (candidate.fullUrl === null || candidate.sourceId === null || !/^urn:(uuid|oid):/.test(candidate.fullUrl)) {
      continue;
    }
    if (!targets.has(candidate.fullUrl)) {
      targets.set(candidate.fullUrl, `${candidate.resource.resourceType}/${candidate.sourceId}`);
    }
  }
  return targets;
}

/** Returns the resource to keep, or the reason to skip it. Duplicates are checked by the caller. */
function classifyCandidate(
  candidate: CandidateEntry,
  referenceTargets: Map<string, string>,
  patientId: string,
  patientFullUrl: string | null,
): ParsedResource | SkippedEntry {
  const resourceType = candidate.resource.resourceType;
  const sourceId = candidate.sourceId;
  const skip = (reason: string): SkippedEntry => ({ resourceType, sourceId, reason });

  const section = SECTION_BY_RESOURCE_TYPE.get(resourceType);
  if (section === undefined) {
    return skip(`${resourceType} is not part of the clinical record shown to patients.`);
  }
  if (sourceId === null) {
    return skip(`${resourceType} has no id, and its entry has no fullUrl to derive one from.`);
  }
  if (!FHIR_ID_PATTERN.test(sourceId)) {
    return skip(`${resourceType} id "${sourceId}" is invalid. A FHIR id has 1 to 64 letters, digits, "-" or ".".`);
  }
  if (resourceType === 'Observation') {
    const reason = laboratoryCategoryProblem(candidate.resource);
    if (reason !== null) {
      return skip(reason);
    }
  }

  const resource = rewriteReferences(candidate.resource, referenceTargets) as FhirResource;
  resource.id = sourceId;

  const patientElement = PATIENT_ELEMENT_BY_RESOURCE_TYPE.get(resourceType);
  if (patientElement !== undefined) {
    const reason = patientReferenceProblem(resource, patientElement, patientId, patientFullUrl);
    if (reason !== null) {
      return skip(reason);
    }
  }

  return { resourceType, sourceId, section, resource };
}

/** Returns why an Observation is not a lab result, or null when it has the category laboratory. */
function laboratoryCategoryProblem(observation: FhirResource): string | null {
  const codings: Array<Record<string, unknown>> = [];
  const categories = Array.isArray(observation.category) ? observation.category : [];
  for (const category of categories) {
    if (isPlainObject(category) && Array.isArray(category.coding)) {
      codings.push(...category.coding.filter(isPlainObject));
    }
  }

  const isLaboratory = codings.some(
    (coding) => coding.system === OBSERVATION_CATEGORY_SYSTEM && coding.code === 'laboratory',
  );
  if (isLaboratory) {
    return null;
  }

  // A code from another system is written as a FHIR token, `system|code`, so the reason does not
  // read as if the standard code `laboratory` had been rejected.
  const codes = codings
    .filter((coding) => typeof coding.code === 'string')
    .map((coding) =>
      coding.system === OBSERVATION_CATEGORY_SYSTEM || typeof coding.system !== 'string'
        ? String(coding.code)
        : `${coding.system}|${String(coding.code)}`,
    );
  if (codes.length === 0) {
    return 'Observation has no category code, so it is not a lab result.';
  }
  return `Observation category ${codes.join(', ')} is not a lab result.`;
}

/** Returns why the resource's subject or patient is not the bundle's Patient, or null when it is. */
function patientReferenceProblem(
  resource: FhirResource,
  element: 'subject' | 'patient',
  patientId: string,
  patientFullUrl: string | null,
): string | null {
  const resourceType = resource.resourceType;
  const value = resource[element];
  if (!isPlainObject(value) || typeof value.reference !== 'string') {
    return `${resourceType} has no ${element} reference, so it cannot be tied to the patient.`;
  }

  const reference = value.reference.replace(/\/_history\/[^/]+$/, '');
  if (reference === `Patient/${patientId}` || (patientFullUrl !== null && reference === patientFullUrl)) {
    return null;
  }
  return `${resourceType} ${element} "${value.reference}" is not the bundle's patient, Patient/${patientId}.`;
}

/** Returns a deep copy of `value` in which each `reference` found in `targets` is replaced. */
function rewriteReferences(value: unknown, targets: Map<string, string>): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => rewriteReferences(item, targets));
  }
  if (!isPlainObject(value)) {
    return value;
  }

  const copy: Record<string, unknown> = {};
  for (const [key, element] of Object.entries(value)) {
    if (key === 'reference' && typeof element === 'string' && targets.has(element)) {
      copy[key] = targets.get(element);
    } else {
      copy[key] = rewriteReferences(element, targets);
    }
  }
  return copy;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeJsonType(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (value === undefined) {
    return 'undefined';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  return `a ${typeof value}`;
}
