/**
 * bench/evaluation: an evaluation end to end (CSV read from the blob store and parsed, ONNX
 * Runtime inference, every metric) on a generated dataset of BENCH_ROWS rows (default
 * 1,000,000) with two protected attributes, without and with 200 bootstrap resamples; next to
 * the floor, ONNX Runtime inference alone over the same rows; and the service's peak resident
 * memory. `npm run bench:evaluation`.
 */
import 'reflect-metadata';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { ort } from '../../src/runtime/ort.js';
import { mulberry32, trainLogisticRegression } from '../../src/model-builder/index.js';
import { benchDatabase, machine } from '../support/bench-db.js';
import { MB, startBenchService } from '../support/service.js';

const ROWS = Number(process.env['BENCH_ROWS'] ?? 1_000_000);
const FEATURES = [
  'income',
  'debt',
  'age_years',
  'tenure',
  'inquiries',
  'utilisation',
  'late_30',
  'late_90',
  'accounts',
  'amount',
];

/** A credit-like population: the label depends on the features, and on group membership a little. */
function* population(
  rows: number,
): Generator<{ x: number[]; sex: string; age: string; y: number }> {
  const random = mulberry32(2026);
  for (let i = 0; i < rows; i++) {
    const sex = random.next() < 0.45 ? 'female' : 'male';
    const age = random.next() < 0.2 ? 'under_25' : random.next() < 0.7 ? '25_to_60' : 'over_60';
    const x = FEATURES.map(() => Math.round(random.normal() * 1000) / 1000);
    const logit =
      0.8 * (x[0] ?? 0) -
      0.9 * (x[1] ?? 0) +
      0.5 * (x[3] ?? 0) -
      0.7 * (x[6] ?? 0) +
      (sex === 'male' ? 0.3 : 0) +
      0.4;
    const y = random.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    yield { x, sex, age, y };
  }
}

async function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  out.write(`${FEATURES.join(',')},sex,age_group,label\n`);
  let buffer = '';
  for (const r of population(rows)) {
    buffer += `${r.x.join(',')},${r.sex},${r.age},${r.y}\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-eval-'));
  const db = await benchDatabase('evaluation', 2);
  await db.dataSource.destroy();
  const service = await startBenchService({ DATABASE_URL: db.url }, join(dir, 'data'));
  try {
    const training = [...population(20_000)];
    const model = trainLogisticRegression(
      {
        featureNames: FEATURES,
        X: training.map((r) => Float32Array.from(r.x)),
        y: training.map((r) => r.y),
      },
      {
        name: 'bench_credit',
        description: 'bench/evaluation: logistic regression on generated credit data',
      },
    );
    const csvPath = join(dir, 'evaluation.csv');
    await writeCsv(csvPath, ROWS);

    const validator = await service.token('vera', 'model-validator', 'data-scientist');
    const call = async <T>(
      method: string,
      path: string,
      body?: RequestInit['body'],
      type?: string,
    ): Promise<T> => {
      const response = await fetch(`${service.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${validator}`,
          ...(type ? { 'content-type': type } : {}),
        },
        body,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return JSON.parse(text) as T;
    };
    const gql = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
      const r = await call<{ data?: T; errors?: unknown }>(
        'POST',
        '/graphql',
        JSON.stringify({ query, variables }),
        'application/json',
      );
      if (r.errors !== undefined || r.data === undefined) throw new Error(JSON.stringify(r.errors));
      return r.data;
    };
    const artifact = await call<{ sha256: string }>(
      'PUT',
      '/v1/artifacts',
      Buffer.from(model.bytes),
      'application/octet-stream',
    );
    await gql(`mutation($i: RegisterModelInput!) { registerModel(input: $i) { id } }`, {
      i: {
        name: 'bench-credit',
        riskTier: 'HIGH',
        owner: 'bench',
        protectedAttributes: ['sex', 'age_group'],
        modelCard: {
          intendedUse: 'benchmark',
          outOfScopeUses: [],
          limitations: 'generated data',
          trainingData: 'generated',
          ethicalConsiderations: 'benchmark',
        },
      },
    });
    await gql(
      `mutation($i: RegisterModelVersionInput!) { registerModelVersion(input: $i) { version } }`,
      {
        i: {
          model: 'bench-credit',
          artifactSha256: artifact.sha256,
          task: 'BINARY_CLASSIFICATION',
          featureColumns: FEATURES,
        },
      },
    );
    const dataset = await call<{ id: string; rows: number; size: number }>(
      'PUT',
      '/v1/datasets?name=bench',
      Readable.toWeb(createReadStream(csvPath)) as ReadableStream,
      'text/csv',
    );

    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const evaluate = async (bootstrap: { resamples: number; seed: number } | null) => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const idle = service.rss();
      let peak = idle;
      const sampler = setInterval(() => {
        peak = Math.max(peak, service.rss());
      }, 25);
      const wall = performance.now();
      const { runEvaluation } = await gql<{ runEvaluation: { id: string } }>(
        `mutation($d: ID!, $b: BootstrapInput) { runEvaluation(model: "bench-credit", version: 1, dataset: $d, labelColumn: "label", bootstrap: $b) { id } }`,
        { d: dataset.id, b: bootstrap },
      );
      let status = 'QUEUED';
      while (status === 'QUEUED' || status === 'RUNNING') {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const { evaluation } = await gql<{ evaluation: { status: string; error: string | null } }>(
          `query($id: ID!) { evaluation(id: $id) { status error } }`,
          { id: runEvaluation.id },
        );
        status = evaluation.status;
        if (status === 'FAILED') throw new Error(evaluation.error ?? 'failed');
      }
      const wallSeconds = (performance.now() - wall) / 1000;
      clearInterval(sampler);
      const { rows } = await admin.query<{ seconds: number }>(
        `SELECT extract(epoch FROM finished_at - started_at)::float8 AS seconds FROM evaluations WHERE id = $1`,
        [runEvaluation.id],
      );
      return { seconds: rows[0]?.seconds ?? Number.NaN, wallSeconds, idle, peak };
    };
    const plain = await evaluate(null);
    const boot = await evaluate({ resamples: 200, seed: 1 });
    await admin.end();

    // The floor: ONNX Runtime alone over the same rows, features already in memory.
    const features = new Float32Array(ROWS * FEATURES.length);
    let r = 0;
    for (const row of population(ROWS)) features.set(row.x, r++ * FEATURES.length);
    const session = await ort.InferenceSession.create(model.bytes, {
      intraOpNumThreads: 1,
      logSeverityLevel: 4,
    });
    const chunk = 4096;
    const floorStart = performance.now();
    for (let start = 0; start < ROWS; start += chunk) {
      const n = Math.min(chunk, ROWS - start);
      const tensor = new ort.Tensor(
        'float32',
        features.subarray(start * FEATURES.length, (start + n) * FEATURES.length),
        [n, FEATURES.length],
      );
      await session.run({ features: tensor });
    }
    const floor = (performance.now() - floorStart) / 1000;
    await session.release();

    console.log(`# bench/evaluation — ${machine()}, ${new Date().toISOString().slice(0, 10)}`);
    console.log(
      `dataset: ${dataset.rows} rows × ${FEATURES.length} features + sex, age_group, label (${(dataset.size / MB).toFixed(0)} MB CSV)`,
    );
    console.log(
      `evaluation without bootstrap: ${plain.seconds.toFixed(2)} s in the job (${plain.wallSeconds.toFixed(2)} s request to result), goal < 3 s`,
    );
    console.log(
      `evaluation with 200 bootstrap resamples: ${boot.seconds.toFixed(2)} s in the job (${boot.wallSeconds.toFixed(2)} s request to result), goal < 15 s`,
    );
    console.log(
      `floor, ONNX Runtime alone over the same rows (chunks of ${chunk}): ${floor.toFixed(3)} s`,
    );
    console.log(
      `service RSS: idle ${(plain.idle / MB).toFixed(0)} MB, peak ${(Math.max(plain.peak, boot.peak) / MB).toFixed(0)} MB (goal < 1024 MB)`,
    );
  } finally {
    await service.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
