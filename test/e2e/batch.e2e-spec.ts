import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  slowModel,
  type GermanCreditModels,
  type ScoringModel,
} from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createEndpoint, seedLiveEndpoint } from '../support/registry.js';

interface Job {
  id: string;
  status: string;
  rowsTotal: number;
  rowsDone: number;
  progress: number;
  outputSha256: string | null;
  output: string | null;
  error: string | null;
}

const CSV = readFileSync(defaultGermanCreditPath());

describe('batch inference jobs', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let scientist: string;
  let engineer: string;
  let auditor: string;
  let dataset: { id: string; rows: number };

  // The caller names the response shape it expects.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  async function api<T>(
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text.startsWith('{') ? JSON.parse(text) : text) as T };
  }

  async function uploadDataset(
    name: string,
    bytes: Uint8Array,
  ): Promise<{ id: string; rows: number }> {
    const response = await fetch(`${app.url}/v1/datasets?name=${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${scientist}`, 'content-type': 'text/csv' },
      body: bytes,
    });
    const body = (await response.json()) as { id: string; rows: number };
    if (!response.ok) throw new Error(`dataset upload: ${response.status} ${JSON.stringify(body)}`);
    return body;
  }

  async function finished(id: string): Promise<Job> {
    for (let i = 0; i < 600; i++) {
      const { body } = await api<Job>('GET', `/v1/batch-jobs/${id}`, auditor);
      if (!['QUEUED', 'RUNNING'].includes(body.status)) return body;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`batch job ${id} did not finish`);
  }

  function expectedScores(model: ScoringModel): number[] {
    const all = models.data.featureNames;
    const index = model.featureNames.map((n) => all.indexOf(n));
    return model.predict(models.data.X.map((row) => Float32Array.from(index, (i) => row[i] ?? 0)));
  }

  async function ledger(
    type: string,
  ): Promise<{ subject: string; payload: Record<string, unknown> }[]> {
    const r = await app.gql<{
      ledgerEvents: { events: { subject: string; payload: Record<string, unknown> }[] };
    }>(
      `query($type: String) { ledgerEvents(type: $type, limit: 1000) { events { subject payload } } }`,
      { type },
      auditor,
    );
    return r.data?.ledgerEvents.events ?? [];
  }

  /** The events of a type, once one is about `subject`: a job's end is sealed just after it commits. */
  async function ledgerWith(
    type: string,
    subject: string,
  ): Promise<{ subject: string; payload: Record<string, unknown> }[]> {
    for (let i = 0; i < 50; i++) {
      const events = await ledger(type);
      if (events.some((e) => e.subject === subject)) return events;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return ledger(type);
  }

  beforeAll(async () => {
    models = buildGermanCreditModels();
    app = await startTestApp({
      GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
      GATEHOUSE_BATCH_CHUNK_ROWS: '128',
    });
    scientist = await app.token('dana', 'data-scientist');
    engineer = await app.token('erin', 'ml-engineer');
    auditor = await app.token('audrey', 'auditor');
    await seedLiveEndpoint(app, {
      model: 'credit-risk',
      endpoint: 'credit',
      versions: [
        models.fair,
        models.mlp,
        // About half a second per chunk of 128 rows: slow enough to cancel half-way.
        slowModel(models.fair, { iterations: 200 }),
        models.faulty.erroring,
        models.faulty.nan,
      ],
    });
    dataset = await uploadDataset('german-credit', CSV);
  }, 120_000);

  afterAll(async () => {
    await app.close();
  });

  it('scores a dataset through an endpoint’s live version into a content-addressed CSV', async () => {
    const created = await api<Job>('POST', '/v1/batch-jobs', engineer, {
      endpoint: 'credit',
      datasetId: dataset.id,
    });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ status: 'QUEUED', rowsTotal: 1000, rowsDone: 0 });
    const job = await finished(created.body.id);
    expect(job).toMatchObject({ status: 'SUCCEEDED', rowsDone: 1000, progress: 1, error: null });

    const response = await fetch(`${app.url}${job.output ?? ''}`, {
      headers: { authorization: `Bearer ${auditor}` },
    });
    expect(response.status).toBe(200);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(job.outputSha256);
    const [header, ...lines] = bytes.toString('utf8').trimEnd().split('\n');
    expect(header).toBe('row,score,decision');
    expect(lines).toHaveLength(1000);
    const expected = expectedScores(models.fair);
    lines.forEach((line, i) => {
      const [row, score, decision] = line.split(',').map(Number);
      expect(row).toBe(i + 1);
      expect(score).toBeCloseTo(expected[i] ?? Number.NaN, 5);
      expect(decision).toBe((score ?? 0) >= 0.5 ? 1 : 0);
    });

    const [completed] = await ledgerWith('batch.completed', `batch:${job.id}`);
    expect(completed).toMatchObject({
      subject: `batch:${job.id}`,
      payload: { model: 'credit-risk', version: 1, rows: 1000, outputSha256: job.outputSha256 },
    });
    expect((await ledger('batch.requested')).map((e) => e.subject)).toContain(`batch:${job.id}`);
  });

  it('scores a model version named directly, in bounded chunks across a larger file', async () => {
    // 20 copies of the data: 20,000 rows, 157 chunks of 128 rows.
    const text = CSV.toString('utf8').trimEnd().split('\n');
    const big =
      [text[0], ...Array.from({ length: 20 }, () => text.slice(1)).flat()].join('\n') + '\n';
    const large = await uploadDataset('german-credit-x20', Buffer.from(big));
    expect(large.rows).toBe(20_000);
    const created = await api<Job>('POST', '/v1/batch-jobs', scientist, {
      model: 'credit-risk',
      version: 2,
      datasetId: large.id,
    });
    const job = await finished(created.body.id);
    expect(job.status).toBe('SUCCEEDED');
    const output = await api<string>('GET', job.output ?? '', auditor);
    const lines = output.body.trimEnd().split('\n');
    expect(lines).toHaveLength(20_001);
    const expected = expectedScores(models.mlp);
    expect(Number(lines[20_000]?.split(',')[1])).toBeCloseTo(expected[999] ?? Number.NaN, 5);
    expect(Number(lines[1001]?.split(',')[1])).toBeCloseTo(expected[0] ?? Number.NaN, 5);
  });

  it('cancels a running job: no output, the cancellation in the ledger', async () => {
    const created = await api<Job>('POST', '/v1/batch-jobs', engineer, {
      model: 'credit-risk',
      version: 3,
      datasetId: dataset.id,
    });
    for (let i = 0; i < 400; i++) {
      const { body } = await api<Job>('GET', `/v1/batch-jobs/${created.body.id}`, auditor);
      if (body.status === 'RUNNING' && body.rowsDone > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const cancelled = await api<Job>('POST', `/v1/batch-jobs/${created.body.id}/cancel`, engineer);
    expect(cancelled.status).toBe(200);
    const job = await finished(created.body.id);
    expect(job.status).toBe('CANCELLED');
    expect(job.rowsDone).toBeLessThan(1000);
    expect(job.outputSha256).toBeNull();
    expect(
      (await ledgerWith('batch.cancelled', `batch:${job.id}`)).map((e) => e.subject),
    ).toContain(`batch:${job.id}`);
    const again = await api<{ error: { code: string } }>(
      'POST',
      `/v1/batch-jobs/${job.id}/cancel`,
      engineer,
    );
    expect(again.status).toBe(409);
    const output = await api<{ error: { code: string } }>(
      'GET',
      `/v1/batch-jobs/${job.id}/output`,
      auditor,
    );
    expect(output.status).toBe(409);
  }, 60_000);

  it.each([
    [4, /./],
    [5, /NaN for data row 1/],
  ])('fails a job whose model fails (version %i) and says why', async (version, reason) => {
    const created = await api<Job>('POST', '/v1/batch-jobs', engineer, {
      model: 'credit-risk',
      version,
      datasetId: dataset.id,
    });
    const job = await finished(created.body.id);
    expect(job.status).toBe('FAILED');
    expect(job.error).toMatch(reason);
    expect((await ledgerWith('batch.failed', `batch:${job.id}`)).map((e) => e.subject)).toContain(
      `batch:${job.id}`,
    );
  });

  it('refuses bad requests with the field and the reason', async () => {
    const post = (body: unknown, token = engineer) =>
      api<{ error: { code: string; details?: { field?: string } } }>(
        'POST',
        '/v1/batch-jobs',
        token,
        body,
      );
    const cases: [unknown, number, string | undefined][] = [
      [{ endpoint: 'credit' }, 400, 'datasetId'],
      [{ endpoint: 'credit', datasetId: 'nope' }, 400, 'datasetId'],
      [{ datasetId: dataset.id }, 400, 'endpoint'],
      [
        { endpoint: 'credit', model: 'credit-risk', version: 1, datasetId: dataset.id },
        400,
        'endpoint',
      ],
      [{ model: 'credit-risk', version: 0, datasetId: dataset.id }, 400, 'version'],
      [{ endpoint: 'nope', datasetId: dataset.id }, 404, undefined],
      [{ model: 'credit-risk', version: 99, datasetId: dataset.id }, 404, undefined],
      [{ endpoint: 'credit', datasetId: '00000000-0000-4000-8000-000000000000' }, 404, undefined],
      [[1, 2], 400, 'body'],
    ];
    for (const [body, status, field] of cases) {
      const r = await post(body);
      expect([JSON.stringify(body), r.status]).toEqual([JSON.stringify(body), status]);
      if (field !== undefined) expect(r.body.error.details?.field).toBe(field);
    }
    await createEndpoint(app, engineer, 'empty', 'credit-risk');
    expect((await post({ endpoint: 'empty', datasetId: dataset.id })).status).toBe(409);
    expect(
      (
        await post(
          { endpoint: 'credit', datasetId: dataset.id },
          await app.token('ian', 'inference-client'),
        )
      ).status,
    ).toBe(403);
    expect(
      (await api('GET', '/v1/batch-jobs/00000000-0000-4000-8000-000000000000', auditor)).status,
    ).toBe(404);
  });

  it('refuses a dataset without the version’s feature columns, naming the column', async () => {
    const narrow = await uploadDataset(
      'narrow',
      Buffer.from('Duration,Amount\n12,1000\n24,2000\n'),
    );
    const r = await api<{ error: { message: string; details: { field: string } } }>(
      'POST',
      '/v1/batch-jobs',
      engineer,
      {
        endpoint: 'credit',
        datasetId: narrow.id,
      },
    );
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe('datasetId');
    expect(r.body.error.message).toMatch(/has no column InstallmentRatePercentage|has no column/);
  });
});
