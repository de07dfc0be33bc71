import { QueryTypes, type Transaction } from 'sequelize';
import type { HostPatient } from '../host/contract.js';
import type { PluginModels } from '../db/models.js';

/**
 * Maximum length, in characters, of the name prefixes kept in `cra_request_name_prefixes`. A
 * longer search word is looked up by its first 20 characters, then checked against the whole
 * words in `cra_request_name_tokens`.
 */
export const SEARCH_PREFIX_LENGTH = 20;

/** Returns a patient's names folded for the staff list's search: lower case, no accents. */
export function searchNameOf(patient: Pick<HostPatient, 'givenNames' | 'familyName'>): string {
  return [...patient.givenNames, patient.familyName]
    .join(' ')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[’'ʼ‘`-]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 400);
}

/** Returns the distinct words of a search name, for the token index. */
export function nameTokensOf(searchName: string): string[] {
  return [...new Set(searchName.split(' ').filter((token) => token.length > 0).map((token) => token.slice(0, 100)))];
}

/**
 * Returns the words the staff list finds a patient by: each word of the name, and each name
 * that has an apostrophe also written without it, so "obrien" finds O'Brien as "o'brien" does.
 */
export function searchTokensOf(patient: Pick<HostPatient, 'givenNames' | 'familyName'>): string[] {
  const withoutApostrophes = {
    givenNames: patient.givenNames.map((name) => name.replace(/[’'ʼ‘`]/g, '')),
    familyName: patient.familyName.replace(/[’'ʼ‘`]/g, ''),
  };
  return [...new Set([...nameTokensOf(searchNameOf(patient)), ...nameTokensOf(searchNameOf(withoutApostrophes))])];
}

/** Returns the first `SEARCH_PREFIX_LENGTH` characters of a word, counted in code points. */
export function searchPrefixOf(word: string): string {
  return [...word].slice(0, SEARCH_PREFIX_LENGTH).join('');
}

/**
 * Returns every distinct start of the given words, from one character up to
 * `SEARCH_PREFIX_LENGTH`: "ada" gives "a", "ad" and "ada". Characters are code points, so a
 * prefix never ends in half a surrogate pair.
 */
export function searchPrefixesOf(tokens: readonly string[]): string[] {
  const prefixes = new Set<string>();
  for (const token of tokens) {
    const characters = [...token].slice(0, SEARCH_PREFIX_LENGTH);
    for (let length = 1; length <= characters.length; length += 1) {
      prefixes.add(characters.slice(0, length).join(''));
    }
  }
  return [...prefixes];
}

/**
 * Writes a new request's rows in the search index: its name words in `cra_request_name_tokens`,
 * and each start of a word in `cra_request_name_prefixes` with the request's status and last
 * change time, which the list pages through in order. Call it after any other change to the
 * request in the same transaction, so it copies the current values.
 */
export async function writeSearchIndex(
  models: PluginModels,
  request: { id: number; practiceId: string },
  patient: Pick<HostPatient, 'givenNames' | 'familyName'>,
  transaction: Transaction,
): Promise<void> {
  const current = await models.AccessRequest.findOne({
    where: { id: request.id, practiceId: request.practiceId },
    attributes: ['status', 'lastChangedAt'],
    transaction,
  });
  if (!current) {
    throw new Error(`Access request ${request.id} was not found in practice ${request.practiceId}, so its search index was not written.`);
  }
  const tokens = searchTokensOf(patient);
  await models.RequestNameToken.bulkCreate(
    tokens.map((token) => ({ practiceId: request.practiceId, requestId: request.id, token })),
    { transaction },
  );
  await models.RequestNamePrefix.bulkCreate(
    searchPrefixesOf(tokens).map((prefix) => ({
      requestId: request.id,
      prefix,
      practiceId: request.practiceId,
      status: current.status,
      lastChangedAt: current.lastChangedAt,
    })),
    { transaction },
  );
}

/**
 * Deletes a request's rows in the search index and writes them again from the patient's name,
 * after a change of name. A new request uses `writeSearchIndex` alone. On MariaDB a DELETE that
 * matches no row locks the gap after the last index entry, so two requests created at once would
 * block each other's inserts until one of them failed with a deadlock.
 */
export async function replaceSearchIndex(
  models: PluginModels,
  request: { id: number; practiceId: string },
  patient: Pick<HostPatient, 'givenNames' | 'familyName'>,
  transaction: Transaction,
): Promise<void> {
  await models.RequestNameToken.destroy({ where: { requestId: request.id }, transaction });
  await models.RequestNamePrefix.destroy({ where: { requestId: request.id }, transaction });
  await writeSearchIndex(models, request, patient, transaction);
}

/**
 * Copies a request's status and last change time into its prefix rows. Every change to either
 * column that does not write the rows anew calls this in the same transaction, or the list
 * would find the request under its old status or at its old place.
 */
export async function syncSearchOrder(models: PluginModels, requestId: number, transaction: Transaction): Promise<void> {
  await models.RequestNamePrefix.sequelize!.query(
    `UPDATE cra_request_name_prefixes
        SET status = (SELECT status FROM cra_access_requests WHERE id = :requestId),
            last_changed_at = (SELECT last_changed_at FROM cra_access_requests WHERE id = :requestId)
      WHERE request_id = :requestId`,
    { replacements: { requestId }, type: QueryTypes.UPDATE, transaction },
  );
}

/**
 * Copies every request's status and last change time of a practice into its prefix rows. For
 * requests changed around the access service (bulk loads, tests); the service keeps them in
 * step itself.
 */
export async function rebuildSearchOrder(models: PluginModels, practiceId: string): Promise<void> {
  const sequelize = models.RequestNamePrefix.sequelize!;
  await sequelize.transaction(async (transaction) => {
    await sequelize.query(
      `UPDATE cra_request_name_prefixes
          SET status = (SELECT r.status FROM cra_access_requests r WHERE r.id = cra_request_name_prefixes.request_id),
              last_changed_at = (SELECT r.last_changed_at FROM cra_access_requests r WHERE r.id = cra_request_name_prefixes.request_id)
        WHERE practice_id = :practiceId`,
      { replacements: { practiceId }, type: QueryTypes.UPDATE, transaction },
    );
  });
}
