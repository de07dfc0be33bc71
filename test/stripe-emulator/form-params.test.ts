import { expect } from 'chai';

import { maskApiKey } from '../../sandbox/stripe-emulator/errors.js';
import { FormParamsError, listItems, parseFormParams } from '../../sandbox/stripe-emulator/form-params.js';

describe('parseFormParams', () => {
  it('nests bracket names', () => {
    const params = parseFormParams('options[document][require_matching_selfie]=true&metadata[patient_id]=12');

    expect(params).to.deep.equal({
      options: { document: { require_matching_selfie: 'true' } },
      metadata: { patient_id: '12' },
    });
  });

  it('builds lists from empty brackets', () => {
    const params = parseFormParams('expand[]=verified_outputs&expand[]=last_verification_report');

    expect(listItems(params.expand)).to.deep.equal(['verified_outputs', 'last_verification_report']);
  });

  it('orders indexed list items', () => {
    const params = parseFormParams('expand[1]=last_verification_report&expand[0]=verified_outputs');

    expect(listItems(params.expand)).to.deep.equal(['verified_outputs', 'last_verification_report']);
  });

  it('decodes percent-encoded brackets and values', () => {
    const params = parseFormParams('metadata%5Bnote%5D=a%20b%2Bc&return_url=http%3A%2F%2F127.0.0.1%2Fback');

    expect(params).to.deep.equal({ metadata: { note: 'a b+c' }, return_url: 'http://127.0.0.1/back' });
  });

  it('rejects a name sent twice', () => {
    expect(() => parseFormParams('type=document&type=id_number')).to.throw(FormParamsError, 'more than once');
  });

  it('rejects a value followed by an object', () => {
    expect(() => parseFormParams('metadata=x&metadata[a]=b')).to.throw(FormParamsError, 'both as a value and as an object');
  });

  it('rejects an object followed by a value', () => {
    expect(() => parseFormParams('metadata[a]=b&metadata=x')).to.throw(FormParamsError, 'both as a value and as an object');
  });

  it('rejects nesting deeper than five levels', () => {
    expect(() => parseFormParams('a[b][c][d][e][f][g]=1')).to.throw(FormParamsError, 'at most 5 levels');
  });

  it('keeps __proto__ as an ordinary key', () => {
    const params = parseFormParams('metadata[__proto__][polluted]=yes');

    expect(Object.keys(params.metadata)).to.deep.equal(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('keeps a name without brackets whole', () => {
    expect(parseFormParams('a]b=1')).to.deep.equal({ 'a]b': '1' });
  });
});

describe('listItems', () => {
  it('returns null for named keys', () => {
    expect(listItems({ patient_id: '12' })).to.equal(null);
  });

  it('returns null for a plain string', () => {
    expect(listItems('verified_outputs')).to.equal(null);
  });
});

describe('maskApiKey', () => {
  it('keeps prefix and last four', () => {
    expect(maskApiKey('sk_test_abcdefgh1234')).to.equal('sk_test_********1234');
  });

  it('masks a live restricted key', () => {
    expect(maskApiKey('rk_live_abcdefgh5678')).to.equal('rk_live_********5678');
  });

  it('masks a short key completely', () => {
    expect(maskApiKey('sk_test_abcd')).to.equal('sk_test_****');
  });

  it('masks a key without a known prefix', () => {
    expect(maskApiKey('not-a-stripe-key')).to.equal('************-key');
  });
});
