import type { Transaction } from 'sequelize';
import type { HostModels } from '../models.js';
import type { ParsedBundle } from './bundle.js';

export interface ImportReport {
  patientId: number;
  createdPatient: boolean;
  imported: Record<string, number>;
  updated: number;
  skipped: ParsedBundle['skipped'];
}

/**
 * Stores a parsed bundle's resources for a patient of a practice. The patient is the one
 * named by `patientId`, else the practice's patient with the bundle Patient's id as source id,
 * else a new patient. Re-importing the same bundle updates resources in place.
 */
export async function storeParsedBundle(
  models: HostModels,
  practiceId: number,
  parsed: ParsedBundle,
  options: { patientId?: number; portalLogin?: string | null; passwordHash?: string | null; demoKey?: string | null } = {},
): Promise<ImportReport> {
  if (parsed.problems.length > 0 || !parsed.patient) {
    throw new Error(`The bundle cannot be imported: ${parsed.problems.join(' ') || 'it has no Patient resource.'}`);
  }
  const source = parsed.patient;
  const sequelize = models.Patient.sequelize!;

  return sequelize.transaction(async (transaction: Transaction) => {
    let patient = options.patientId
      ? await models.Patient.findOne({ where: { id: options.patientId, practiceId }, transaction })
      : await models.Patient.findOne({ where: { practiceId, sourceSystemId: source.sourceId }, transaction });
    if (options.patientId && !patient) {
      throw new Error(`Patient ${options.patientId} does not exist in practice ${practiceId}. Check the ids, or leave out --patient to create a new patient.`);
    }
    // Another person's record must never land in this patient's: the bundle's Patient has to
    // have the same family name and date of birth.
    const sameFamilyName = (left: string, right: string) => left.normalize('NFKC').toLocaleLowerCase('en') === right.normalize('NFKC').toLocaleLowerCase('en');
    if (options.patientId && patient && (patient.birthDate !== source.birthDate || !sameFamilyName(patient.familyName, source.familyName))) {
      throw new Error(
        `The bundle's Patient has a different family name or date of birth from patient ${options.patientId}, so it is not their record. Nothing was imported. Check the patient id, or leave out --patient to create a new patient.`,
      );
    }

    let createdPatient = false;
    if (!patient) {
      patient = await models.Patient.create(
        {
          practiceId,
          demoKey: options.demoKey ?? null,
          givenNames: JSON.stringify(source.givenNames),
          familyName: source.familyName,
          birthDate: source.birthDate,
          status: source.status,
          mergedIntoId: null,
          sourceSystemId: source.sourceId,
          portalLogin: options.portalLogin ?? null,
          passwordHash: options.passwordHash ?? null,
        },
        { transaction },
      );
      createdPatient = true;
    }

    const imported: Record<string, number> = {};
    let updated = 0;
    for (const entry of parsed.resources) {
      const values = {
        practiceId,
        patientId: patient.id,
        resourceType: entry.resourceType,
        resourceId: entry.sourceId,
        section: entry.section,
        resource: JSON.stringify(entry.resource),
      };
      const existing = await models.FhirResource.findOne({
        where: { patientId: patient.id, resourceType: entry.resourceType, resourceId: entry.sourceId },
        transaction,
      });
      if (existing) {
        await existing.update(values, { transaction });
        updated += 1;
      } else {
        await models.FhirResource.create(values, { transaction });
      }
      imported[entry.resourceType] = (imported[entry.resourceType] ?? 0) + 1;
    }

    return { patientId: patient.id, createdPatient, imported, updated, skipped: parsed.skipped };
  });
}
