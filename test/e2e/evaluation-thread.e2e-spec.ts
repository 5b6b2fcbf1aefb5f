import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { BlobStore } from '../../src/blobs/blob-store.js';
import { serviceClient, type ServiceClient } from '../support/app.js';
import { freePort, runCli, startServe, type ServingProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { germanCreditParquet, PARQUET } from '../support/parquet.js';
import { registerModel, registerVersion } from '../support/registry.js';

interface Evaluation {
  status: string;
  error: string | null;
  performance: { name: string; value: number | null }[];
  fairness: { attribute: string; figures: { name: string; value: number | null }[] }[];
}

interface Uploaded {
  id: string;
  columnarSha256: string;
}

/**
 * Evaluations as the built service runs them: the dataset's columns are read on a thread of
 * their own (under Jest the in-process app reads them in its own thread, see
 * columnar-read-thread.ts), and the chunks, the group dictionaries and every kind of failure
 * cross back to the service.
 */
describe('evaluations reading dataset columns on their own thread (gatehouse serve)', () => {
  let dataDir: string;
  let database: TestDatabase;
  let server: ServingProcess;
  let service: ServiceClient;
  let models: GermanCreditModels;
  let token: string;
  const csv = readFileSync(defaultGermanCreditPath(), 'utf8');

  async function upload(name: string, body: Uint8Array, type: string): Promise<Uploaded> {
    const response = await fetch(`${service.url}/v1/datasets?name=${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': type },
      body: new Uint8Array(body),
    });
    const answer = (await response.json()) as Uploaded;
    if (!response.ok) throw new Error(JSON.stringify(answer));
    return answer;
  }

  async function evaluate(dataset: string): Promise<Evaluation> {
    const r = await service.gql<{ runEvaluation: { id: string } }>(
      `mutation($dataset: ID!) { runEvaluation(model: "credit-risk", version: 1, dataset: $dataset,
        labelColumn: "good_credit") { id } }`,
      { dataset },
      token,
    );
    if (r.errors || !r.data) throw new Error(JSON.stringify(r.errors));
    for (;;) {
      const e = await service.gql<{ evaluation: Evaluation }>(
        `query($id: ID!) { evaluation(id: $id) { status error performance { name value }
          fairness { attribute figures { name value } } } }`,
        { id: r.data.runEvaluation.id },
        token,
      );
      const evaluation = e.data?.evaluation;
      if (evaluation && !['QUEUED', 'RUNNING'].includes(evaluation.status)) return evaluation;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  beforeAll(async () => {
    models = buildGermanCreditModels();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-evaluation-thread-'));
    database = await createTestDatabase();
    const env = { GATEHOUSE_DATA_DIR: dataDir };
    const issued = await runCli(['token', '--sub', 'ci', '--role', 'release-pipeline'], env);
    expect(issued.code).toBe(0);
    token = issued.stdout.trim();
    server = await startServe({
      ...env,
      DATABASE_URL: database.url,
      GATEHOUSE_PORT: String(await freePort()),
      // Several chunks a file, so that chunks and dictionaries cross one after another.
      GATEHOUSE_BATCH_CHUNK_ROWS: '128',
    });
    service = serviceClient(server.url);
    await registerModel(service, token, 'credit-risk');
    await registerVersion(service, token, 'credit-risk', models.fair);
  }, 120_000);

  afterAll(async () => {
    await server.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('gives the figures counted here, through a CSV and a Parquet upload alike', async () => {
    const fromCsv = await evaluate((await upload('credit-csv', Buffer.from(csv), 'text/csv')).id);
    expect([fromCsv.status, fromCsv.error]).toEqual(['SUCCEEDED', null]);
    // Independently: accuracy and the selection rates by sex, from the model-builder's own
    // arithmetic of the same model over the same rows.
    const index = models.fair.featureNames.map((n) => models.data.featureNames.indexOf(n));
    const scores = models.fair.predict(
      models.data.X.map((row) => Float32Array.from(index, (i) => row[i] ?? 0)),
    );
    const correct = scores.filter((p, i) => (p >= 0.5 ? 1 : 0) === models.data.y[i]).length;
    const accuracy = fromCsv.performance.find((f) => f.name === 'accuracy')?.value;
    expect(accuracy).toBeCloseTo(correct / 1000, 10);
    const rate = (group: string) => {
      const rows = models.data.sex.map((g, i) => (g === group ? i : -1)).filter((i) => i >= 0);
      return rows.filter((i) => (scores[i] ?? 0) >= 0.5).length / rows.length;
    };
    const di = Math.min(rate('female'), rate('male')) / Math.max(rate('female'), rate('male'));
    const sex = fromCsv.fairness.find((a) => a.attribute === 'sex');
    expect(sex?.figures.find((f) => f.name === 'disparateImpact')?.value).toBeCloseTo(di, 10);

    const parquet = await upload('credit-parquet', germanCreditParquet(), PARQUET);
    expect(await evaluate(parquet.id)).toEqual(fromCsv);
  }, 120_000);

  it('fails an evaluation at the row the reading thread names, and on a columnar file altered on disk', async () => {
    // Row 7's first feature emptied: the column is still numeric (a missing value), so the
    // evaluation is accepted, and the reader stops at that row.
    const lines = csv.split('\n');
    const header = (lines[0] ?? '').split(',');
    const feature = models.fair.featureNames[0] ?? '';
    const at = header.indexOf(`"${feature}"`);
    expect(at).toBeGreaterThanOrEqual(0);
    const cells = (lines[7] ?? '').split(',');
    cells[at] = '';
    lines[7] = cells.join(',');
    const gap = await upload('credit-gap', Buffer.from(lines.join('\n')), 'text/csv');
    const failed = await evaluate(gap.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe(
      `dataset: row 7, column "${feature}": the value is empty; a feature column needs a number in every row`,
    );

    const altered = await upload('credit-altered', Buffer.from(`${csv}\n`), 'text/csv');
    const path = new BlobStore(dataDir).pathOf(altered.columnarSha256);
    const bytes = readFileSync(path);
    // A byte near the end, in the last record batch: the parse succeeds, the digest does not.
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 400] = (flipped[bytes.length - 400] ?? 0) ^ 0xff;
    writeFileSync(path, flipped);
    const corrupt = await evaluate(altered.id);
    expect(corrupt.status).toBe('FAILED');
    expect(corrupt.error).toBe(
      `blob ${altered.columnarSha256} no longer matches its digest; refusing to use it`,
    );
  }, 120_000);
});
