import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { canonicalize } from '../ledger/canonical-json.js';
import { requestDigest, type RequestContent } from './request-digest.js';
import { checkEvaluation, checkId } from './request-rules.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const version = { id: 'v2', label: 'credit-risk@2' };
const evaluation = {
  id: 'e1',
  modelVersionId: 'v2',
  status: 'SUCCEEDED',
  finishedAt: new Date(NOW.getTime() - 10_000),
  resultSha256: 'a'.repeat(64),
};

describe('request rules', () => {
  it('accepts a fresh successful evaluation of the version', () => {
    expect(checkEvaluation(evaluation, version, 60, NOW)).toEqual({ resultSha256: 'a'.repeat(64) });
  });

  it('refuses an evaluation of another version, an unfinished one and an expired one', () => {
    expect(() =>
      checkEvaluation({ ...evaluation, modelVersionId: 'v1' }, version, 60, NOW),
    ).toThrow('evaluationId: evaluation e1 is not of credit-risk@2');
    expect(() =>
      checkEvaluation({ ...evaluation, status: 'RUNNING', finishedAt: null }, version, 60, NOW),
    ).toThrow(/is RUNNING: only a successful evaluation/);
    expect(() => checkEvaluation(evaluation, version, 5, NOW)).toThrow(
      'evaluationId: evaluation e1 finished 10 s ago and has expired: the policy accepts evaluations up to 5 s old; run a new one',
    );
  });

  it('refuses ids that are not UUIDs before they reach the database', () => {
    expect(() => checkId('id', 'x')).toThrow('id: must be a UUID');
    expect(checkId('id', '0b5f5c2e-8a51-4c1e-9d3c-1f2e3d4c5b6a')).toBe(
      '0b5f5c2e-8a51-4c1e-9d3c-1f2e3d4c5b6a',
    );
  });
});

describe('request digest', () => {
  const content: RequestContent = {
    id: '0b5f5c2e-8a51-4c1e-9d3c-1f2e3d4c5b6a',
    endpoint: 'credit',
    model: 'credit-risk',
    riskTier: 'HIGH',
    version: 2,
    artifactSha256: 'c'.repeat(64),
    liveVersion: null,
    evaluation: { id: 'e1', resultSha256: 'a'.repeat(64), datasetSha256: 'd'.repeat(64) },
    strategy: 'INITIAL',
    plan: {},
    rollbackCriteria: {
      maxErrorRate: { value: 0.01, window: { minRequests: 500, seconds: 600 } },
      rationale: 'Errors above one percent overwhelm the underwriters.',
    },
    successCriteria: null,
    justification: 'First credit-risk model for the underwriting queue.',
    requestedBy: 'dana',
    requestedAt: NOW.toISOString(),
    policySha256: 'f'.repeat(64),
  };

  it('is the SHA-256 of the RFC 8785 form, whatever the key order', () => {
    const sut = requestDigest(content);
    const reordered = Object.fromEntries(Object.entries(content).reverse()) as RequestContent;
    expect(requestDigest(reordered).sha256).toBe(sut.sha256);
    expect(sut.canonical).toBe(canonicalize(content));
    expect(sut.sha256).toBe(createHash('sha256').update(sut.canonical).digest('hex'));
    expect(sut.canonical.startsWith('{"artifactSha256":')).toBe(true);
  });

  it('changes with anything an approver approves', () => {
    const base = requestDigest(content).sha256;
    expect(
      requestDigest({ ...content, justification: `${content.justification}!` }).sha256,
    ).not.toBe(base);
    expect(
      requestDigest({
        ...content,
        rollbackCriteria: {
          ...content.rollbackCriteria,
          maxErrorRate: { value: 0.02, window: { minRequests: 500, seconds: 600 } },
        },
      }).sha256,
    ).not.toBe(base);
  });
});
