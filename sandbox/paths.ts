import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

/** The sandbox's own folder. */
export const sandboxFolder = dirname(fileURLToPath(import.meta.url));

/** The repository root, which contains plugin.manifest.json. */
export const projectRootFolder = resolve(sandboxFolder, '..');
