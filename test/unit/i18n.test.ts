import { expect } from 'chai';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createTranslator, type Translator } from '../../plugin/i18n.js';

describe('translator', function () {
  let folder: string;
  let translator: Translator;

  before(async function () {
    folder = await mkdtemp(join(tmpdir(), 'cra-locales-'));
    await mkdir(join(folder, 'en'));
    await mkdir(join(folder, 'fr'));
    await writeFile(
      join(folder, 'en', 'texts.json'),
      JSON.stringify({ greeting: 'Hello', named: 'Hello, {{name}}', codesLeft_one: '{{count}} code left', codesLeft_other: '{{count}} codes left' }),
    );
    await writeFile(join(folder, 'fr', 'texts.json'), JSON.stringify({ greeting: 'Bonjour' }));
    translator = await createTranslator(folder, 'en-GB');
  });

  after(async function () {
    await rm(folder, { recursive: true, force: true });
  });

  it('returns a text the same twice', function () {
    const t = translator.forLocale('en-GB');

    expect([t('greeting'), t('greeting'), t('greeting', {})]).to.deep.equal(['Hello', 'Hello', 'Hello']);
  });

  it('keeps each locale apart', function () {
    const english = translator.forLocale('en-GB');
    const french = translator.forLocale('fr');

    expect([english('greeting'), french('greeting'), english('greeting'), french('greeting')]).to.deep.equal(['Hello', 'Bonjour', 'Hello', 'Bonjour']);
  });

  it('fills values and plurals each time', function () {
    const t = translator.forLocale('en-GB');

    expect([t('named', { name: 'Ada' }), t('named', { name: 'Grace' })]).to.deep.equal(['Hello, Ada', 'Hello, Grace']);
    expect([t('codesLeft', { count: 1 }), t('codesLeft', { count: 7 })]).to.deep.equal(['1 code left', '7 codes left']);
  });

  it('falls back to English and defaults', function () {
    const french = translator.forLocale('fr');

    expect(french('named', { name: 'Ada' })).to.equal('Hello, Ada');
    expect([french('unknown.key', { defaultValue: 'first' }), french('unknown.key', { defaultValue: 'second' })]).to.deep.equal(['first', 'second']);
  });

  it('answers past its cache bounds', function () {
    for (let index = 0; index < 60; index += 1) {
      expect(translator.forLocale(`en-x-${index}`)('greeting')).to.equal('Hello');
    }
    const t = translator.forLocale('en-GB');
    for (let index = 0; index < 5100; index += 1) {
      t(`missing.${index}`);
    }

    expect(t('greeting')).to.equal('Hello');
    expect(t('missing.5099')).to.equal('missing.5099');
  });
});
