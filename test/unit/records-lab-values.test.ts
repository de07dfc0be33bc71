import { expect } from 'chai';

import { createRecordFormatters } from '../../plugin/records/formatters.js';
import { readResultValue } from '../../plugin/records/lab-values.js';
import { formatBounds, haveSameUnit, readQuantity } from '../../plugin/records/quantities.js';
import { concept, interpretation, UCUM } from './records-resources.js';

const formatters = createRecordFormatters('en-GB');

function mmol(value: number, comparator?: string): Record<string, unknown> {
  return { value, comparator, unit: 'mmol/L', system: UCUM, code: 'mmol/L' };
}

const potassiumRange = [{ low: mmol(3.5), high: mmol(5.3) }];

describe('readQuantity', () => {
  it('keeps the comparator and unit', () => {
    const quantity = readQuantity(mmol(5, '<'), formatters);
    expect(quantity?.formatted).to.equal('< 5 mmol/L');
    expect(quantity?.comparator).to.equal('<');
    expect(quantity?.unit).to.equal('mmol/L');
  });

  it('keeps every digit of the value', () => {
    expect(readQuantity({ value: 0.123456, unit: 'g/L' }, formatters)?.formatted).to.equal('0.123456 g/L');
  });

  it('writes numbers in the locale', () => {
    expect(readQuantity({ value: 4.2, unit: 'mmol/L' }, createRecordFormatters('de-DE'))?.formatted).to.equal('4,2 mmol/L');
  });

  it('falls back to the coded unit', () => {
    expect(readQuantity({ value: 7, system: UCUM, code: 'mg/dL' }, formatters)?.unit).to.equal('mg/dL');
  });

  it('drops an unknown comparator', () => {
    expect(readQuantity({ value: 7, comparator: '~' }, formatters)?.comparator).to.equal(null);
  });

  it('returns null without a numeric value', () => {
    expect(readQuantity({ unit: 'mmol/L' }, formatters)).to.equal(null);
    expect(readQuantity({ value: '5', unit: 'mmol/L' }, formatters)).to.equal(null);
  });
});

describe('formatBounds', () => {
  it('writes a shared unit once', () => {
    expect(formatBounds(readQuantity(mmol(3.5), formatters), readQuantity(mmol(5.3), formatters))).to.equal('3.5–5.3 mmol/L');
  });

  it('writes each unit when they differ', () => {
    const low = readQuantity({ value: 1, unit: 'mg' }, formatters);
    const high = readQuantity({ value: 2, unit: 'g' }, formatters);
    expect(formatBounds(low, high)).to.equal('1 mg – 2 g');
  });

  it('writes a single bound as inclusive', () => {
    expect(formatBounds(readQuantity(mmol(3.5), formatters), null)).to.equal('≥ 3.5 mmol/L');
    expect(formatBounds(null, readQuantity(mmol(5.3), formatters))).to.equal('≤ 5.3 mmol/L');
  });

  it('returns null without bounds', () => {
    expect(formatBounds(null, null)).to.equal(null);
  });
});

describe('haveSameUnit', () => {
  it('compares coded units by system and code', () => {
    expect(haveSameUnit(mmol(1), mmol(2))).to.equal(true);
    expect(haveSameUnit(mmol(1), { value: 2, unit: 'mg/dL', system: UCUM, code: 'mg/dL' })).to.equal(false);
  });

  it('compares text units', () => {
    expect(haveSameUnit({ unit: 'mmol/L' }, { unit: 'mmol/L' })).to.equal(true);
    expect(haveSameUnit({ unit: 'mmol/L' }, { unit: 'mg/dL' })).to.equal(false);
  });

  it('accepts a bound without a unit', () => {
    expect(haveSameUnit(mmol(1), { value: 2 })).to.equal(true);
  });

  it('rejects a code against a text unit', () => {
    expect(haveSameUnit({ system: UCUM, code: 'mmol/L' }, { unit: 'mmol/L' })).to.equal(false);
  });
});

describe('readResultValue', () => {
  it('keeps a comparator in the value', () => {
    const result = readResultValue({ valueQuantity: mmol(5, '<') }, formatters);
    expect(result.value.kind).to.equal('quantity');
    expect(result.value.formatted).to.equal('< 5 mmol/L');
    expect(result.unit).to.equal('mmol/L');
  });

  it('reads a coded value', () => {
    const result = readResultValue({ valueCodeableConcept: concept('Not detected', '260415000') }, formatters);
    expect(result.value.kind).to.equal('codeableConcept');
    expect(result.value.formatted).to.equal('Not detected');
    expect(result.unit).to.equal(null);
  });

  it('reads a string value raw', () => {
    expect(readResultValue({ valueString: 'Trace <1+>' }, formatters).value.formatted).to.equal('Trace <1+>');
  });

  it('reads a boolean value for the template', () => {
    const value = readResultValue({ valueBoolean: false }, formatters).value;
    expect(value.kind).to.equal('boolean');
    expect(value.boolean).to.equal(false);
    expect(value.formatted).to.equal(null);
  });

  it('reads the other value types', () => {
    expect(readResultValue({ valueInteger: 12000 }, formatters).value.formatted).to.equal('12,000');
    expect(readResultValue({ valueRange: { low: mmol(1), high: mmol(2) } }, formatters).value.formatted).to.equal('1–2 mmol/L');
    expect(readResultValue({ valueRatio: { numerator: { value: 1 }, denominator: { value: 128 } } }, formatters).value.formatted)
      .to.equal('1:128');
    expect(readResultValue({ valueTime: '08:30:00' }, formatters).value.formatted).to.equal('08:30:00');
    expect(readResultValue({ valueDateTime: '2021-05' }, formatters).value.formatted).to.equal('May 2021');
    expect(readResultValue({ valuePeriod: { start: '2021-05-01', end: '2021-05-03' } }, formatters).value.formatted)
      .to.equal('1 May 2021 – 3 May 2021');
  });

  it('reports why a value is absent', () => {
    const value = readResultValue({ dataAbsentReason: concept('Specimen unsatisfactory', 'error') }, formatters).value;
    expect(value.kind).to.equal('absent');
    expect(value.absentReason).to.equal('Specimen unsatisfactory');
  });

  it('reports no value for a panel head', () => {
    expect(readResultValue({}, formatters).value.kind).to.equal('none');
  });

  it('formats reference ranges', () => {
    const ranges = readResultValue(
      {
        valueQuantity: mmol(4),
        referenceRange: [
          ...potassiumRange,
          { text: 'Negative', appliesTo: [concept('Female', '248152002')], age: { low: { value: 18, unit: 'a' }, high: { value: 65, unit: 'a' } } },
        ],
      },
      formatters,
    ).referenceRanges;
    expect(ranges[0].formatted).to.equal('3.5–5.3 mmol/L');
    expect(ranges[1].formatted).to.equal('Negative');
    expect(ranges[1].appliesTo).to.deep.equal(['Female']);
    expect(ranges[1].age).to.equal('18–65 a');
  });

  it('maps interpretation codes to flags', () => {
    const cases: Array<[string, string | null, boolean]> = [
      ['H', 'high', false],
      ['HH', 'high', true],
      ['HU', 'high', false],
      ['L', 'low', false],
      ['LL', 'low', true],
      ['LU', 'low', false],
      ['A', 'abnormal', false],
      ['AA', 'abnormal', true],
      ['N', null, false],
    ];
    for (const [code, flag, critical] of cases) {
      const result = readResultValue({ valueQuantity: mmol(4), interpretation: interpretation(code) }, formatters);
      expect(result.flag, code).to.equal(flag);
      expect(result.critical, code).to.equal(critical);
      expect(result.flagSource, code).to.equal('interpretation');
    }
  });

  it('trusts the interpretation over the range', () => {
    // 9 is above the range, but the lab's own N wins.
    const result = readResultValue({ valueQuantity: mmol(9), referenceRange: potassiumRange, interpretation: interpretation('N') }, formatters);
    expect(result.flag).to.equal(null);
    expect(result.flagSource).to.equal('interpretation');
  });

  it('reads HL7 v2 interpretation codes', () => {
    const v2 = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0078', code: 'L' }] }];
    expect(readResultValue({ valueQuantity: mmol(4), interpretation: v2 }, formatters).flag).to.equal('low');
  });

  it('compares with the range without interpretation', () => {
    const cases: Array<[number, string | undefined, string | null]> = [
      [3.4, undefined, 'low'],
      [3.5, undefined, null],
      [5.3, undefined, null],
      [5.4, undefined, 'high'],
      [3.5, '<', 'low'],
      [5, '<', null],
      [3.5, '<=', null],
      [3.4, '<=', 'low'],
      [5.3, '>', 'high'],
      [5.3, '>=', null],
      [5.4, '>=', 'high'],
      [4, '>', null],
    ];
    for (const [value, comparator, flag] of cases) {
      const result = readResultValue({ valueQuantity: mmol(value, comparator), referenceRange: potassiumRange }, formatters);
      const label = `${comparator ?? ''}${value}`;
      expect(result.flag, label).to.equal(flag);
      expect(result.flagSource, label).to.equal(flag === null ? null : 'referenceRange');
    }
  });

  it('does not compare across units', () => {
    const range = [{ low: { value: 3.5, unit: 'mg/dL', system: UCUM, code: 'mg/dL' } }];
    expect(readResultValue({ valueQuantity: mmol(1), referenceRange: range }, formatters).flag).to.equal(null);
  });

  it('skips ranges for a population', () => {
    const ranges = [{ ...potassiumRange[0], appliesTo: [concept('Male', '248153007')] }];
    expect(readResultValue({ valueQuantity: mmol(9), referenceRange: ranges }, formatters).flag).to.equal(null);
  });

  it('skips a therapeutic range', () => {
    const therapeutic = {
      ...potassiumRange[0],
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/referencerange-meaning', code: 'therapeutic' }] },
    };
    expect(readResultValue({ valueQuantity: mmol(9), referenceRange: [therapeutic] }, formatters).flag).to.equal(null);
  });

  it('compares an integer value', () => {
    const range = [{ low: { value: 10 }, high: { value: 20 } }];
    expect(readResultValue({ valueInteger: 25, referenceRange: range }, formatters).flag).to.equal('high');
  });
});
