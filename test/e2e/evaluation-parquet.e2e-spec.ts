import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { germanCreditParquet, PARQUET } from '../support/parquet.js';
import { registerVersion, seedLiveEndpoint } from '../support/registry.js';

interface Evaluation {
  status: string;
  error: string | null;
  performance: unknown[];
  fairness: unknown[];
  result: { drift?: unknown; regression?: unknown; classification?: unknown } | null;
}

const FIELDS = `status error result
  performance { name value interval { lower upper } }
  fairness { attribute passesFourFifths figures { name value interval { lower upper } }
             groups { group count selectionRate belowMinimumSize } }`;

/**
 * One evaluation, three ways to the same rows: the German credit CSV (read from its columnar
 * file), the same data sent as Parquet in other column types (its own columnar file), and the
 * CSV read as text, as a dataset uploaded before columns were stored is. Every figure must be
 * the same, to the last bit.
 */
describe('evaluations over a Parquet upload and over the CSV', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let validator: string;
  let auditor: string;
  const datasets: Record<'csv' | 'parquet' | 'csvText', string> = {
    csv: '',
    parquet: '',
    csvText: '',
  };

  async function upload(name: string, bytes: Uint8Array, contentType: string): Promise<string> {
    const response = await fetch(`${app.url}/v1/datasets?name=${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${validator}`, 'content-type': contentType },
      body: new Uint8Array(bytes),
    });
    const body = (await response.json()) as { id: string };
    if (!response.ok) throw new Error(JSON.stringify(body));
    return body.id;
  }

  async function run(dataset: string, variables: Record<string, unknown>): Promise<Evaluation> {
    const r = await app.gql<{ runEvaluation: { id: string } }>(
      `mutation($model: String!, $version: Int!, $dataset: ID!, $label: String!,
        $attributes: [String!], $bootstrap: BootstrapInput) {
        runEvaluation(model: $model, version: $version, dataset: $dataset, labelColumn: $label,
          protectedAttributes: $attributes, bootstrap: $bootstrap) { id }
      }`,
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

  /** What must not depend on how the rows were stored: every figure and the drift baseline. */
  function figures(e: Evaluation) {
    expect([e.status, e.error]).toEqual(['SUCCEEDED', null]);
    return {
      performance: e.performance,
      fairness: e.fairness,
      drift: e.result?.drift,
      regression: e.result?.regression,
      classification: e.result?.classification,
    };
  }

  beforeAll(async () => {
    models = buildGermanCreditModels();
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    validator = await app.token('vera', 'model-validator');
    auditor = await app.token('audrey', 'auditor');
    await seedLiveEndpoint(app, {
      model: 'credit-risk',
      endpoint: 'credit',
      versions: [models.fair, models.unfair, models.trees],
    });
    // The MLP's score taken as a regression of the label: exercises numeric labels.
    await registerVersion(
      app,
      await app.token('dana', 'data-scientist'),
      'credit-risk',
      models.mlp,
      {
        task: 'REGRESSION',
      },
    );
    const csv = readFileSync(defaultGermanCreditPath());
    datasets.csv = await upload('german-credit', csv, 'text/csv');
    datasets.parquet = await upload(
      'german-credit',
      germanCreditParquet({ codec: 'ZSTD', rowGroupSize: 150 }),
      PARQUET,
    );
    datasets.csvText = await upload('german-credit-as-text', csv, 'text/csv');
    const client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    try {
      await client.query('UPDATE datasets SET columnar_sha256 = NULL WHERE id = $1', [
        datasets.csvText,
      ]);
    } finally {
      await client.end();
    }
  }, 120_000);

  afterAll(async () => {
    await app.close();
  });

  it.each([
    ['the fair version', { version: 1, bootstrap: { resamples: 50, seed: 7 } }],
    ['the unfair version', { version: 2 }],
    ['the gradient-boosted trees', { version: 3, bootstrap: { resamples: 30, seed: 3 } }],
    ['a regression', { version: 4, attributes: ['sex', 'age_group'] }],
  ])('gives the same figures for %s', async (_name, variables) => {
    const csv = figures(await run(datasets.csv, variables));
    expect(csv.performance.length).toBeGreaterThan(0);
    expect(figures(await run(datasets.parquet, variables))).toEqual(csv);
    expect(figures(await run(datasets.csvText, variables))).toEqual(csv);
  });
});
