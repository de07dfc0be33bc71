import i18next, { type TFunction } from 'i18next';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** i18next namespace of the plugin's catalogues. */
export const localeNamespace = 'clinical-record-access';

type Catalogue = { [key: string]: string | Catalogue };

/** Merges `addition` into `target`, rejecting a key that two files both define. */
function mergeCatalogue(target: Catalogue, addition: Catalogue, path: string[], file: string): void {
  for (const [key, value] of Object.entries(addition)) {
    const existing = target[key];
    if (typeof value === 'object' && (existing === undefined || typeof existing === 'object')) {
      target[key] = existing ?? {};
      mergeCatalogue(target[key] as Catalogue, value, [...path, key], file);
    } else if (existing !== undefined) {
      throw new Error(`Locale key ${[...path, key].join('.')} is defined twice; the second definition is in ${file}.`);
    } else {
      target[key] = value;
    }
  }
}

export interface Translator {
  /** A translation function for the locale, falling back to its language, then to English. */
  forLocale(locale: string): TFunction;
  languages: string[];
}

/**
 * Loads the catalogues under `folder` into a private i18next instance: one folder per
 * language, each holding JSON files that together form the namespace.
 */
export async function createTranslator(folder: string, defaultLocale: string): Promise<Translator> {
  const languages = (await readdir(folder, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  const resources: Record<string, Record<string, unknown>> = {};
  for (const language of languages) {
    const catalogue: Catalogue = {};
    const files = (await readdir(join(folder, language))).filter((name) => name.endsWith('.json')).sort();
    for (const file of files) {
      const path = join(folder, language, file);
      mergeCatalogue(catalogue, JSON.parse(await readFile(path, 'utf8')) as Catalogue, [], path);
    }
    resources[language] = { [localeNamespace]: catalogue };
  }

  const instance = i18next.createInstance();
  await instance.init({
    resources,
    lng: defaultLocale,
    fallbackLng: { default: ['en'] },
    ns: [localeNamespace],
    defaultNS: localeNamespace,
    // Templates escape every value themselves; escaping here too would show "&amp;".
    interpolation: { escapeValue: false },
    returnNull: false,
    initAsync: false,
    showSupportNotice: false,
  } as Parameters<typeof instance.init>[0]);

  // Each locale keeps the texts looked up without options, because every request uses the same
  // texts and one i18next lookup took about 10 µs on the benchmark machine. The catalogues never
  // change after loading. Both maps are bounded, so keys or locales from data cannot grow them.
  const translators = new Map<string, TFunction>();
  const forLocale = (locale: string): TFunction => {
    const known = translators.get(locale);
    if (known) {
      return known;
    }
    const fixed = instance.getFixedT(locale);
    const call = fixed as unknown as (...parameters: unknown[]) => unknown;
    const texts = new Map<string, string>();
    const t = (key: unknown, ...rest: unknown[]): unknown => {
      if (typeof key !== 'string' || rest.length > 1 || !hasNoOptions(rest[0])) {
        return call(key, ...rest);
      }
      const cached = texts.get(key);
      if (cached !== undefined) {
        return cached;
      }
      const text = call(key);
      if (typeof text === 'string' && texts.size < MAX_CACHED_TEXTS) {
        texts.set(key, text);
      }
      return text;
    };
    if (translators.size < MAX_CACHED_LOCALES) {
      translators.set(locale, t as unknown as TFunction);
    }
    return t as unknown as TFunction;
  };

  return { forLocale, languages };
}

/** Maximum numbers of locales, and of texts per locale, that the translator keeps. */
const MAX_CACHED_LOCALES = 50;
const MAX_CACHED_TEXTS = 5000;

/** Returns true for no options at all, or an empty object such as a Handlebars helper's hash. */
function hasNoOptions(options: unknown): boolean {
  if (options === undefined) {
    return true;
  }
  if (typeof options !== 'object' || options === null) {
    return false;
  }
  for (const _ in options) {
    return false;
  }
  return true;
}
