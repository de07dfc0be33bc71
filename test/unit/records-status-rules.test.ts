import { expect } from 'chai';

import type { ClinicalRecordEntry } from '../../plugin/host/contract.js';
import { applyReleaseRules } from '../../plugin/records/release-rules.js';
import {
  applyStatusRules,
  decideStatus,
  isCurrentMedication,
  type StatusDecision,
} from '../../plugin/records/status-rules.js';
import {
  allergy,
  allergyVerification,
  condition,
  conditionVerification,
  entry,
  immunization,
  labObservation,
  medicationRequest,
  medicationStatement,
  statusConcept,
} from './records-resources.js';

const hiddenBecause = (reason: string): StatusDecision => ({ visible: false, reason } as StatusDecision);
const shownWith = (label: string | null): StatusDecision => ({ visible: true, label } as StatusDecision);

describe('status rules: conditions', () => {
  it('shows a confirmed condition without a label', () => {
    expect(decideStatus('problems', condition())).to.deep.equal(shownWith(null));
  });

  it('hides an entered-in-error condition', () => {
    const resource = condition({ verificationStatus: conditionVerification('entered-in-error') });
    expect(decideStatus('problems', resource)).to.deep.equal(hiddenBecause('entered-in-error'));
  });

  it('hides a refuted condition', () => {
    const resource = condition({ verificationStatus: conditionVerification('refuted') });
    expect(decideStatus('problems', resource)).to.deep.equal(hiddenBecause('refuted'));
  });

  it('labels unconfirmed, provisional and differential conditions', () => {
    for (const code of ['unconfirmed', 'provisional', 'differential']) {
      const resource = condition({ verificationStatus: conditionVerification(code) });
      expect(decideStatus('problems', resource), code).to.deep.equal(shownWith(code));
    }
  });

  it('shows a condition without a verification status', () => {
    expect(decideStatus('problems', condition({ verificationStatus: undefined }))).to.deep.equal(shownWith(null));
  });

  it('ignores a verification code from another system', () => {
    const resource = condition({ verificationStatus: statusConcept('urn:example:local', 'refuted') });
    expect(decideStatus('problems', resource)).to.deep.equal(shownWith(null));
  });
});

describe('status rules: allergies', () => {
  it('hides an entered-in-error allergy', () => {
    const resource = allergy({ verificationStatus: allergyVerification('entered-in-error') });
    expect(decideStatus('allergies', resource)).to.deep.equal(hiddenBecause('entered-in-error'));
  });

  it('hides a refuted allergy', () => {
    const resource = allergy({ verificationStatus: allergyVerification('refuted') });
    expect(decideStatus('allergies', resource)).to.deep.equal(hiddenBecause('refuted'));
  });

  it('labels an unconfirmed allergy', () => {
    const resource = allergy({ verificationStatus: allergyVerification('unconfirmed') });
    expect(decideStatus('allergies', resource)).to.deep.equal(shownWith('unconfirmed'));
  });

  it('shows a confirmed allergy without a label', () => {
    expect(decideStatus('allergies', allergy())).to.deep.equal(shownWith(null));
  });
});

describe('status rules: medications', () => {
  it('hides an entered-in-error MedicationRequest', () => {
    const resource = medicationRequest({ status: 'entered-in-error' });
    expect(decideStatus('medications', resource)).to.deep.equal(hiddenBecause('entered-in-error'));
  });

  it('hides an entered-in-error MedicationStatement', () => {
    const resource = medicationStatement({ status: 'entered-in-error' });
    expect(decideStatus('medications', resource)).to.deep.equal(hiddenBecause('entered-in-error'));
  });

  it('hides a draft MedicationRequest', () => {
    expect(decideStatus('medications', medicationRequest({ status: 'draft' }))).to.deep.equal(
      hiddenBecause('status-not-shown'),
    );
  });

  it('shows past medications without a label', () => {
    for (const status of ['completed', 'stopped', 'cancelled', 'unknown']) {
      expect(decideStatus('medications', medicationRequest({ status })), status).to.deep.equal(shownWith(null));
    }
    for (const status of ['completed', 'stopped', 'not-taken', 'unknown']) {
      expect(decideStatus('medications', medicationStatement({ status })), status).to.deep.equal(shownWith(null));
    }
  });

  it('labels a do-not-perform order', () => {
    const resource = medicationRequest({ doNotPerform: true });
    expect(decideStatus('medications', resource)).to.deep.equal(shownWith('do-not-perform'));
  });

  it('shows a medication without a status', () => {
    expect(decideStatus('medications', medicationRequest({ status: undefined }))).to.deep.equal(shownWith(null));
  });

  it('counts active and on-hold requests as current', () => {
    expect(isCurrentMedication(medicationRequest({ status: 'active' }))).to.equal(true);
    expect(isCurrentMedication(medicationRequest({ status: 'on-hold' }))).to.equal(true);
    expect(isCurrentMedication(medicationRequest({ status: 'completed' }))).to.equal(false);
    expect(isCurrentMedication(medicationRequest({ status: 'stopped' }))).to.equal(false);
  });

  it('counts intended statements as current', () => {
    expect(isCurrentMedication(medicationStatement({ status: 'intended' }))).to.equal(true);
    expect(isCurrentMedication(medicationStatement({ status: 'active' }))).to.equal(true);
    expect(isCurrentMedication(medicationStatement({ status: 'not-taken' }))).to.equal(false);
  });

  it('never counts a do-not-perform order as current', () => {
    expect(isCurrentMedication(medicationRequest({ status: 'active', doNotPerform: true }))).to.equal(false);
  });
});

describe('status rules: immunisations', () => {
  it('shows a completed dose without a label', () => {
    expect(decideStatus('immunisations', immunization())).to.deep.equal(shownWith(null));
  });

  it('labels a not-done immunisation', () => {
    const resource = immunization({ status: 'not-done' });
    expect(decideStatus('immunisations', resource)).to.deep.equal(shownWith('not-done'));
  });

  it('labels a subpotent dose', () => {
    expect(decideStatus('immunisations', immunization({ isSubpotent: true }))).to.deep.equal(shownWith('subpotent'));
  });

  it('hides an entered-in-error immunisation', () => {
    const resource = immunization({ status: 'entered-in-error' });
    expect(decideStatus('immunisations', resource)).to.deep.equal(hiddenBecause('entered-in-error'));
  });

  it('hides an immunisation without a status', () => {
    expect(decideStatus('immunisations', immunization({ status: undefined }))).to.deep.equal(
      hiddenBecause('status-missing'),
    );
  });
});

describe('status rules: lab results', () => {
  it('shows a final result without a label', () => {
    expect(decideStatus('labResults', labObservation())).to.deep.equal(shownWith(null));
  });

  it('labels preliminary, amended and corrected results', () => {
    for (const status of ['preliminary', 'amended', 'corrected']) {
      expect(decideStatus('labResults', labObservation({ status })), status).to.deep.equal(shownWith(status));
    }
  });

  it('hides registered, cancelled and unknown results', () => {
    for (const status of ['registered', 'cancelled', 'unknown']) {
      expect(decideStatus('labResults', labObservation({ status })), status).to.deep.equal(
        hiddenBecause('status-not-shown'),
      );
    }
  });

  it('hides an entered-in-error result', () => {
    expect(decideStatus('labResults', labObservation({ status: 'entered-in-error' }))).to.deep.equal(
      hiddenBecause('entered-in-error'),
    );
  });

  it('hides a result without a status', () => {
    expect(decideStatus('labResults', labObservation({ status: undefined }))).to.deep.equal(
      hiddenBecause('status-missing'),
    );
  });

  it('hides an Observation that is not laboratory', () => {
    const vitalSign = labObservation({
      category: [statusConcept('http://terminology.hl7.org/CodeSystem/observation-category', 'vital-signs')],
    });
    expect(decideStatus('labResults', vitalSign)).to.deep.equal(hiddenBecause('not-laboratory'));
    expect(decideStatus('labResults', labObservation({ category: undefined }))).to.deep.equal(
      hiddenBecause('not-laboratory'),
    );
  });

  it('ignores a laboratory code from another system', () => {
    const resource = labObservation({ category: [statusConcept('urn:example:local', 'laboratory')] });
    expect(decideStatus('labResults', resource)).to.deep.equal(hiddenBecause('not-laboratory'));
  });
});

describe('applyStatusRules', () => {
  it('hides resources of another section', () => {
    expect(decideStatus('problems', allergy())).to.deep.equal(hiddenBecause('unexpected-resource-type'));
    expect(decideStatus('medications', { resourceType: 'Medication', id: 'm' })).to.deep.equal(
      hiddenBecause('unexpected-resource-type'),
    );
  });

  it('keeps host order and labels', () => {
    const entries = [
      entry(condition({ id: 'a' })),
      entry(condition({ id: 'b', verificationStatus: conditionVerification('refuted') })),
      entry(condition({ id: 'c', verificationStatus: conditionVerification('provisional') })),
      entry(condition({ id: 'd', verificationStatus: conditionVerification('entered-in-error') })),
    ];
    const visible = applyStatusRules('problems', entries);
    expect(visible.map((item) => item.entry.resource.id)).to.deep.equal(['a', 'c']);
    expect(visible.map((item) => item.label)).to.deep.equal([null, 'provisional']);
  });

  it('skips entries without a resource', () => {
    const malformed = [{ resource: null }, {}, { resource: { id: 'no-type' } }] as unknown as ClinicalRecordEntry[];
    expect(applyStatusRules('problems', [...malformed, entry(condition())])).to.have.length(1);
  });
});

describe('applyReleaseRules', () => {
  it('returns every item unchanged', () => {
    const items = applyStatusRules('problems', [entry(condition({ id: 'a' })), entry(condition({ id: 'b' }))]);
    const released = applyReleaseRules('problems', items, {});
    expect(released).to.deep.equal(items);
    expect(released[0]).to.equal(items[0]);
  });

  it('returns a new array', () => {
    const items = applyStatusRules('problems', [entry(condition())]);
    expect(applyReleaseRules('problems', items)).to.not.equal(items);
  });
});
