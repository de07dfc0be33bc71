import Joi from 'joi';
import semver from 'semver';
import { readFile } from 'node:fs/promises';

/** A plugin manifest as the sandbox's marketplace accepts it. */
export interface PluginManifest {
  manifestVersion: 1;
  id: string;
  name: string;
  version: string;
  description: string;
  entry: string;
  hostApi: string;
  tablePrefix: string;
  permissions: Array<{ name: string; description: string }>;
  settings: { section: { parent: 'patient-portal'; titleKey: string; path: string; permission: string } };
  routes: { staff: string; portal: string };
  webhooks: { stripe: string[] };
  migrations: string;
  locales: string;
  views: string;
  defaultLocale: string;
}

const relativeFolder = Joi.string().pattern(/^(?!\/)(?!.*\.\.)[A-Za-z0-9_./-]+$/).max(200);
const mountPath = Joi.string().pattern(/^\/[a-z0-9/-]+$/).max(200);
const permissionName = Joi.string().pattern(/^[a-z][A-Za-z]*\.[a-z][A-Za-z]*$/);

export const manifestSchema = Joi.object<PluginManifest>({
  manifestVersion: Joi.number().valid(1).required(),
  id: Joi.string().pattern(/^[a-z][a-z0-9-]{2,63}$/).required(),
  name: Joi.string().min(1).max(100).required(),
  version: Joi.string().custom((value: string, helpers) => (semver.valid(value) ? value : helpers.error('any.invalid'))).required(),
  description: Joi.string().min(1).max(500).required(),
  entry: relativeFolder.pattern(/\.(ts|js)$/).required(),
  hostApi: Joi.string().custom((value: string, helpers) => (semver.validRange(value) ? value : helpers.error('any.invalid'))).required(),
  tablePrefix: Joi.string().pattern(/^[a-z][a-z0-9]{1,9}_$/).required(),
  permissions: Joi.array()
    .items(Joi.object({ name: permissionName.required(), description: Joi.string().min(1).max(300).required() }))
    .min(1)
    .unique('name')
    .required(),
  settings: Joi.object({
    section: Joi.object({
      parent: Joi.string().valid('patient-portal').required(),
      titleKey: Joi.string().required(),
      path: Joi.string().pattern(/^\//).required(),
      permission: permissionName.required(),
    }).required(),
  }).required(),
  routes: Joi.object({ staff: mountPath.pattern(/^\/admin\//).required(), portal: mountPath.pattern(/^\/portal\//).required() }).required(),
  webhooks: Joi.object({ stripe: Joi.array().items(Joi.string().pattern(/^[a-z_.]+$/)).unique().required() }).required(),
  migrations: relativeFolder.required(),
  locales: relativeFolder.required(),
  views: relativeFolder.required(),
  defaultLocale: Joi.string().pattern(/^[a-z]{2,3}(-[A-Z]{2})?$/).required(),
});

export class ManifestError extends Error {
  override name = 'ManifestError';
}

/**
 * Validates a manifest and checks that this host offers an API version the plugin accepts.
 * Throws a ManifestError whose message names what is wrong and what to change.
 */
export function validateManifest(input: unknown, hostApiVersion: string): PluginManifest {
  const { value, error } = manifestSchema.validate(input, { abortEarly: false, convert: false });
  if (error) {
    const details = error.details.map((detail) => `${detail.path.join('.') || '(root)'}: ${detail.message}`).join('; ');
    throw new ManifestError(`The plugin manifest is invalid: ${details}.`);
  }

  const declaredPermissions = new Set(value.permissions.map((permission) => permission.name));
  if (!declaredPermissions.has(value.settings.section.permission)) {
    throw new ManifestError(`The plugin manifest is invalid: settings.section.permission "${value.settings.section.permission}" is not among the declared permissions.`);
  }

  if (!semver.satisfies(hostApiVersion, value.hostApi)) {
    throw new ManifestError(`Plugin ${value.id} ${value.version} needs host API ${value.hostApi}, but this host offers ${hostApiVersion}. Install a version of the plugin built for host API ${hostApiVersion}.`);
  }
  return value;
}

export async function readManifest(path: string, hostApiVersion: string): Promise<PluginManifest> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ManifestError(`Cannot read the plugin manifest ${path}: ${(error as Error).message}.`);
  }
  return validateManifest(parsed, hostApiVersion);
}
