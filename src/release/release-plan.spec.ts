import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseReleaseFile, type ReleaseFile } from './release-file.js';
import {
  fieldPath,
  planRelease,
  serverPolicy,
  type LocalFacts,
  type ServerState,
} from './release-plan.js';

const root = join(import.meta.dirname, '../..');
const policy = serverPolicy(
  ['roles.yaml', 'promotion.yaml'].map((name) => ({
    name,
    sha256: name,
    content: readFileSync(join(root, 'policies', name), 'utf8'),
  })),
);
const example = parseReleaseFile(
  'gatehouse.yaml',
  readFileSync(join(root, 'test/fixtures/release/gatehouse.yaml'), 'utf8'),
).release;

const facts: LocalFacts = {
  artifactSha256: 'a'.repeat(64),
  featureColumns: ['duration', 'amount'],
  inputName: undefined,
  metadata: {},
  datasetName: 'german-credit',
  datasetSha256: 'd'.repeat(64),
};

const empty: ServerState = {
  model: null,
  endpoint: null,
  artifact: null,
  datasets: { items: [] },
  pending: { items: [] },
  approved: { items: [] },
  rollingOut: { items: [] },
};

const registered: ServerState = {
  ...empty,
  model: {
    name: example.model.name,
    riskTier: example.model.riskTier,
    owner: example.model.owner,
    protectedAttributes: [...example.model.protectedAttributes],
    modelCard: {
      ...example.model.modelCard,
      outOfScopeUses: [...example.model.modelCard.outOfScopeUses],
    },
    versions: [
      {
        version: 1,
        artifactSha256: facts.artifactSha256,
        featureColumns: [...facts.featureColumns],
        task: 'BINARY_CLASSIFICATION',
        inputName: 'features',
        scoreOutput: 'score',
        scoreIndex: 0,
        threshold: null,
        description: '',
      },
    ],
  },
  artifact: { sha256: facts.artifactSha256 },
  endpoint: {
    name: 'credit',
    model: example.model.name,
    liveVersion: null,
    candidateVersion: null,
  },
  datasets: { items: [{ id: 'ds-1', sha256: facts.datasetSha256, rows: 1000 }] },
};

const promotion = (version: number, status: 'PENDING' | 'APPROVED' | 'ROLLING_OUT') => ({
  id: `p-${version}`,
  status,
  model: example.model.name,
  version,
  endpoint: 'credit',
  strategy: 'INITIAL' as const,
  requestDigest: 'x',
  missingRoles: [],
  createdAt: '2026-12-01T00:00:00Z',
  rollout: null,
});

function withRelease(change: (r: ReleaseFile) => ReleaseFile): ReleaseFile {
  return change(structuredClone(example));
}

describe('planning a release', () => {
  it('makes everything on an empty service, in order, with no problem', () => {
    const plan = planRelease(example, facts, empty, policy, null);
    expect(plan.problems).toEqual([]);
    expect(plan.steps.map((s) => `${s.subject}:${s.action}`)).toEqual([
      'model:register',
      'artifact:upload',
      'version:register',
      'dataset:upload',
      'evaluation:run',
      'endpoint:create',
      'promotion:request',
    ]);
  });

  it('keeps what is there, reuses a fresh evaluation and the open request for the version', () => {
    const state = { ...registered, pending: { items: [promotion(1, 'PENDING')] } };
    const evaluation = {
      id: 'e-1',
      status: 'SUCCEEDED',
      labelColumn: 'good_credit',
      protectedAttributes: ['age_group', 'sex'],
      finishedAt: new Date(Date.now() - 3600_000).toISOString(),
    };
    const plan = planRelease(example, facts, state, policy, evaluation);
    expect(plan.problems).toEqual([]);
    expect(plan.steps.every((s) => s.action === 'keep')).toBe(true);
    expect(plan).toMatchObject({ version: 1, datasetId: 'ds-1', evaluationId: 'e-1' });
    expect(plan.promotion?.id).toBe('p-1');

    // Another label, or older than half the tier's maximum age: evaluated again.
    for (const stale of [
      { ...evaluation, labelColumn: 'other' },
      { ...evaluation, finishedAt: new Date(Date.now() - 20 * 86_400_000).toISOString() },
      { ...evaluation, status: 'FAILED' },
    ])
      expect(planRelease(example, facts, state, policy, stale).evaluationId).toBeNull();
  });

  it('has nothing to request when the version is live', () => {
    const state = { ...registered, endpoint: { ...registered.endpoint!, liveVersion: 1 } };
    const plan = planRelease(example, facts, state, policy, null);
    expect(plan.live).toBe(true);
    expect(plan.steps.at(-1)).toMatchObject({ subject: 'promotion', action: 'keep' });
  });

  it('names conflicts with the service: a model that differs, another open request, another model', () => {
    const changed = withRelease((r) => ({ ...r, model: { ...r.model, riskTier: 'MEDIUM' } }));
    expect(planRelease(changed, facts, registered, policy, null).problems).toContainEqual(
      expect.objectContaining({ kind: 'conflict', path: ['model', 'riskTier'] }),
    );
    const other = { ...registered, approved: { items: [promotion(7, 'APPROVED')] } };
    expect(planRelease(example, facts, other, policy, null).problems).toContainEqual(
      expect.objectContaining({ kind: 'conflict', path: ['endpoint', 'name'] }),
    );
    const columns = { ...facts, featureColumns: ['amount', 'duration'] };
    expect(planRelease(example, columns, registered, policy, null).problems).toContainEqual(
      expect.objectContaining({ kind: 'conflict', path: ['candidate', 'featureColumns'] }),
    );
    const foreign = { ...registered, endpoint: { ...registered.endpoint!, model: 'fraud' } };
    expect(planRelease(example, facts, foreign, policy, null).problems).toContainEqual(
      expect.objectContaining({ kind: 'conflict', path: ['endpoint', 'name'] }),
    );
  });

  it('judges the release by the server’s policy, at the members at fault', () => {
    const bad = withRelease((r) => ({
      ...r,
      model: { ...r.model, modelCard: { ...r.model.modelCard, limitations: 'Few rows.' } },
      promotion: {
        ...r.promotion,
        justification: 'ok ok ok ok ok ok ok ok ok ok ok ok',
        rollbackCriteria: { rationale: r.promotion.rollbackCriteria.rationale },
      },
    }));
    const paths = planRelease(bad, facts, empty, policy, null).problems.map((p) =>
      p.path.join('.'),
    );
    expect(paths).toContain('model.modelCard.limitations');
    expect(paths).toContain('promotion.justification');
    expect(paths.some((p) => p.startsWith('promotion.rollbackCriteria'))).toBe(true);

    // Once live, the HIGH tier asks for a staged strategy.
    const live = { ...registered, endpoint: { ...registered.endpoint!, liveVersion: 1 } };
    const next = { ...facts, artifactSha256: 'b'.repeat(64) };
    expect(
      planRelease(example, next, live, policy, null).problems.map((p) => p.path.join('.')),
    ).toContain('promotion.strategy');
  });

  it('reads field names as paths', () => {
    expect(fieldPath('modelCard.outOfScopeUses[1]')).toEqual(['modelCard', 'outOfScopeUses', 1]);
    expect(fieldPath('')).toEqual([]);
  });
});
