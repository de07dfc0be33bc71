import { expect } from 'chai';

import {
  formatCalendarDate,
  matchVerifiedIdentity,
  type GivenNameMatchMethod,
  type IdentityMatchNote,
  type IdentityMismatchReason,
  type PracticePatientIdentity,
  type StripeVerifiedOutputs,
} from '../../plugin/identity/match.js';

const maryAnneSmith: PracticePatientIdentity = {
  givenNames: ['Mary', 'Anne'],
  familyName: 'Smith',
  birthDate: '1980-03-07',
};

const dob1980March7 = { day: 7, month: 3, year: 1980 };

function patient(overrides: Partial<PracticePatientIdentity>): PracticePatientIdentity {
  return { ...maryAnneSmith, ...overrides };
}

function outputs(overrides: Partial<StripeVerifiedOutputs>): StripeVerifiedOutputs {
  return { first_name: 'Mary', last_name: 'Smith', dob: dob1980March7, ...overrides };
}

interface AcceptedCase {
  name: string;
  outputs: StripeVerifiedOutputs;
  patient: PracticePatientIdentity;
  method: GivenNameMatchMethod;
  notes: IdentityMatchNote[];
}

interface RejectedCase {
  name: string;
  outputs: StripeVerifiedOutputs;
  patient: PracticePatientIdentity;
  reasons: IdentityMismatchReason[];
}

const acceptedCases: AcceptedCase[] = [
  {
    name: 'identical given names, family name and date',
    outputs: outputs({ first_name: 'Mary Anne' }),
    patient: maryAnneSmith,
    method: 'allGivenNames',
    notes: [],
  },
  {
    name: 'upper-case document names',
    outputs: outputs({ first_name: 'MARY ANNE', last_name: 'SMITH' }),
    patient: maryAnneSmith,
    method: 'allGivenNames',
    notes: [],
  },
  {
    name: 'document with the first given name only',
    outputs: outputs({ first_name: 'Mary' }),
    patient: maryAnneSmith,
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'document with a middle name the practice lacks',
    outputs: outputs({ first_name: 'Mary Anne' }),
    patient: patient({ givenNames: ['Mary'] }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'document with the first two of three given names',
    outputs: outputs({ first_name: 'Mary Anne' }),
    patient: patient({ givenNames: ['Mary', 'Anne', 'Louise'] }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'given names run together on the document',
    outputs: outputs({ first_name: 'Maryanne' }),
    patient: maryAnneSmith,
    method: 'allGivenNames',
    notes: [],
  },
  {
    name: 'hyphenated given names on the document',
    outputs: outputs({ first_name: 'Mary-Anne' }),
    patient: maryAnneSmith,
    method: 'allGivenNames',
    notes: [],
  },
  {
    name: 'two given names in one practice entry',
    outputs: outputs({ first_name: 'Mary' }),
    patient: patient({ givenNames: ['Mary Anne'] }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'family name with hyphen against space',
    outputs: outputs({ last_name: 'Smith-Jones' }),
    patient: patient({ familyName: 'Smith Jones' }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'family name with en dash against hyphen',
    outputs: outputs({ last_name: 'Smith\u2013Jones' }),
    patient: patient({ familyName: 'Smith-Jones' }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'family name with non-breaking hyphen against em dash',
    outputs: outputs({ last_name: 'Smith\u2011Jones' }),
    patient: patient({ familyName: 'Smith\u2014Jones' }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'family name run together against space',
    outputs: outputs({ last_name: 'SMITHJONES' }),
    patient: patient({ familyName: 'Smith Jones' }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'right single quotation mark against ASCII apostrophe',
    outputs: outputs({ last_name: 'O\u2019Brien' }),
    patient: patient({ familyName: "O'Brien" }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'left single quotation mark against modifier letter apostrophe',
    outputs: outputs({ last_name: 'O\u2018Brien' }),
    patient: patient({ familyName: 'O\u02BCBrien' }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'grave accent used as an apostrophe',
    outputs: outputs({ last_name: 'O`Brien' }),
    patient: patient({ familyName: "O'Brien" }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'acute accent used as an apostrophe',
    outputs: outputs({ last_name: 'O\u00B4Brien' }),
    patient: patient({ familyName: "O'Brien" }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'machine-readable zone without the apostrophe',
    outputs: outputs({ last_name: 'OBRIEN' }),
    patient: patient({ familyName: "O'Brien" }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'runs of whitespace and padding',
    outputs: outputs({ first_name: '  Mary \t  Anne ', last_name: ' Smith ' }),
    patient: maryAnneSmith,
    method: 'allGivenNames',
    notes: [],
  },
  {
    name: 'non-breaking space between given names',
    outputs: outputs({ first_name: 'Mary\u00A0Anne' }),
    patient: maryAnneSmith,
    method: 'allGivenNames',
    notes: [],
  },
  {
    name: 'full stop in a family name',
    outputs: outputs({ last_name: 'St. John' }),
    patient: patient({ familyName: 'St John' }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'accent dropped on the document',
    outputs: outputs({ first_name: 'JOSE' }),
    patient: patient({ givenNames: ['José'] }),
    method: 'allGivenNames',
    notes: ['diacriticsIgnored'],
  },
  {
    name: 'accent dropped in the practice record',
    outputs: outputs({ first_name: 'José' }),
    patient: patient({ givenNames: ['Jose'] }),
    method: 'allGivenNames',
    notes: ['diacriticsIgnored'],
  },
  {
    name: 'same accent in upper and lower case',
    outputs: outputs({ first_name: 'JOSÉ' }),
    patient: patient({ givenNames: ['José'] }),
    method: 'allGivenNames',
    notes: [],
  },
  {
    name: 'decomposed accent against precomposed accent',
    outputs: outputs({ first_name: 'Jose\u0301' }),
    patient: patient({ givenNames: ['Jos\u00E9'] }),
    method: 'allGivenNames',
    notes: [],
  },
  {
    name: 'umlaut written as two letters',
    outputs: outputs({ last_name: 'MUELLER' }),
    patient: patient({ familyName: 'Müller' }),
    method: 'leadingGivenNames',
    notes: ['diacriticsIgnored'],
  },
  {
    name: 'umlaut written without its dots',
    outputs: outputs({ last_name: 'MULLER' }),
    patient: patient({ familyName: 'Müller' }),
    method: 'leadingGivenNames',
    notes: ['diacriticsIgnored'],
  },
  {
    name: 'sharp s against double s',
    outputs: outputs({ last_name: 'STRASSER' }),
    patient: patient({ familyName: 'Straßer' }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'slashed o against plain o',
    outputs: outputs({ first_name: 'SOREN' }),
    patient: patient({ givenNames: ['Søren'] }),
    method: 'allGivenNames',
    notes: ['diacriticsIgnored'],
  },
  {
    name: 'Polish l with stroke against plain l',
    outputs: outputs({ first_name: 'LUKASZ' }),
    patient: patient({ givenNames: ['Łukasz'] }),
    method: 'allGivenNames',
    notes: ['diacriticsIgnored'],
  },
  {
    name: 'Turkish dotted capital I against plain I',
    outputs: outputs({ first_name: 'IRMAK' }),
    patient: patient({ givenNames: ['İrmak'] }),
    method: 'allGivenNames',
    notes: ['diacriticsIgnored'],
  },
  {
    name: 'Turkish dotless i against plain I',
    outputs: outputs({ last_name: 'ISIK' }),
    patient: patient({ familyName: 'Işık' }),
    method: 'leadingGivenNames',
    notes: ['diacriticsIgnored'],
  },
  {
    name: 'full-width Latin letters',
    outputs: outputs({ first_name: '\uFF2D\uFF41\uFF52\uFF59' }),
    patient: maryAnneSmith,
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'ligature in a family name',
    outputs: outputs({ last_name: 'Gri\uFB03ths' }),
    patient: patient({ familyName: 'Griffiths' }),
    method: 'leadingGivenNames',
    notes: [],
  },
  {
    name: 'Greek capital sigma against final sigma',
    outputs: outputs({ first_name: 'ΝΙΚΟΣ' }),
    patient: patient({ givenNames: ['Νικος'] }),
    method: 'allGivenNames',
    notes: [],
  },
  {
    name: 'Cyrillic names in both records',
    outputs: outputs({ first_name: 'АННА', last_name: 'ИВАНОВА' }),
    patient: patient({ givenNames: ['Анна'], familyName: 'Иванова' }),
    method: 'allGivenNames',
    notes: [],
  },
];

const rejectedCases: RejectedCase[] = [
  {
    name: 'different family name',
    outputs: outputs({ last_name: 'Smyth' }),
    patient: maryAnneSmith,
    reasons: ['name'],
  },
  {
    name: 'different first given name',
    outputs: outputs({ first_name: 'Maria' }),
    patient: maryAnneSmith,
    reasons: ['name'],
  },
  {
    name: 'second given name only',
    outputs: outputs({ first_name: 'Anne' }),
    patient: maryAnneSmith,
    reasons: ['name'],
  },
  {
    name: 'conflicting middle name',
    outputs: outputs({ first_name: 'Mary Jane' }),
    patient: maryAnneSmith,
    reasons: ['name'],
  },
  {
    name: 'given names in another order',
    outputs: outputs({ first_name: 'Anne Mary' }),
    patient: maryAnneSmith,
    reasons: ['name'],
  },
  {
    name: 'first given name only partly written',
    outputs: outputs({ first_name: 'Mar' }),
    patient: maryAnneSmith,
    reasons: ['name'],
  },
  {
    name: 'one part of a double-barrelled family name',
    outputs: outputs({ last_name: 'Smith' }),
    patient: patient({ familyName: 'Smith-Jones' }),
    reasons: ['name'],
  },
  {
    name: 'Cyrillic a (U+0430) in place of Latin a',
    outputs: outputs({ first_name: 'M\u0430ry' }),
    patient: maryAnneSmith,
    reasons: ['name'],
  },
  {
    name: 'Cyrillic dze (U+0405) in place of Latin S',
    outputs: outputs({ last_name: '\u0405mith' }),
    patient: maryAnneSmith,
    reasons: ['name'],
  },
  {
    name: 'Greek omicron (U+039F) in place of Latin O',
    outputs: outputs({ last_name: '\u039F\u2019Brien' }),
    patient: patient({ familyName: "O'Brien" }),
    reasons: ['name'],
  },
  {
    name: 'letters that differ beyond their diacritics',
    outputs: outputs({ last_name: 'Muller' }),
    patient: patient({ familyName: 'Mueller' }),
    reasons: ['name'],
  },
  {
    name: 'practice record without given names',
    outputs: outputs({}),
    patient: patient({ givenNames: [] }),
    reasons: ['name'],
  },
  {
    name: 'different day of birth',
    outputs: outputs({ dob: { day: 8, month: 3, year: 1980 } }),
    patient: maryAnneSmith,
    reasons: ['birthDate'],
  },
  {
    name: 'day and month swapped',
    outputs: outputs({ dob: { day: 3, month: 7, year: 1980 } }),
    patient: maryAnneSmith,
    reasons: ['birthDate'],
  },
  {
    name: 'different year of birth',
    outputs: outputs({ dob: { day: 7, month: 3, year: 1981 } }),
    patient: maryAnneSmith,
    reasons: ['birthDate'],
  },
  {
    name: 'practice date not zero-padded',
    outputs: outputs({}),
    patient: patient({ birthDate: '1980-3-7' }),
    reasons: ['birthDate'],
  },
  {
    name: 'missing first name',
    outputs: outputs({ first_name: null }),
    patient: maryAnneSmith,
    reasons: ['missingOutputs'],
  },
  {
    name: 'missing last name',
    outputs: outputs({ last_name: undefined }),
    patient: maryAnneSmith,
    reasons: ['missingOutputs'],
  },
  {
    name: 'first name of punctuation only',
    outputs: outputs({ first_name: ' - \u2019 ' }),
    patient: maryAnneSmith,
    reasons: ['missingOutputs'],
  },
  {
    name: 'missing date of birth',
    outputs: outputs({ dob: null }),
    patient: maryAnneSmith,
    reasons: ['missingOutputs'],
  },
  {
    name: 'missing day of birth',
    outputs: outputs({ dob: { day: null, month: 3, year: 1980 } }),
    patient: maryAnneSmith,
    reasons: ['missingOutputs'],
  },
  {
    name: 'fractional day of birth',
    outputs: outputs({ dob: { day: 7.5, month: 3, year: 1980 } }),
    patient: maryAnneSmith,
    reasons: ['missingOutputs'],
  },
  {
    name: 'month of birth out of range',
    outputs: outputs({ dob: { day: 7, month: 13, year: 1980 } }),
    patient: maryAnneSmith,
    reasons: ['missingOutputs'],
  },
  {
    name: 'wrong name and wrong date',
    outputs: outputs({ last_name: 'Jones', dob: { day: 8, month: 3, year: 1980 } }),
    patient: maryAnneSmith,
    reasons: ['name', 'birthDate'],
  },
  {
    name: 'missing name and wrong date',
    outputs: outputs({ first_name: null, dob: { day: 8, month: 3, year: 1980 } }),
    patient: maryAnneSmith,
    reasons: ['birthDate', 'missingOutputs'],
  },
  {
    name: 'wrong name and missing date',
    outputs: outputs({ last_name: 'Jones', dob: null }),
    patient: maryAnneSmith,
    reasons: ['name', 'missingOutputs'],
  },
];

describe('matchVerifiedIdentity', () => {
  describe('accepts', () => {
    for (const testCase of acceptedCases) {
      it(testCase.name, () => {
        const result = matchVerifiedIdentity(testCase.outputs, testCase.patient);

        expect(result.matched, JSON.stringify(result)).to.equal(true);
        if (result.matched) {
          expect(result.method).to.equal(testCase.method);
          expect(result.notes).to.deep.equal(testCase.notes);
        }
      });
    }
  });

  describe('rejects', () => {
    for (const testCase of rejectedCases) {
      it(testCase.name, () => {
        const result = matchVerifiedIdentity(testCase.outputs, testCase.patient);

        expect(result.matched, JSON.stringify(result)).to.equal(false);
        if (!result.matched) {
          expect(result.reasons).to.deep.equal(testCase.reasons);
        }
      });
    }
  });

  it('relies on NFKC leaving Cyrillic a unfolded', () => {
    expect('\u0430'.normalize('NFKC')).to.equal('\u0430');
    expect('\u0430'.normalize('NFKC')).not.to.equal('a');
  });
});

describe('formatCalendarDate', () => {
  it('zero-pads day, month and year', () => {
    expect(formatCalendarDate({ day: 1, month: 2, year: 987 })).to.equal('0987-02-01');
  });

  it('keeps the first of January', () => {
    expect(formatCalendarDate({ day: 1, month: 1, year: 2000 })).to.equal('2000-01-01');
  });

  it('keeps the last of December', () => {
    expect(formatCalendarDate({ day: 31, month: 12, year: 1999 })).to.equal('1999-12-31');
  });

  it('returns null without a date', () => {
    expect(formatCalendarDate(null)).to.equal(null);
  });

  it('returns null for a zero day', () => {
    expect(formatCalendarDate({ day: 0, month: 1, year: 2000 })).to.equal(null);
  });

  it('returns null for a missing year', () => {
    expect(formatCalendarDate({ day: 1, month: 1, year: null })).to.equal(null);
  });
});
