import { expect } from 'chai';
import { nameTokensOf, SEARCH_PREFIX_LENGTH, searchNameOf, searchPrefixesOf, searchPrefixOf, searchTokensOf } from '../../plugin/access/search-index.js';

describe('search index: name prefixes', function () {
  it('lists every start of a word', function () {
    expect(searchPrefixesOf(['ada'])).to.deep.equal(['a', 'ad', 'ada']);
  });

  it('lists a start shared by two words once', function () {
    expect(searchPrefixesOf(['mary', 'marsh'])).to.deep.equal(['m', 'ma', 'mar', 'mary', 'mars', 'marsh']);
  });

  it(`stops at ${SEARCH_PREFIX_LENGTH} characters`, function () {
    const word = 'wolfeschlegelsteinhausenbergerdorff';

    const prefixes = searchPrefixesOf([word]);

    expect(prefixes).to.have.length(SEARCH_PREFIX_LENGTH);
    expect(prefixes.at(-1)).to.equal(word.slice(0, SEARCH_PREFIX_LENGTH));
    expect(searchPrefixOf(word)).to.equal(word.slice(0, SEARCH_PREFIX_LENGTH));
  });

  it('counts a character outside the Basic Multilingual Plane as one', function () {
    // U+20BB7 is one character written as two UTF-16 code units.
    const word = `${'a'.repeat(SEARCH_PREFIX_LENGTH - 1)}\u{20BB7}b`;

    const prefixes = searchPrefixesOf(['\u{20BB7}x', word]);

    expect(prefixes).to.include.members(['\u{20BB7}', '\u{20BB7}x', `${'a'.repeat(SEARCH_PREFIX_LENGTH - 1)}\u{20BB7}`]);
    // A lone surrogate would not survive the trip through UTF-8 to the database.
    expect(prefixes.every((prefix) => Buffer.from(prefix, 'utf8').toString('utf8') === prefix)).to.equal(true);
    expect(searchPrefixOf(word)).to.equal(`${'a'.repeat(SEARCH_PREFIX_LENGTH - 1)}\u{20BB7}`);
  });

  it('starts from the folded words, with and without apostrophes', function () {
    const prefixes = searchPrefixesOf(searchTokensOf({ givenNames: ['Zoë'], familyName: "O'Brien" }));

    expect(prefixes).to.include.members(['z', 'zo', 'zoe', 'o', 'ob', 'obrien', 'b', 'brien']);
    expect(prefixes).to.not.include('zoë');
  });

  const folded = (familyName: string) => searchNameOf({ givenNames: [], familyName });

  it('folds letters that have no separate accent', function () {
    expect(folded('Łucja Søren Straße Æsa Đorđe Işık')).to.equal('lucja soren strasse aesa dorde isik');
  });

  it('folds full-width letters', function () {
    expect(folded('Ｓｍｉｔｈ')).to.equal('smith');
  });

  it('reads punctuation as spaces', function () {
    expect(folded('Smith, Mary (Pri) Jr.')).to.equal('smith mary pri jr');
    expect(folded('Ashworth-Clarke')).to.equal('ashworth clarke');
  });

  it('cuts a long word without splitting a character', function () {
    const word = `${'a'.repeat(99)}\u{1F600}b`;

    const [token] = nameTokensOf(word);

    expect(token).to.equal(`${'a'.repeat(99)}\u{1F600}`);
  });
});
