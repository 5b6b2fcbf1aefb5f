import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { canonicalize } from '../../src/ledger/canonical-json.js';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
  type ScoringModel,
} from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { seedLiveEndpoint } from '../support/registry.js';

interface Figure {
  name: string;
  value: number | null;
  interval: { lower: number | null; upper: number | null } | null;
}
interface Evaluation {
  id: string;
  status: string;
  progress: number;
  error: string | null;
  performance: Figure[];
  fairness: {
    attribute: string;
    passesFourFifths: boolean | null;
    figures: Figure[];
    groups: { group: string; count: number; selectionRate: number; belowMinimumSize: boolean }[];
  }[];
  result: Record<string, unknown> | null;
  resultSha256: string | null;
  policySha256: string;
  timings: Record<(typeof PHASES)[number] | 'totalMs', number> | null;
}

const PHASES = ['readMs', 'inferenceMs', 'metricsMs', 'bootstrapMs', 'storeMs'] as const;

const FIELDS = `id status progress error resultSha256 policySha256 result
  timings { readMs inferenceMs metricsMs bootstrapMs storeMs totalMs }
  performance { name value interval { lower upper } }
  fairness { attribute passesFourFifths figures { name value interval { lower upper } }
             groups { group count selectionRate belowMinimumSize } }`;

const RUN = `mutation($model: String!, $version: Int!, $dataset: ID!, $label: String!,
  $attributes: [String!], $refs: [ReferenceGroupInput!], $bootstrap: BootstrapInput) {
  runEvaluation(model: $model, version: $version, dataset: $dataset, labelColumn: $label,
    protectedAttributes: $attributes, referenceGroups: $refs, bootstrap: $bootstrap) { id status }
}`;

describe('evaluations: performance and fairness measured by Gatehouse itself', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let validator: string;
  let auditor: string;
  let dataset: string;

  async function upload(name: string, bytes: Uint8Array): Promise<string> {
    const response = await fetch(`${app.url}/v1/datasets?name=${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${validator}`, 'content-type': 'text/csv' },
      body: bytes,
    });
    const body = (await response.json()) as { id: string };
    if (!response.ok) throw new Error(JSON.stringify(body));
    return body.id;
  }

  async function run(variables: Record<string, unknown>): Promise<Evaluation> {
    const r = await app.gql<{ runEvaluation: { id: string } }>(
      RUN,
      { model: 'credit-risk', dataset, label: 'good_credit', ...variables },
      validator,
    );
    if (r.errors || !r.data) throw new Error(JSON.stringify(r.errors));
    for (let i = 0; i < 600; i++) {
      const e = await app.gql<{ evaluation: Evaluation }>(
        `query($id: ID!) { evaluation(id: $id) { ${FIELDS} } }`,
        { id: r.data.runEvaluation.id },
        auditor,
      );
      const evaluation = e.data?.evaluation;
      if (evaluation && !['QUEUED', 'RUNNING'].includes(evaluation.status)) return evaluation;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the evaluation did not finish');
  }

  const figure = (figures: Figure[], name: string) => figures.find((f) => f.name === name);

  function scores(model: ScoringModel): number[] {
    const index = model.featureNames.map((n) => models.data.featureNames.indexOf(n));
    return model.predict(models.data.X.map((row) => Float32Array.from(index, (i) => row[i] ?? 0)));
  }

  beforeAll(async () => {
    models = buildGermanCreditModels();
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    validator = await app.token('vera', 'model-validator');
    auditor = await app.token('audrey', 'auditor');
    await seedLiveEndpoint(app, {
      model: 'credit-risk',
      endpoint: 'credit',
      versions: [models.fair, models.unfair, models.faulty.nan],
    });
    dataset = await upload('german-credit', readFileSync(defaultGermanCreditPath()));
  }, 120_000);

  afterAll(async () => {
    await app.close();
  });

  it('shows the fair version passing the four-fifths rule on sex and age group', async () => {
    const e = await run({ version: 1, bootstrap: { resamples: 50, seed: 7 } });
    expect(e.status).toBe('SUCCEEDED');
    expect(e.progress).toBe(1);
    expect(e.fairness.map((a) => [a.attribute, a.passesFourFifths])).toEqual([
      ['sex', true],
      ['age_group', true],
    ]);
    // Independently: accuracy from the model-builder's own arithmetic of the same model.
    const s = scores(models.fair);
    const correct = s.filter((p, i) => (p >= 0.5 ? 1 : 0) === models.data.y[i]).length;
    expect(figure(e.performance, 'accuracy')?.value).toBeCloseTo(correct / 1000, 10);
    // And disparate impact on sex from selection rates counted here.
    const rate = (group: string) => {
      const rows = models.data.sex.map((g, i) => (g === group ? i : -1)).filter((i) => i >= 0);
      return rows.filter((i) => (s[i] ?? 0) >= 0.5).length / rows.length;
    };
    const di = Math.min(rate('female'), rate('male')) / Math.max(rate('female'), rate('male'));
    const sex = e.fairness.find((a) => a.attribute === 'sex');
    expect(figure(sex?.figures ?? [], 'disparateImpact')?.value).toBeCloseTo(di, 10);
    expect(sex?.groups.map((g) => g.group).sort()).toEqual(['female', 'male']);
    const auc = figure(e.performance, 'rocAuc');
    expect(auc?.value).toBeGreaterThan(0.7);
    expect(auc?.interval?.lower).toBeLessThan(auc?.value ?? 0);
    expect(auc?.interval?.upper).toBeGreaterThan(auc?.value ?? 1);
  });

  it('shows the unfair version failing it, and records the digests in the ledger', async () => {
    const e = await run({ version: 2 });
    expect(e.status).toBe('SUCCEEDED');
    expect(e.fairness.some((a) => a.passesFourFifths === false)).toBe(true);
    expect(e.resultSha256).toBe(
      // Re-created in this realm: canonicalize accepts plain objects of its own realm only.
      createHash('sha256')
        .update(canonicalize(JSON.parse(JSON.stringify(e.result))), 'utf8')
        .digest('hex'),
    );
    let events: { payload: Record<string, unknown> }[] = [];
    for (let i = 0; i < 50 && events.length === 0; i++) {
      const r = await app.gql<{ ledgerEvents: { events: { payload: Record<string, unknown> }[] } }>(
        `{ ledgerEvents(type: "evaluation.completed", subject: "model:credit-risk@2") { events { payload } } }`,
        {},
        auditor,
      );
      events = r.data?.ledgerEvents.events ?? [];
      if (events.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(events[0]?.payload).toMatchObject({
      evaluationId: e.id,
      resultSha256: e.resultSha256,
      artifactSha256: (e.result as { artifactSha256: string }).artifactSha256,
      datasetSha256: createHash('sha256')
        .update(readFileSync(defaultGermanCreditPath()))
        .digest('hex'),
      policySha256: e.policySha256,
    });
  });

  it('gives the same intervals for the same seed, others for another', async () => {
    const a = await run({ version: 1, bootstrap: { resamples: 50, seed: 11 } });
    const b = await run({ version: 1, bootstrap: { resamples: 50, seed: 11 } });
    const c = await run({ version: 1, bootstrap: { resamples: 50, seed: 12 } });
    expect(a.performance).toEqual(b.performance);
    expect(a.fairness).toEqual(b.fairness);
    expect(a.performance).not.toEqual(c.performance);
  });

  it('times each phase beside the result, never in it nor in its digest', async () => {
    const digest = (result: unknown) =>
      createHash('sha256')
        .update(canonicalize(JSON.parse(JSON.stringify(result))), 'utf8')
        .digest('hex');
    const input = { version: 1, bootstrap: { resamples: 30, seed: 5 } };
    const a = await run(input);
    const b = await run(input);
    const plain = await run({ version: 1 });
    for (const e of [a, b, plain]) {
      expect(e.status).toBe('SUCCEEDED');
      const timings = e.timings;
      if (timings === null) throw new Error(`evaluation ${e.id} has no timings`);
      for (const phase of [...PHASES, 'totalMs'] as const) {
        expect([phase, Number.isFinite(timings[phase]) && timings[phase] >= 0]).toEqual([
          phase,
          true,
        ]);
      }
      // Disjoint spans of the run: together no longer than it.
      const parts = PHASES.reduce((sum, phase) => sum + timings[phase], 0);
      expect(parts).toBeLessThanOrEqual(timings.totalMs + 1e-6);
      expect(timings.inferenceMs).toBeGreaterThan(0);
      expect(JSON.stringify(e.result)).not.toMatch(/timings|Ms"/);
    }
    expect(a.timings?.bootstrapMs).toBeGreaterThan(0);
    expect(plain.timings?.bootstrapMs).toBe(0);
    // The result is the same data's figures, tied to its own evaluation id and nothing else.
    expect(a.resultSha256).toBe(digest(a.result));
    expect(b.resultSha256).toBe(digest(b.result));
    expect(b.resultSha256).toBe(digest({ ...a.result, evaluationId: b.id }));
    const r = await app.gql<{ ledgerEvents: { events: { payload: Record<string, unknown> }[] } }>(
      `{ ledgerEvents(type: "evaluation.completed", subject: "model:credit-risk@1") { events { payload } } }`,
      {},
      auditor,
    );
    const events = r.data?.ledgerEvents.events ?? [];
    expect(events.map((e) => e.payload['evaluationId'])).toEqual(
      expect.arrayContaining([a.id, b.id, plain.id]),
    );
    expect(JSON.stringify(events)).not.toMatch(/timings|Ms"/);
  });

  it('compares groups with a named reference group and keeps the drift baseline', async () => {
    const e = await run({
      version: 1,
      attributes: ['sex'],
      refs: [{ attribute: 'sex', group: 'male' }],
    });
    const fairness = (
      e.result as {
        classification: {
          fairness: {
            referenceGroup: string;
            groups: { group: string; vsReference: { selectionRateRatio: number } | null }[];
          }[];
        };
      }
    ).classification.fairness;
    expect(fairness[0]?.referenceGroup).toBe('male');
    expect(
      fairness[0]?.groups.find((g) => g.group === 'female')?.vsReference?.selectionRateRatio,
    ).toBeGreaterThan(0);
    const drift = (
      e.result as {
        drift: {
          score: { edges: number[]; proportions: number[] };
          features: Record<string, unknown>;
        };
      }
    ).drift;
    expect(drift.score.edges.length).toBeGreaterThan(0);
    expect(drift.score.proportions.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 10);
    // jsonb keeps members in its own order: compare as sets.
    expect(Object.keys(drift.features).sort()).toEqual([...models.fair.featureNames].sort());
  });

  it('refuses a request that does not fit the dataset, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ version: 1, label: 'nope' }, 'labelColumn'],
      [{ version: 1, label: 'sex' }, 'labelColumn'],
      [{ version: 1, attributes: ['sex', 'religion'] }, 'protectedAttributes[1]'],
      [
        { version: 1, refs: [{ attribute: 'religion', group: 'x' }] },
        'referenceGroups[0].attribute',
      ],
      [{ version: 1, bootstrap: { resamples: 5, seed: 1 } }, 'bootstrap.resamples'],
      [{ version: 1, dataset: 'not-an-id' }, 'dataset'],
    ];
    for (const [variables, field] of cases) {
      const r = await app.gql(
        RUN,
        { model: 'credit-risk', dataset, label: 'good_credit', ...variables },
        validator,
      );
      expect([field, r.errors?.[0]?.extensions]).toEqual([
        field,
        expect.objectContaining({
          code: 'BAD_USER_INPUT',
          details: expect.objectContaining({ field }),
        }),
      ]);
    }
    const missing = await app.gql(
      RUN,
      { model: 'credit-risk', version: 9, dataset, label: 'good_credit' },
      validator,
    );
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const forbidden = await app.gql(
      RUN,
      { model: 'credit-risk', version: 1, dataset, label: 'good_credit' },
      auditor,
    );
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('fails, naming the row, on a label that is not 0 or 1 and on a model that returns NaN', async () => {
    const lines = readFileSync(defaultGermanCreditPath(), 'utf8').trimEnd().split('\n');
    const header = (lines[0] ?? '').split(',');
    const label =
      header.indexOf('"good_credit"') >= 0
        ? header.indexOf('"good_credit"')
        : header.indexOf('good_credit');
    const row = (lines[5] ?? '').split(',');
    row[label] = '2';
    lines[5] = row.join(',');
    const bad = await upload('bad-labels', Buffer.from(lines.join('\n') + '\n'));
    const e = await run({ version: 1, dataset: bad });
    expect(e.status).toBe('FAILED');
    expect(e.error).toMatch(/data row 5, column good_credit: "2" is not a binary label/);
    const nan = await run({ version: 3 });
    expect(nan.status).toBe('FAILED');
    expect(nan.error).toMatch(/row/);
  });

  it('keeps a finished evaluation immutable', async () => {
    const client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    try {
      await expect(client.query(`UPDATE evaluations SET error = 'x'`)).rejects.toThrow(/evidence/);
      await expect(
        client.query(`UPDATE evaluations SET timings = '{}' WHERE timings IS NOT NULL`),
      ).rejects.toThrow(/evidence/);
      await expect(client.query(`DELETE FROM evaluations`)).rejects.toThrow(/evidence/);
    } finally {
      await client.end();
    }
  });
});
