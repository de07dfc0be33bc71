import type { QueryInterface } from 'sequelize';
import { rebuildSearchIndex } from '../plugin/access/search-index.js';

// The staff list's search now reads letters such as ł, ø and ß as l, o and ss, and punctuation
// as spaces, so "lucja" finds Łucja and "smith, mary" finds Mary Smith. The stored name words
// and prefixes were folded the old way, so they are written again. The rebuild uses the
// folding of the code that runs it, which is the folding this migration brings in.
export async function up({ context: queryInterface }: { context: QueryInterface }): Promise<void> {
  await rebuildSearchIndex(queryInterface.sequelize);
}

export async function down(): Promise<void> {
  // The old folding is gone with the old code, and the rows it wrote hold nothing the new
  // ones lack, so there is nothing to undo.
}
