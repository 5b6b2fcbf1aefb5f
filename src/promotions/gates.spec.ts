import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { AttributeFairness, GroupFigures } from '../evaluation/metrics/index.js';
import { parsePolicyFile } from '../policy/policy-file.js';
import { promotionPolicySchema } from '../policy/promotion-policy.js';
import {
  evaluateGates,
  fairnessGate,
  performanceGate,
  type EvaluationFacts,
  type GateFacts,
  type StoredResult,
} from './gates.js';
import { digestOf } from './request-digest.js';

const policy = parsePolicyFile(
  'promotion.yaml',
  readFileSync(new URL('../../policies/promotion.yaml', import.meta.url), 'utf8'),
  promotionPolicySchema(),
).value;

const NOW = new Date('2026-03-01T12:00:00.000Z');
const ARTIFACT = 'c'.repeat(64);
const window = { minRequests: 500, seconds: 600 };

function group(name: string, count: number, selectionRate: number): GroupFigures {
  return {
    group: name,
    count,
    belowMinimumSize: count < 30,
    positives: 0,
    baseRate: 0,
    selected: Math.round(count * selectionRate),
    selectionRate,
    truePositiveRate: null,
    falsePositiveRate: null,
    vsReference: null,
  };
}

function attribute(
  name: string,
  groups: GroupFigures[],
  disparateImpact: number | null,
  equalizedOddsDifference: number | null,
): AttributeFairness {
  return {
    attribute: name,
    minGroupSize: 30,
    disparateImpactThreshold: 0.8,
    demographicParityDifference: 0,
    disparateImpact,
    equalizedOddsDifference,
    equalOpportunityDifference: 0,
    passesFourFifths: disparateImpact === null ? null : disparateImpact >= 0.8,
    referenceGroup: null,
    comparedGroups: groups.filter((g) => !g.belowMinimumSize).map((g) => g.group),
    groups,
    notes: [],
  };
}

function stored(
  fairness: AttributeFairness[],
  performance: { accuracy: number; rocAuc: number },
  dataset = 'd'.repeat(64),
): StoredResult {
  return {
    artifactSha256: ARTIFACT,
    dataset: { id: 'ds', name: 'german-credit', sha256: dataset },
    regression: null,
    classification: {
      performance: {
        ...performance,
        precision: 0.8,
        recall: 0.8,
        f1: 0.8,
        logLoss: 0.5,
        brierScore: 0.2,
        rows: 1000,
        positives: 700,
        negatives: 300,
        threshold: 0.5,
        confusionMatrix: {
          truePositives: 0,
          falsePositives: 0,
          trueNegatives: 0,
          falseNegatives: 0,
        },
        logLossEps: 2 ** -23,
        distinctScores: 1000,
        notes: [],
      },
      fairness,
      bootstrap: null,
    },
  };
}

const fair = [
  attribute('sex', [group('female', 310, 0.765), group('male', 690, 0.79)], 0.968, 0.012),
  attribute(
    'age_group',
    [group('25_and_over', 810, 0.791), group('under_25', 190, 0.732)],
    0.925,
    0.085,
  ),
];

function evaluation(
  result: StoredResult,
  overrides: Partial<EvaluationFacts> = {},
): EvaluationFacts {
  const sha = digestOf(result).sha256;
  return {
    id: 'e1',
    modelVersionId: 'v2',
    status: 'SUCCEEDED',
    finishedAt: new Date(NOW.getTime() - 3600_000),
    resultSha256: sha,
    recomputedSha256: sha,
    result,
    ...overrides,
  };
}

function facts(overrides: Partial<GateFacts> = {}): GateFacts {
  const e = overrides.evaluation ?? evaluation(stored(fair, { accuracy: 0.788, rocAuc: 0.827 }));
  return {
    now: NOW,
    riskTier: 'HIGH',
    tier: policy.tiers.HIGH,
    policy,
    request: {
      id: 'p1',
      requestDigest: 'f'.repeat(64),
      recomputedDigest: 'f'.repeat(64),
      requestedBy: 'dana',
      requiredRoles: policy.tiers.HIGH.approvers,
      strategy: 'INITIAL',
      plan: {},
      rollbackCriteria: {
        maxErrorRate: { value: 0.01, window },
        minDisparateImpact: { value: 0.8, window },
        rationale: 'Errors above one percent overwhelm the underwriters who review every decision.',
      },
      successCriteria: null,
      evaluationResultSha256: e.resultSha256 ?? '',
    },
    endpoint: { name: 'credit', liveVersion: null },
    model: {
      name: 'credit-risk',
      owner: 'credit-risk-team',
      protectedAttributes: ['sex', 'age_group'],
      modelCard: {
        intendedUse: 'Scores consumer credit applications for a human underwriter.',
        outOfScopeUses: ['Automated rejection'],
        limitations: 'Trained on 1,000 applications from 1970s Germany.',
        trainingData: 'Statlog (German Credit Data), UCI repository.',
        ethicalConsiderations: 'Sex and age are protected; audited with the four-fifths rule.',
      },
    },
    version: { id: 'v2', version: 2, artifactSha256: ARTIFACT },
    approvals: [
      {
        role: 'ml-engineer',
        approver: 'erin',
        requestDigest: 'f'.repeat(64),
        statement: null,
        approvedAt: NOW,
      },
      {
        role: 'model-validator',
        approver: 'vera',
        requestDigest: 'f'.repeat(64),
        statement: null,
        approvedAt: NOW,
      },
      {
        role: 'compliance-officer',
        approver: 'cora',
        requestDigest: 'f'.repeat(64),
        statement: 'I have read the audit and the rollback plan and sign off.',
        approvedAt: NOW,
      },
    ],
    evaluation: e,
    live: null,
    artifact: { intact: true, problem: null },
    ...overrides,
  };
}

const byGate = (f: GateFacts) => Object.fromEntries(evaluateGates(f).map((g) => [g.gate, g]));

describe('gates', () => {
  it('passes every gate for a fair, approved, intact INITIAL request', () => {
    const gates = evaluateGates(facts());
    expect(gates.map((g) => [g.gate, g.passed])).toEqual([
      ['APPROVALS', true],
      ['FAIRNESS', true],
      ['PERFORMANCE', true],
      ['ROLLBACK_CRITERIA', true],
      ['ROLLOUT_PLAN', true],
      ['MODEL_CARD', true],
      ['ARTIFACT_INTEGRITY', true],
      ['EVALUATION_FRESH', true],
    ]);
    expect(gates[2]?.summary).toBe('no live version to compare with');
  });

  it('names the failing attribute and the groups with the lowest and highest selection rate', () => {
    const unfair = stored(
      [
        attribute('sex', [group('female', 310, 0.539), group('male', 690, 0.786)], 0.686, 0.282),
        fair[1]!,
      ],
      { accuracy: 0.769, rocAuc: 0.829 },
    );
    const sut = fairnessGate(facts({ evaluation: evaluation(unfair) }));
    expect(sut.passed).toBe(false);
    expect(sut.summary).toBe(
      'sex: disparate impact 0.686 below 0.8, equalized odds difference 0.282 above 0.1 (lowest selection rate: female 0.539, highest: male 0.786)',
    );
    const sex = (sut.evidence['attributes'] as { attribute: string }[])[0];
    expect(sex).toMatchObject({
      attribute: 'sex',
      passed: false,
      lowestSelectionRate: { group: 'female', selectionRate: 0.539, count: 310 },
      highestSelectionRate: { group: 'male', selectionRate: 0.786, count: 690 },
    });
  });

  it('fails fairness when a protected attribute was not audited or nothing could be compared', () => {
    const one = stored(
      [attribute('sex', [group('female', 12, 0.5), group('male', 988, 0.7)], null, null)],
      { accuracy: 0.8, rocAuc: 0.8 },
    );
    const sut = fairnessGate(facts({ evaluation: evaluation(one) }));
    expect(sut.passed).toBe(false);
    expect(sut.summary).toContain(
      'age_group: a protected attribute of the model the evaluation did not audit',
    );
    expect(sut.summary).toContain('sex: fewer than two groups of at least 30 rows');
    expect(sut.summary).toContain('disparate impact could not be computed');
  });

  it('compares with the live version on the same dataset within the margin', () => {
    const live = {
      version: 1,
      evaluation: evaluation(stored(fair, { accuracy: 0.788, rocAuc: 0.827 }), { id: 'e0' }),
    };
    const worse = evaluation(stored(fair, { accuracy: 0.769, rocAuc: 0.829 }));
    const sut = performanceGate(facts({ live, evaluation: worse }));
    expect(sut.passed).toBe(false);
    expect(sut.summary).toBe(
      'accuracy 0.769 against live 0.788: worse by 0.019, more than the margin 0.01',
    );
    expect(sut.evidence['sameDataset']).toBe(true);
    const better = evaluation(stored(fair, { accuracy: 0.85, rocAuc: 0.909 }));
    expect(performanceGate(facts({ live, evaluation: better })).passed).toBe(true);
  });

  it('says so when the live version has no evaluation, or only on another dataset', () => {
    const none = performanceGate(facts({ live: { version: 1, evaluation: null } }));
    expect(none.passed).toBe(false);
    expect(none.summary).toMatch(/live version 1 has no successful evaluation/);
    const other = evaluation(stored(fair, { accuracy: 0.78, rocAuc: 0.82 }, 'e'.repeat(64)), {
      id: 'e0',
    });
    const sut = performanceGate(facts({ live: { version: 1, evaluation: other } }));
    expect(sut.passed).toBe(true);
    expect(sut.summary).toMatch(/different datasets/);
  });

  it('counts only approvals of the current digest, by people other than the requester', () => {
    const f = facts();
    const stale = f.approvals.map((a, i) =>
      i === 1 ? { ...a, requestDigest: '0'.repeat(64) } : a,
    );
    const gates = byGate(facts({ approvals: stale }));
    expect(gates['APPROVALS']?.passed).toBe(false);
    expect(gates['APPROVALS']?.summary).toContain('missing approval of model-validator');
    expect(byGate(facts({ approvals: f.approvals.slice(0, 2) }))['APPROVALS']?.summary).toBe(
      'missing approval of compliance-officer',
    );
    const tampered = byGate(facts({ request: { ...f.request, recomputedDigest: '1'.repeat(64) } }));
    expect(tampered['APPROVALS']?.summary).toMatch(/no longer hashes to its digest/);
  });

  it('counts the roles the request needs, as its status was decided on', () => {
    const f = facts();
    const two = { ...f.request, requiredRoles: ['ml-engineer', 'model-validator'] };
    const approved = byGate(facts({ request: two, approvals: f.approvals.slice(0, 2) }));
    expect(approved['APPROVALS']).toMatchObject({
      passed: true,
      evidence: { requiredRoles: ['ml-engineer', 'model-validator'], missingRoles: [] },
    });
    const more = { ...f.request, requiredRoles: [...policy.tiers.HIGH.approvers, 'risk-officer'] };
    expect(byGate(facts({ request: more }))['APPROVALS']?.summary).toBe(
      'missing approval of risk-officer',
    );
  });

  it('fails on a corrupt artifact, a stale or foreign evaluation, and a plan the endpoint outgrew', () => {
    const gates = byGate(
      facts({
        artifact: { intact: false, problem: 'digest mismatch' },
        endpoint: { name: 'credit', liveVersion: 1 },
        evaluation: evaluation(stored(fair, { accuracy: 0.8, rocAuc: 0.83 }), {
          finishedAt: new Date(NOW.getTime() - 31 * 86_400_000),
          modelVersionId: 'v9',
        }),
        live: { version: 1, evaluation: null },
      }),
    );
    expect(gates['ARTIFACT_INTEGRITY']?.summary).toMatch(/does not match/);
    expect(gates['EVALUATION_FRESH']?.summary).toMatch(
      /of another version; evaluation finished 2678400 s ago/,
    );
    expect(gates['ROLLOUT_PLAN']?.summary).toMatch(
      /INITIAL is only for an endpoint's first version/,
    );
    expect(gates['ROLLBACK_CRITERIA']?.passed).toBe(true);
  });

  it('fails an incomplete model card', () => {
    const f = facts();
    const gates = byGate(
      facts({
        model: {
          ...f.model,
          modelCard: { ...f.model.modelCard, limitations: 'None.', outOfScopeUses: [] },
        },
      }),
    );
    expect(gates['MODEL_CARD']?.summary).toBe(
      'limitations has 5 characters, the policy asks 20; no out-of-scope use is named',
    );
  });

  it('gives evidence that is plain JSON with a stable digest', () => {
    const a = digestOf(evaluateGates(facts()));
    const b = digestOf(evaluateGates(facts()));
    expect(a.sha256).toBe(b.sha256);
  });
});
