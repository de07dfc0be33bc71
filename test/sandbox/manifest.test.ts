import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { ManifestError, validateManifest } from '../../sandbox/manifest.js';
import { HOST_API_VERSION } from '../../plugin/host/contract.js';

const manifestUrl = new URL('../../plugin.manifest.json', import.meta.url);

describe('plugin manifest', function () {
  let manifest: Record<string, unknown>;

  before(async function () {
    manifest = JSON.parse(await readFile(manifestUrl, 'utf8')) as Record<string, unknown>;
  });

  it('validates against the marketplace schema', function () {
    const validated = validateManifest(manifest, HOST_API_VERSION);

    expect(validated.id).to.equal('clinical-record-access');
    expect(validated.permissions.map((permission) => permission.name)).to.include.members([
      'clinicalAccess.viewList',
      'clinicalAccess.decide',
      'clinicalAccess.changeSettings',
      'clinicalAccess.resetMfa',
    ]);
  });

  it('matches the version in package.json', async function () {
    const packageJson = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

    expect(manifest.version).to.equal(packageJson.version);
  });

  it('rejects a host API it does not support', function () {
    expect(() => validateManifest(manifest, '2.0.0')).to.throw(ManifestError, /needs host API \^1\.0\.0, but this host offers 2\.0\.0/);
  });

  const invalidCases: Array<[string, (copy: Record<string, unknown>) => void, RegExp]> = [
    ['a missing id', (copy) => delete copy.id, /id: "id" is required/],
    ['an invalid version', (copy) => (copy.version = 'one'), /version/],
    ['an invalid host API range', (copy) => (copy.hostApi = 'latest please'), /hostApi/],
    ['a migrations folder outside the plugin', (copy) => (copy.migrations = '../elsewhere'), /migrations/],
    ['a staff route outside the admin UI', (copy) => (copy.routes = { staff: '/api/x', portal: '/portal/x' }), /routes\.staff/],
    ['a duplicate permission', (copy) => (copy.permissions = [{ name: 'a.b', description: 'x' }, { name: 'a.b', description: 'y' }]), /permissions/],
    ['an undeclared settings permission', (copy) => ((copy.settings as { section: { permission: string } }).section.permission = 'other.permission'), /not among the declared permissions/],
    ['an unknown field', (copy) => (copy.surprise = true), /surprise/],
  ];
  for (const [name, mutate, message] of invalidCases) {
    it(`rejects ${name}`, function () {
      const copy = structuredClone(manifest);
      mutate(copy);

      expect(() => validateManifest(copy, HOST_API_VERSION)).to.throw(ManifestError, message);
    });
  }
});
