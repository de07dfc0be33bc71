import { expect } from 'chai';

import { codeFrom, displayText } from '../../plugin/records/fhir.js';

describe('displayText', () => {
  it('prefers the concept text', () => {
    const concept = { text: 'High blood pressure', coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertension' }] };
    expect(displayText(concept)).to.equal('High blood pressure');
  });

  it('falls back to the first coding display', () => {
    const concept = {
      coding: [
        { system: 'urn:example', code: 'X1' },
        { system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertension' },
      ],
    };
    expect(displayText(concept)).to.equal('Hypertension');
  });

  it('names a known code system', () => {
    expect(displayText({ coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] })).to.equal('SNOMED CT 38341003');
  });

  it('shows an unknown system in brackets', () => {
    expect(displayText({ coding: [{ system: 'urn:example:codes', code: 'X1' }] })).to.equal('X1 (urn:example:codes)');
  });

  it('shows a code without a system alone', () => {
    expect(displayText({ coding: [{ code: 'X1' }] })).to.equal('X1');
  });

  it('skips blank text and displays', () => {
    expect(displayText({ text: '   ', coding: [{ display: '', code: 'X1' }] })).to.equal('X1');
  });

  it('returns null for malformed input', () => {
    for (const input of [undefined, null, 'Hypertension', 42, [], {}, { coding: 'not an array' }, { coding: [null, 7] }]) {
      expect(displayText(input), JSON.stringify(input)).to.equal(null);
    }
  });

  it('keeps markup raw', () => {
    expect(displayText({ text: '<b>Asthma</b> & wheeze' })).to.equal('<b>Asthma</b> & wheeze');
  });
});

describe('codeFrom', () => {
  const system = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';

  it('reads the code of the named system', () => {
    const concept = { coding: [{ system: 'urn:other', code: 'x' }, { system, code: 'refuted' }] };
    expect(codeFrom(concept, system)).to.equal('refuted');
  });

  it('accepts a coding without a system', () => {
    expect(codeFrom({ coding: [{ code: 'refuted' }] }, system)).to.equal('refuted');
  });

  it('ignores codes of other systems', () => {
    expect(codeFrom({ coding: [{ system: 'urn:other', code: 'refuted' }] }, system)).to.equal(null);
  });
});
