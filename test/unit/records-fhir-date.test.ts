import { expect } from 'chai';

import { compareNewestFirst, createFhirDateFormatter, formatFhirDate, parseFhirDate } from '../../plugin/records/fhir-date.js';

describe('parseFhirDate', () => {
  it('keeps year precision', () => {
    expect(parseFhirDate('2021')).to.deep.equal({ precision: 'year', year: 2021, sortKey: '2021' });
  });

  it('keeps month precision', () => {
    expect(parseFhirDate('2021-05')).to.deep.equal({ precision: 'month', year: 2021, month: 5, sortKey: '2021-05' });
  });

  it('keeps day precision', () => {
    expect(parseFhirDate('2021-05-14')).to.deep.equal({
      precision: 'day',
      year: 2021,
      month: 5,
      day: 14,
      sortKey: '2021-05-14',
    });
  });

  it('reads the calendar date a dateTime wrote', () => {
    const date = parseFhirDate('2021-05-14T10:00:00+01:00');
    expect(date?.precision).to.equal('day');
    expect(date?.day).to.equal(14);
    expect(date?.sortKey).to.equal('2021-05-14T10:00:00');
  });

  it('keeps +13:00 date after midnight', () => {
    // In UTC this instant is 13 May 11:30, which a Date-based reader would show.
    const date = parseFhirDate('2021-05-14T00:30:00+13:00');
    expect(date?.day).to.equal(14);
    expect(date?.month).to.equal(5);
  });

  it('keeps -11:00 date before midnight', () => {
    // In UTC this instant is already 15 May.
    expect(parseFhirDate('2021-05-14T23:30:00-11:00')?.day).to.equal(14);
  });

  it('reads an instant with a fraction', () => {
    const date = parseFhirDate('2010-01-05T11:44:52.558-05:00');
    expect(date?.day).to.equal(5);
    expect(date?.sortKey).to.equal('2010-01-05T11:44:52.558');
  });

  it('accepts a dateTime without a zone', () => {
    expect(parseFhirDate('2021-05-14T10:00:00')?.day).to.equal(14);
  });

  it('accepts 29 February in a leap year', () => {
    expect(parseFhirDate('2024-02-29')?.day).to.equal(29);
    expect(parseFhirDate('2000-02-29')?.day).to.equal(29);
  });

  it('rejects invalid values', () => {
    const invalid = [
      '',
      '21',
      '2021-5',
      '2021-05-1',
      '2021-13',
      '2021-00',
      '2021-02-30',
      '2023-02-29',
      '1900-02-29',
      '0000',
      '2021-05-14T25:00:00Z',
      '2021-05-14T10:60:00Z',
      '2021-05-14T10:00Z',
      '2021-05-14T10:00:00+15:00',
      '2021-05-14 10:00:00',
      ' 2021-05-14',
      '14/05/2021',
      'May 2021',
    ];
    for (const value of invalid) {
      expect(parseFhirDate(value), value).to.equal(null);
    }
  });

  it('rejects values that are not strings', () => {
    for (const value of [undefined, null, 2021, new Date(), {}]) {
      expect(parseFhirDate(value)).to.equal(null);
    }
  });
});

describe('formatFhirDate', () => {
  const format = (value: string, locale = 'en-GB'): string => {
    const date = parseFhirDate(value);
    if (date === null) {
      throw new Error(`test date ${value} did not parse`);
    }
    return formatFhirDate(date, locale);
  };

  it('formats each precision in en-GB', () => {
    expect(format('2021')).to.equal('2021');
    expect(format('2021-05')).to.equal('May 2021');
    expect(format('2021-05-14')).to.equal('14 May 2021');
  });

  it('follows the locale', () => {
    expect(format('2021-05-14', 'en-US')).to.equal('May 14, 2021');
    expect(format('2021-05', 'de-DE')).to.equal('Mai 2021');
  });

  it('keeps a year below 100 as written', () => {
    expect(format('0050')).to.equal('50');
  });

  it('shows offset times on written day', () => {
    expect(format('2021-05-14T00:30:00+13:00')).to.equal('14 May 2021');
    expect(format('2021-05-14T23:30:00-11:00')).to.equal('14 May 2021');
  });

  it('ignores the server time zone', () => {
    const originalZone = process.env.TZ;
    try {
      process.env.TZ = 'America/Los_Angeles';
      // Proves the zone switch works: a Date-based reader would show 13 May here.
      expect(new Date('2021-05-14T00:30:00+13:00').getDate()).to.equal(13);

      for (const zone of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'America/Los_Angeles', 'UTC']) {
        process.env.TZ = zone;
        expect(format('2021-05-14T00:30:00+13:00'), zone).to.equal('14 May 2021');
        expect(format('2021-05-01'), zone).to.equal('1 May 2021');
        expect(format('2021-05'), zone).to.equal('May 2021');
      }
    } finally {
      if (originalZone === undefined) {
        delete process.env.TZ;
      } else {
        process.env.TZ = originalZone;
      }
    }
  });

  it('rejects a malformed locale', () => {
    expect(() => createFhirDateFormatter('en_GB!')).to.throw(RangeError);
  });
});

describe('compareNewestFirst', () => {
  it('sorts newest first, missing last', () => {
    const keys = ['2019', null, '2021-05-14T10:00:00', '2021-05', '2021-05-14'];
    expect([...keys].sort(compareNewestFirst)).to.deep.equal(['2021-05-14T10:00:00', '2021-05-14', '2021-05', '2019', null]);
  });
});
