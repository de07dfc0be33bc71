import type { PluginModels } from '../../plugin/db/models.js';
import { searchPrefixesOf } from '../../plugin/access/search-index.js';

/**
 * Compares a practice's name prefix rows with its requests and name words, and returns one line
 * per difference: a prefix missing or extra for a request, or a prefix row whose status or last
 * change time differs from its request's. An empty list means the index is in step.
 */
export async function searchIndexDrift(models: PluginModels, practiceId: string): Promise<string[]> {
  const requests = await models.AccessRequest.findAll({ where: { practiceId }, order: [['id', 'ASC']] });
  const tokens = await models.RequestNameToken.findAll({ where: { practiceId } });
  const prefixes = await models.RequestNamePrefix.findAll({ where: { practiceId } });

  const drift: string[] = [];
  for (const request of requests) {
    const id = Number(request.id);
    const expected = searchPrefixesOf(tokens.filter((token) => Number(token.requestId) === id).map((token) => token.token)).sort();
    const rows = prefixes.filter((row) => Number(row.requestId) === id);
    const stored = rows.map((row) => row.prefix).sort();
    if (expected.length === 0) {
      drift.push(`request ${id} has no name words`);
    }
    if (JSON.stringify(stored) !== JSON.stringify(expected)) {
      drift.push(`request ${id} has prefixes ${JSON.stringify(stored)}, expected ${JSON.stringify(expected)}`);
    }
    for (const row of rows) {
      if (row.status !== request.status || row.lastChangedAt.getTime() !== request.lastChangedAt.getTime()) {
        drift.push(`request ${id} prefix "${row.prefix}" has ${row.status} at ${row.lastChangedAt.toISOString()}, the request ${request.status} at ${request.lastChangedAt.toISOString()}`);
      }
    }
  }
  const requestIds = new Set(requests.map((request) => Number(request.id)));
  for (const row of prefixes) {
    if (!requestIds.has(Number(row.requestId))) {
      drift.push(`prefix "${row.prefix}" names request ${row.requestId}, which is not in the practice`);
    }
  }
  return drift;
}
