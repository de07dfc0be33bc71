import { QueryTypes, Transaction, type Sequelize } from 'sequelize';
import type { HostPatient } from '../host/contract.js';
import type { PluginModels } from '../db/models.js';

/**
 * Maximum length, in characters, of the name prefixes kept in `cra_request_name_prefixes`. A
 * longer search word is looked up by its first 20 characters, then checked against the whole
 * words in `cra_request_name_tokens`.
 */
export const SEARCH_PREFIX_LENGTH = 20;

/**
 * Latin letters that Unicode does not split into a base letter and an accent, written the way
 * someone without the letter on their keyboard would type them: "Łucja" as "lucja", "Søren" as
 * "soren", "Straße" as "strasse".
 */
const LETTERS_WITHOUT_ACCENT: Readonly<Record<string, string>> = {
  ł: 'l',
  ø: 'o',
  đ: 'd',
  ð: 'd',
  ı: 'i',
  æ: 'ae',
  œ: 'oe',
  ß: 'ss',
  þ: 'th',
  ħ: 'h',
  ŧ: 't',
  ŀ: 'l',
  ŋ: 'n',
};
const LETTER_WITHOUT_ACCENT = new RegExp(`[${Object.keys(LETTERS_WITHOUT_ACCENT).join('')}]`, 'g');

/**
 * Returns a patient's names folded for the staff list's search: lower case, without accents,
 * and with punctuation as spaces, so "Smith, Mary (Pri)" reads as "smith mary pri".
 */
export function searchNameOf(patient: Pick<HostPatient, 'givenNames' | 'familyName'>): string {
  return [...patient.givenNames, patient.familyName]
    .join(' ')
    // NFKD also turns full-width and other compatibility forms into plain letters ("Ｓｍｉｔｈ").
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(LETTER_WITHOUT_ACCENT, (letter) => LETTERS_WITHOUT_ACCENT[letter]!)
    // Punctuation, and the apostrophe-like ʼ and ` that Unicode files elsewhere, separate words.
    .replace(/[\p{P}ʼ`]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 400);
}

/** Returns the distinct words of a search name, each cut to 100 characters, for the token index. */
export function nameTokensOf(searchName: string): string[] {
  const words = searchName.split(' ').filter((token) => token.length > 0);
  return [...new Set(words.map((token) => [...token].slice(0, 100).join('')))];
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

interface StoredRequest {
  id: number | string;
  practice_id: string;
  status: string;
  last_changed_at: Date | string;
  display_name: string;
  search_name: string;
}

/**
 * Writes every request's search name and search rows again from its display name, a batch of
 * requests at a time, and returns how many requests it read. The migration that brought in the
 * prefix table and the current folding calls it, and so does the sandbox's
 * `sandbox:rebuild-search-index` command, which repairs the rows while the plugin runs.
 *
 * Each batch is read and written in one transaction, with its requests locked (FOR UPDATE on
 * MySQL and MariaDB, a write lock from the start on SQLite). A status change in the meantime
 * therefore waits for the batch, then copies its status into the new rows. On MySQL and MariaDB
 * the last batch also locks the gap after the newest request, so a new request waits for it too.
 * Each batch commits on its own, so a run that stops can start again.
 */
export async function rebuildSearchIndex(sequelize: Sequelize, batchSize = 500): Promise<number> {
  let lastId = 0;
  let read = 0;
  const lockRows = sequelize.getDialect() === 'mysql' || sequelize.getDialect() === 'mariadb' ? ' FOR UPDATE' : '';
  for (;;) {
    const requests = await sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, async (transaction) => {
      const batch = await sequelize.query<StoredRequest>(
        `SELECT id, practice_id, status, last_changed_at, display_name, search_name FROM cra_access_requests WHERE id > :lastId ORDER BY id LIMIT :limit${lockRows}`,
        { replacements: { lastId, limit: batchSize }, type: QueryTypes.SELECT, transaction },
      );
      if (batch.length > 0) {
        await rewriteSearchRows(sequelize, batch, transaction);
      }
      return batch;
    });
    if (requests.length === 0) {
      return read;
    }
    read += requests.length;
    lastId = Number(requests[requests.length - 1]!.id);
  }
}

/** Deletes and writes again the search name, tokens and prefixes of a batch of requests. */
async function rewriteSearchRows(sequelize: Sequelize, requests: StoredRequest[], transaction: Transaction): Promise<void> {
  const queryInterface = sequelize.getQueryInterface();
  const ids = requests.map((request) => request.id);
  // The display name is the given names and the family name joined by spaces, which is
  // how searchNameOf joins them too.
  const names = requests.map((request) => ({ givenNames: [], familyName: request.display_name }));
  const wordsOfRequest = names.map((name) => searchTokensOf(name));
  const tokens = requests.flatMap((request, index) =>
    wordsOfRequest[index]!.map((token) => ({ practice_id: request.practice_id, request_id: request.id, token })),
  );
  const prefixes = requests.flatMap((request, index) =>
    searchPrefixesOf(wordsOfRequest[index]!).map((prefix) => ({
      request_id: request.id,
      prefix,
      practice_id: request.practice_id,
      status: request.status,
      last_changed_at: request.last_changed_at,
    })),
  );

  await sequelize.query('DELETE FROM cra_request_name_tokens WHERE request_id IN (:ids)', { replacements: { ids }, type: QueryTypes.DELETE, transaction });
  await sequelize.query('DELETE FROM cra_request_name_prefixes WHERE request_id IN (:ids)', { replacements: { ids }, type: QueryTypes.DELETE, transaction });
  for (const [index, request] of requests.entries()) {
    const searchName = searchNameOf(names[index]!);
    if (searchName !== request.search_name) {
      await sequelize.query('UPDATE cra_access_requests SET search_name = :searchName WHERE id = :id', {
        replacements: { searchName, id: request.id },
        type: QueryTypes.UPDATE,
        transaction,
      });
    }
  }
  if (tokens.length > 0) {
    await queryInterface.bulkInsert('cra_request_name_tokens', tokens, { transaction });
  }
  if (prefixes.length > 0) {
    await queryInterface.bulkInsert('cra_request_name_prefixes', prefixes, { transaction });
  }
}
