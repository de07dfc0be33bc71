import { expect } from 'chai';

import type { ClinicalRecordEntry, ClinicalSection } from '../../plugin/host/contract.js';
import { buildSectionView } from '../../plugin/records/view-models.js';
import {
  allergy,
  allergyClinical,
  allergyVerification,
  concept,
  condition,
  conditionClinical,
  conditionVerification,
  entry,
  immunization,
  interpretation,
  labObservation,
  medication,
  medicationRequest,
  medicationStatement,
  noKnownAllergy,
  UCUM,
} from './records-resources.js';

const options = { locale: 'en-GB' };

describe('buildSectionView: empty sections', () => {
  it('returns state empty for list sections', () => {
    for (const section of ['problems', 'medications', 'immunisations', 'labResults'] as const) {
      const view = buildSectionView(section, [], options);
      expect(view.state, section).to.equal('empty');
      expect(view.items, section).to.deep.equal([]);
    }
  });

  it('returns none-recorded for allergies', () => {
    const view = buildSectionView('allergies', [], options);
    expect(view.state).to.equal('none-recorded');
    expect(view.items).to.deep.equal([]);
    expect(view.noKnownAllergies).to.deep.equal([]);
  });

  it('returns empty when every resource is hidden', () => {
    const entries = [entry(condition({ verificationStatus: conditionVerification('entered-in-error') }))];
    expect(buildSectionView('problems', entries, options).state).to.equal('empty');
  });

  it('rejects an unknown section', () => {
    expect(() => buildSectionView('notes' as ClinicalSection, [], options)).to.throw(RangeError, /Unknown clinical record section "notes"/);
  });

  it('rejects a malformed locale', () => {
    expect(() => buildSectionView('problems', [], { locale: 'en_GB!' })).to.throw(RangeError, /Invalid locale "en_GB!"/);
  });
});

describe('buildSectionView: problems', () => {
  it('builds a problem', () => {
    const view = buildSectionView('problems', [entry(condition({ onsetDateTime: '2021-05', recordedDate: '2021-06-02' }))], options);
    const [problem] = view.items;
    expect(problem.id).to.equal('condition-1');
    expect(problem.name).to.equal('Hypertension');
    expect(problem.clinicalStatus).to.equal('active');
    expect(problem.active).to.equal(true);
    expect(problem.onset?.kind).to.equal('dateTime');
    expect(problem.onset?.formatted).to.equal('May 2021');
    expect(problem.onset?.date?.precision).to.equal('month');
    expect(problem.recorded?.formatted).to.equal('2 June 2021');
    expect(problem.abatement).to.equal(null);
    expect(problem.label).to.equal(null);
  });

  it('hides refuted and entered-in-error problems', () => {
    const entries = [
      entry(condition({ id: 'shown' })),
      entry(condition({ id: 'refuted', verificationStatus: conditionVerification('refuted') })),
      entry(condition({ id: 'error', verificationStatus: conditionVerification('entered-in-error') })),
    ];
    expect(buildSectionView('problems', entries, options).items.map((item) => item.id)).to.deep.equal(['shown']);
  });

  it('labels an unconfirmed problem', () => {
    const entries = [entry(condition({ verificationStatus: conditionVerification('unconfirmed') }))];
    expect(buildSectionView('problems', entries, options).items[0].label).to.equal('unconfirmed');
  });

  it('sorts active first then newest onset', () => {
    const entries = [
      entry(condition({ id: 'resolved-new', clinicalStatus: conditionClinical('resolved'), onsetDateTime: '2023-01-01' })),
      entry(condition({ id: 'active-old', onsetDateTime: '2001' })),
      entry(condition({ id: 'relapse-mid', clinicalStatus: conditionClinical('relapse'), onsetDateTime: '2010-06' })),
      entry(condition({ id: 'active-undated', onsetDateTime: undefined })),
      entry(condition({ id: 'remission-old', clinicalStatus: conditionClinical('remission'), onsetDateTime: '1999-02-03' })),
    ];
    expect(buildSectionView('problems', entries, options).items.map((item) => item.id)).to.deep.equal([
      'relapse-mid',
      'active-old',
      'active-undated',
      'resolved-new',
      'remission-old',
    ]);
  });

  it('reads onset as age, string and period', () => {
    const entries = [
      entry(condition({ id: 'age', onsetDateTime: undefined, onsetAge: { value: 40, unit: 'years', system: UCUM, code: 'a' } })),
      entry(condition({ id: 'string', onsetDateTime: undefined, onsetString: 'Childhood' })),
      entry(condition({ id: 'period', onsetDateTime: undefined, onsetPeriod: { start: '2019', end: '2020-03' } })),
    ];
    const items = buildSectionView('problems', entries, options).items;
    const byId = new Map(items.map((item) => [item.id, item]));
    expect(byId.get('age')?.onset).to.deep.include({ kind: 'age', formatted: '40 years', date: null });
    expect(byId.get('string')?.onset).to.deep.include({ kind: 'string', formatted: 'Childhood' });
    expect(byId.get('period')?.onset?.formatted).to.equal('2019 – March 2020');
  });

  it('reads abatement', () => {
    const resource = condition({ clinicalStatus: conditionClinical('resolved'), abatementDateTime: '2022-11-30T23:59:00+13:00' });
    const [problem] = buildSectionView('problems', [entry(resource)], options).items;
    expect(problem.active).to.equal(false);
    expect(problem.abatement?.formatted).to.equal('30 November 2022');
  });

  it('shows an invalid onset as not recorded', () => {
    const [problem] = buildSectionView('problems', [entry(condition({ onsetDateTime: '2021-02-30' }))], options).items;
    expect(problem.onset).to.equal(null);
  });
});

describe('buildSectionView: medications', () => {
  it('builds an inline coded medication', () => {
    const [item] = buildSectionView('medications', [entry(medicationRequest())], options).items;
    expect(item.name).to.equal('Amlodipine 5 mg tablets');
    expect(item.resourceType).to.equal('MedicationRequest');
    expect(item.status).to.equal('active');
    expect(item.current).to.equal(true);
    expect(item.dosages.map((dosage) => dosage.text)).to.deep.equal(['One tablet each morning']);
    expect(item.date?.formatted).to.equal('10 February 2020');
    expect(item.dateKind).to.equal('authoredOn');
  });

  it('names a medication from the resolved reference', () => {
    const resource = medicationRequest({
      medicationCodeableConcept: undefined,
      medicationReference: { reference: 'Medication/med-7', display: 'Name from the reference' },
    });
    const [item] = buildSectionView('medications', [entry(resource, medication('med-7', 'Cefazolin 2 g injection'))], options).items;
    expect(item.name).to.equal('Cefazolin 2 g injection');
  });

  it('names a medication from a contained resource', () => {
    const resource = medicationRequest({
      medicationCodeableConcept: undefined,
      medicationReference: { reference: '#med' },
      contained: [medication('med', 'Heparin 5000 units/mL injection')],
    });
    expect(buildSectionView('medications', [entry(resource)], options).items[0].name).to.equal('Heparin 5000 units/mL injection');
  });

  it('falls back to the reference display', () => {
    const resource = medicationRequest({
      medicationCodeableConcept: undefined,
      medicationReference: { reference: 'Medication/unresolved', display: 'Metformin 500 mg tablets' },
    });
    expect(buildSectionView('medications', [entry(resource)], options).items[0].name).to.equal('Metformin 500 mg tablets');
  });

  it('ignores a resolved non-Medication', () => {
    const resource = medicationRequest({ medicationCodeableConcept: undefined, medicationReference: { reference: 'Medication/x' } });
    const wrong = { resourceType: 'Patient', id: 'x', code: concept('Not a medication') };
    expect(buildSectionView('medications', [entry(resource, wrong)], options).items[0].name).to.equal(null);
  });

  it('reads a MedicationStatement', () => {
    const [item] = buildSectionView('medications', [entry(medicationStatement())], options).items;
    expect(item.resourceType).to.equal('MedicationStatement');
    expect(item.dosages[0].text).to.equal('One or two tablets up to three times a day when needed');
    expect(item.date?.formatted).to.equal('5 January 2021');
    expect(item.dateKind).to.equal('effective');
  });

  it('reads structured dosage', () => {
    const resource = medicationRequest({
      dosageInstruction: [
        {
          timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } },
          asNeededBoolean: false,
          doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }],
          patientInstruction: 'Take with food',
        },
      ],
    });
    const [dosage] = buildSectionView('medications', [entry(resource)], options).items[0].dosages;
    expect(dosage.text).to.equal(null);
    expect(dosage.patientInstruction).to.equal('Take with food');
    expect(dosage.dose?.formatted).to.equal('1 tablet');
    expect(dosage.frequency).to.equal(2);
    expect(dosage.period).to.equal(1);
    expect(dosage.periodUnit).to.equal('d');
    expect(dosage.asNeeded).to.equal(false);
  });

  it('sorts current first then newest', () => {
    const entries = [
      entry(medicationRequest({ id: 'completed-new', status: 'completed', authoredOn: '2024-01-01' })),
      entry(medicationRequest({ id: 'active-old', status: 'active', authoredOn: '2015-01-01' })),
      entry(medicationStatement({ id: 'intended-mid', status: 'intended', effectiveDateTime: '2020-06' })),
      entry(medicationRequest({ id: 'on-hold-new', status: 'on-hold', authoredOn: '2023-05-05' })),
      entry(medicationRequest({ id: 'stopped-old', status: 'stopped', authoredOn: '2010' })),
    ];
    expect(buildSectionView('medications', entries, options).items.map((item) => item.id)).to.deep.equal([
      'on-hold-new',
      'intended-mid',
      'active-old',
      'completed-new',
      'stopped-old',
    ]);
  });

  it('hides entered-in-error and draft medications', () => {
    const entries = [
      entry(medicationRequest({ id: 'error', status: 'entered-in-error' })),
      entry(medicationRequest({ id: 'draft', status: 'draft' })),
      entry(medicationStatement({ id: 'statement-error', status: 'entered-in-error' })),
      entry(medicationRequest({ id: 'shown' })),
    ];
    expect(buildSectionView('medications', entries, options).items.map((item) => item.id)).to.deep.equal(['shown']);
  });

  it('labels do-not-perform, never current', () => {
    const [item] = buildSectionView('medications', [entry(medicationRequest({ doNotPerform: true }))], options).items;
    expect(item.label).to.equal('do-not-perform');
    expect(item.current).to.equal(false);
  });
});

describe('buildSectionView: allergies', () => {
  it('builds an allergy with reactions', () => {
    const view = buildSectionView('allergies', [entry(allergy())], options);
    expect(view.state).to.equal('list');
    const [item] = view.items;
    expect(item.substance).to.equal('Penicillin');
    expect(item.reactions[0].manifestations).to.deep.equal(['Hives']);
    expect(item.reactions[0].severity).to.equal('moderate');
    expect(item.criticality).to.equal('high');
    expect(item.clinicalStatus).to.equal('active');
    expect(item.categories).to.deep.equal(['medication']);
    expect(item.type).to.equal('allergy');
    expect(item.recorded?.formatted).to.equal('1 June 2019');
    expect(item.label).to.equal(null);
  });

  it('distinguishes no known allergies from none recorded', () => {
    const none = buildSectionView('allergies', [], options);
    const noKnown = buildSectionView('allergies', [entry(noKnownAllergy('716186003', 'No known allergy'))], options);
    expect(none.state).to.equal('none-recorded');
    expect(noKnown.state).to.equal('no-known-allergies');
    expect(noKnown.items).to.deep.equal([]);
    expect(noKnown.noKnownAllergies.map((negation) => negation.scope)).to.deep.equal(['all']);
  });

  it('recognises each negation code', () => {
    const codes: Array<[string, string]> = [
      ['716186003', 'all'],
      ['409137002', 'medication'],
      ['428607008', 'environment'],
      ['429625007', 'food'],
      ['428197003', 'insect'],
      ['716184000', 'latex'],
      ['716220001', 'animal'],
    ];
    for (const [code, scope] of codes) {
      const view = buildSectionView('allergies', [entry(noKnownAllergy(code, `No known ${scope} allergy`))], options);
      expect(view.state, code).to.equal('no-known-allergies');
      expect(view.noKnownAllergies[0].scope, code).to.equal(scope);
      expect(view.noKnownAllergies[0].text, code).to.equal(`No known ${scope} allergy`);
    }
  });

  it('recognises the IPS absent-unknown codes', () => {
    const system = 'http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips';
    const nkda = allergy({ code: concept('No known medication allergies', 'no-known-medication-allergies', system) });
    const noInformation = allergy({ code: concept('No information about allergies', 'no-allergy-info', system) });
    expect(buildSectionView('allergies', [entry(nkda)], options).noKnownAllergies[0].scope).to.equal('medication');
    expect(buildSectionView('allergies', [entry(noInformation)], options).state).to.equal('none-recorded');
  });

  it('hides refuted and entered-in-error allergies', () => {
    const entries = [
      entry(allergy({ id: 'refuted', verificationStatus: allergyVerification('refuted') })),
      entry(allergy({ id: 'error', verificationStatus: allergyVerification('entered-in-error') })),
    ];
    expect(buildSectionView('allergies', entries, options).state).to.equal('none-recorded');
  });

  it('labels an unconfirmed allergy', () => {
    const entries = [entry(allergy({ verificationStatus: allergyVerification('unconfirmed') }))];
    expect(buildSectionView('allergies', entries, options).items[0].label).to.equal('unconfirmed');
  });

  it('ignores an entered-in-error no-known-allergy record', () => {
    const entries = [entry(noKnownAllergy('716186003', 'No known allergy', { verificationStatus: allergyVerification('entered-in-error') }))];
    expect(buildSectionView('allergies', entries, options).state).to.equal('none-recorded');
  });

  it('ignores an inactive no-known-allergy record', () => {
    const entries = [entry(noKnownAllergy('716186003', 'No known allergy', { clinicalStatus: allergyClinical('inactive') }))];
    expect(buildSectionView('allergies', entries, options).state).to.equal('none-recorded');
  });

  it('drops a negation a listed allergy contradicts', () => {
    const entries = [
      entry(noKnownAllergy('409137002', 'No known drug allergy')),
      entry(noKnownAllergy('429625007', 'No known food allergy')),
      entry(allergy()),
    ];
    const view = buildSectionView('allergies', entries, options);
    expect(view.state).to.equal('list');
    expect(view.items.map((item) => item.substance)).to.deep.equal(['Penicillin']);
    expect(view.noKnownAllergies.map((negation) => negation.scope)).to.deep.equal(['food']);
  });

  it('keeps a negation beside a resolved allergy', () => {
    const entries = [
      entry(noKnownAllergy('409137002', 'No known drug allergy')),
      entry(allergy({ clinicalStatus: allergyClinical('resolved') })),
    ];
    const view = buildSectionView('allergies', entries, options);
    expect(view.state).to.equal('list');
    expect(view.noKnownAllergies.map((negation) => negation.scope)).to.deep.equal(['medication']);
  });

  it('sorts active, high criticality and newest first', () => {
    const entries = [
      entry(allergy({ id: 'resolved-high', clinicalStatus: allergyClinical('resolved'), recordedDate: '2024' })),
      entry(allergy({ id: 'active-low-new', criticality: 'low', recordedDate: '2023' })),
      entry(allergy({ id: 'active-high-old', recordedDate: '2001' })),
      entry(allergy({ id: 'active-high-new', recordedDate: '2022' })),
    ];
    expect(buildSectionView('allergies', entries, options).items.map((item) => item.id)).to.deep.equal([
      'active-high-new',
      'active-high-old',
      'active-low-new',
      'resolved-high',
    ]);
  });
});

describe('buildSectionView: immunisations', () => {
  it('builds a dose', () => {
    const resource = immunization({ protocolApplied: [{ doseNumberPositiveInt: 2 }] });
    const view = buildSectionView('immunisations', [entry(resource)], options);
    expect(view.state).to.equal('list');
    expect(view.items[0]).to.deep.include({ vaccine: 'Influenza vaccine', status: 'completed', doseNumber: '2', label: null });
    expect(view.items[0].date?.formatted).to.equal('3 October 2022');
  });

  it('keeps not-done out of doses', () => {
    const notDone = immunization({ id: 'refused', status: 'not-done', statusReason: concept('Patient objection', '275694009') });
    const view = buildSectionView('immunisations', [entry(notDone), entry(immunization({ id: 'given' }))], options);
    expect(view.items.map((item) => item.id)).to.deep.equal(['given']);
    expect(view.notGiven.map((item) => item.id)).to.deep.equal(['refused']);
    expect(view.notGiven[0].reason).to.equal('Patient objection');
  });

  it('lists only not-done entries', () => {
    const view = buildSectionView('immunisations', [entry(immunization({ status: 'not-done' }))], options);
    expect(view.state).to.equal('list');
    expect(view.items).to.deep.equal([]);
  });

  it('hides entered-in-error immunisations', () => {
    const view = buildSectionView('immunisations', [entry(immunization({ status: 'entered-in-error' }))], options);
    expect(view.state).to.equal('empty');
  });

  it('labels a subpotent dose', () => {
    const view = buildSectionView('immunisations', [entry(immunization({ isSubpotent: true }))], options);
    expect(view.items[0].label).to.equal('subpotent');
  });

  it('sorts newest first with occurrenceString last', () => {
    const entries = [
      entry(immunization({ id: 'text', occurrenceDateTime: undefined, occurrenceString: 'As a child' })),
      entry(immunization({ id: 'old', occurrenceDateTime: '2015-04' })),
      entry(immunization({ id: 'new', occurrenceDateTime: '2023-10-01T09:00:00+01:00' })),
    ];
    const view = buildSectionView('immunisations', entries, options);
    expect(view.items.map((item) => item.id)).to.deep.equal(['new', 'old', 'text']);
    expect(view.items[1].date?.formatted).to.equal('April 2015');
    expect(view.items[2].dateText).to.equal('As a child');
  });
});

describe('buildSectionView: lab results', () => {
  it('builds a result', () => {
    const [item] = buildSectionView('labResults', [entry(labObservation())], options).items;
    expect(item.name).to.equal('Potassium');
    expect(item.value.formatted).to.equal('4.2 mmol/L');
    expect(item.unit).to.equal('mmol/L');
    expect(item.referenceRanges[0].formatted).to.equal('3.5–5.3 mmol/L');
    expect(item.flag).to.equal(null);
    expect(item.date?.formatted).to.equal('11 April 2023');
    expect(item.dateKind).to.equal('effective');
    expect(item.status).to.equal('final');
    expect(item.label).to.equal(null);
  });

  it('keeps the comparator', () => {
    const resource = labObservation({ valueQuantity: { value: 5, comparator: '<', unit: 'mmol/L', system: UCUM, code: 'mmol/L' } });
    const [item] = buildSectionView('labResults', [entry(resource)], options).items;
    expect(item.value.formatted).to.equal('< 5 mmol/L');
    expect(item.value.quantity?.comparator).to.equal('<');
  });

  it('labels a preliminary result', () => {
    const [item] = buildSectionView('labResults', [entry(labObservation({ status: 'preliminary' }))], options).items;
    expect(item.status).to.equal('preliminary');
    expect(item.label).to.equal('preliminary');
  });

  it('hides cancelled and entered-in-error results', () => {
    const entries = [
      entry(labObservation({ id: 'cancelled', status: 'cancelled' })),
      entry(labObservation({ id: 'error', status: 'entered-in-error' })),
      entry(labObservation({ id: 'registered', status: 'registered' })),
      entry(labObservation({ id: 'corrected', status: 'corrected' })),
    ];
    const view = buildSectionView('labResults', entries, options);
    expect(view.items.map((item) => item.id)).to.deep.equal(['corrected']);
    expect(view.items[0].label).to.equal('corrected');
  });

  it('flags from interpretation', () => {
    const [item] = buildSectionView('labResults', [entry(labObservation({ interpretation: interpretation('HH') }))], options).items;
    expect(item.flag).to.equal('high');
    expect(item.critical).to.equal(true);
  });

  it('flags from the range without interpretation', () => {
    const resource = labObservation({ valueQuantity: { value: 2.9, unit: 'mmol/L', system: UCUM, code: 'mmol/L' } });
    const [item] = buildSectionView('labResults', [entry(resource)], options).items;
    expect(item.flag).to.equal('low');
    expect(item.flagSource).to.equal('referenceRange');
  });

  it('reads panel components', () => {
    const panel = labObservation({
      code: concept('Full blood count', '58410-2', 'http://loinc.org'),
      valueQuantity: undefined,
      referenceRange: undefined,
      component: [
        {
          code: concept('Haemoglobin', '718-7', 'http://loinc.org'),
          valueQuantity: { value: 101, unit: 'g/L', system: UCUM, code: 'g/L' },
          referenceRange: [{ low: { value: 130, unit: 'g/L' }, high: { value: 180, unit: 'g/L' } }],
        },
        {
          code: concept('Platelets', '777-3', 'http://loinc.org'),
          valueQuantity: { value: 250, unit: '10*9/L', system: UCUM, code: '10*9/L' },
          interpretation: interpretation('N'),
        },
      ],
    });
    const [item] = buildSectionView('labResults', [entry(panel)], options).items;
    expect(item.value.kind).to.equal('none');
    expect(item.components.map((component) => component.name)).to.deep.equal(['Haemoglobin', 'Platelets']);
    expect(item.components[0].value.formatted).to.equal('101 g/L');
    expect(item.components[0].flag).to.equal('low');
    expect(item.components[1].flag).to.equal(null);
    expect(item.flaggedComponentCount).to.equal(1);
  });

  it('dates by issued without effective', () => {
    const resource = labObservation({ effectiveDateTime: undefined, issued: '2023-04-12T16:00:00.000+01:00' });
    const [item] = buildSectionView('labResults', [entry(resource)], options).items;
    expect(item.date?.formatted).to.equal('12 April 2023');
    expect(item.dateKind).to.equal('issued');
  });

  it('sorts newest first', () => {
    const entries = [
      entry(labObservation({ id: 'old', effectiveDateTime: '2019-01-01' })),
      entry(labObservation({ id: 'undated', effectiveDateTime: undefined })),
      entry(labObservation({ id: 'new', effectiveDateTime: '2024-02-02T08:00:00Z' })),
    ];
    expect(buildSectionView('labResults', entries, options).items.map((item) => item.id)).to.deep.equal(['new', 'old', 'undated']);
  });

  it('shows only laboratory Observations', () => {
    const vitalSign = labObservation({
      id: 'vital',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    });
    const view = buildSectionView('labResults', [entry(vitalSign), entry(labObservation({ id: 'lab' }))], options);
    expect(view.items.map((item) => item.id)).to.deep.equal(['lab']);
  });
});

describe('buildSectionView: host text', () => {
  const narrative = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></div>' };

  it('never carries the narrative', () => {
    const entries: Array<[ClinicalSection, ClinicalRecordEntry]> = [
      ['problems', entry(condition({ text: narrative }))],
      ['medications', entry(medicationRequest({ text: narrative }))],
      ['allergies', entry(allergy({ text: narrative }))],
      ['immunisations', entry(immunization({ text: narrative }))],
      ['labResults', entry(labObservation({ text: narrative }))],
    ];
    for (const [section, item] of entries) {
      const serialised = JSON.stringify(buildSectionView(section, [item], options));
      expect(serialised, section).to.not.include('<script>');
      expect(serialised, section).to.not.include('xhtml');
    }
  });

  it('keeps host strings raw', () => {
    const resource = condition({ code: { text: 'Asthma <em>severe</em> & "brittle"' } });
    expect(buildSectionView('problems', [entry(resource)], options).items[0].name).to.equal('Asthma <em>severe</em> & "brittle"');
  });
});
