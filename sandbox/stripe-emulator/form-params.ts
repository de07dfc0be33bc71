/**
 * Decoding of `application/x-www-form-urlencoded` bodies and query strings in the bracket
 * notation that Stripe's v1 API and its SDKs use: `options[document][require_matching_selfie]=true`
 * nests maps, and both `expand[]=a` and `expand[0]=a` build lists.
 */

/** A decoded parameter: a string, or a map of nested parameters. Lists are maps with index keys. */
export type FormValue = string | FormMap;

export interface FormMap {
  [key: string]: FormValue;
}

/** Raised when the parameter names cannot be decoded into one consistent structure. */
export class FormParamsError extends Error {
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
    this.name = 'FormParamsError';
  }
}

/** Maximum bracket depth, as in the `qs` parser that Stripe's own examples are written for. */
const MAX_DEPTH = 5;
const MAX_PARAMETERS = 1000;

/**
 * Decodes form-encoded text into nested maps.
 *
 * An empty bracket pair appends to a list, so `expand[]=a&expand[]=b` gives
 * `{ expand: { '0': 'a', '1': 'b' } }`. Use `listItems` to read such a map as a list.
 * Throws FormParamsError when a name is sent twice, or as both a value and a map.
 */
export function parseFormParams(text: string): FormMap {
  const root: FormMap = {};
  const pairs = [...new URLSearchParams(text)];

  if (pairs.length > MAX_PARAMETERS) {
    throw new FormParamsError(`Too many parameters: at most ${MAX_PARAMETERS} are accepted.`, '');
  }

  for (const [name, value] of pairs) {
    assignParam(root, parseParamName(name), value, name);
  }
  return root;
}

/** Splits `a[b][]` into `['a', 'b', '']`. A name that is not in bracket notation stays whole. */
function parseParamName(name: string): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(name);
  if (match === null) {
    return [name];
  }

  const segments = [match[1]];
  for (const bracket of match[2].matchAll(/\[([^[\]]*)\]/g)) {
    segments.push(bracket[1]);
  }

  if (segments.length - 1 > MAX_DEPTH) {
    throw new FormParamsError(`Invalid parameter ${name}: parameters nest at most ${MAX_DEPTH} levels deep.`, name);
  }
  return segments;
}

function assignParam(root: FormMap, segments: string[], value: string, fullName: string): void {
  let container = root;
  let path = '';

  for (let i = 0; i < segments.length; i += 1) {
    const key = segments[i] === '' ? String(Object.keys(container).length) : segments[i];
    const isLast = i === segments.length - 1;
    const existing = Object.hasOwn(container, key) ? container[key] : undefined;
    path = paramPath(path, key);

    const isValueAndObject = isLast ? typeof existing === 'object' : typeof existing === 'string';
    if (isValueAndObject) {
      throw new FormParamsError(`Invalid parameters: ${path} was sent both as a value and as an object.`, path);
    }

    if (isLast) {
      if (existing !== undefined) {
        throw new FormParamsError(`Invalid parameters: ${fullName} was sent more than once.`, path);
      }
      defineEntry(container, key, value);
      return;
    }

    if (existing === undefined) {
      const child: FormMap = {};
      defineEntry(container, key, child);
      container = child;
    } else {
      container = existing as FormMap;
    }
  }
}

/**
 * Adds an own property even for names like `__proto__`, so a parameter name can never reach
 * Object.prototype.
 */
function defineEntry(container: FormMap, key: string, value: FormValue): void {
  Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Returns the items of a list parameter in index order, or null when the value is not a list:
 * a plain string, or a map with a key that is not an index.
 */
export function listItems(value: FormValue): FormValue[] | null {
  if (typeof value === 'string') {
    return null;
  }

  const keys = Object.keys(value);
  if (!keys.every((key) => /^\d+$/.test(key))) {
    return null;
  }
  return keys.sort((a, b) => Number(a) - Number(b)).map((key) => value[key]);
}

/** Formats a nested parameter path the way Stripe names it in errors: `options[document][x]`. */
export function paramPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}[${key}]`;
}
