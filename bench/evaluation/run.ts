/**
 * bench/evaluation: a dataset audited end to end on a generated credit-like population of
 * BENCH_ROWS rows (default 1,000,000) × 60 numeric features, a 0/1 label and two protected
 * attributes. Measured, each BENCH_RUNS times (default 3), medians reported: the upload of the
 * rows as CSV and as Parquet; the evaluation from the runEvaluation request to its stored
 * result, without and with 200 bootstrap resamples, and of the Parquet upload without, with
 * the service's own time split (Evaluation.timings); the service's peak resident memory during
 * each; and, as the floor, ONNX Runtime alone over the same rows. `npm run bench:evaluation`.
 * BENCH_ONLY=upload measures the two uploads alone (a minute instead of several).
 */
import 'reflect-metadata';
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parquetWriteFile } from 'hyparquet-writer';
import pg from 'pg';
import { ort } from '../../src/runtime/ort.js';
import { mulberry32, trainLogisticRegression } from '../../src/model-builder/index.js';
import { benchDatabase, machine } from '../support/bench-db.js';
import { commandTicks, processTicks } from '../support/proc.js';
import { MB, startBenchService, type BenchService } from '../support/service.js';
import { median } from '../support/stats.js';

const ROWS = Number(process.env['BENCH_ROWS'] ?? 1_000_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const ONLY_UPLOAD = process.env['BENCH_ONLY'] === 'upload';
const RESAMPLES = 200;
/** The inference floor's rows per ONNX Runtime run: the service's default chunk. */
const CHUNK_ROWS = 4096;

/** Ten named credit features and fifty more credit-bureau attributes. */
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
  ...Array.from({ length: 50 }, (_, i) => `bureau_${String(i + 1).padStart(2, '0')}`),
];
const WIDTH = FEATURES.length;

/** A credit-like population: the label depends on the features, and on group membership a little. */
function* population(
  rows: number,
): Generator<{ x: number[]; sex: string; age: string; y: number }> {
  const random = mulberry32(2026);
  for (let i = 0; i < rows; i++) {
    const sex = random.next() < 0.45 ? 'female' : 'male';
    const age = random.next() < 0.2 ? 'under_25' : random.next() < 0.7 ? '25_to_60' : 'over_60';
    const x = FEATURES.map(() => Math.round(random.normal() * 1000) / 1000);
    let bureau = 0;
    for (let j = 10; j < WIDTH; j += 5) bureau += x[j] ?? 0;
    const logit =
      0.8 * (x[0] ?? 0) -
      0.9 * (x[1] ?? 0) +
      0.5 * (x[3] ?? 0) -
      0.7 * (x[6] ?? 0) +
      0.15 * bureau +
      (sex === 'male' ? 0.3 : 0) +
      0.4;
    const y = random.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    yield { x, sex, age, y };
  }
}

/** The generated rows as columns; the features row-major, as the service scores them. */
interface Population {
  readonly rows: number;
  readonly features: Float32Array;
  readonly sex: string[];
  readonly age: string[];
  readonly label: Int32Array;
}

/** Writes the CSV and keeps the rows, features as the service parses them. */
async function writeCsv(path: string, rows: number): Promise<Population> {
  const features = new Float32Array(rows * WIDTH);
  const sex: string[] = [];
  const age: string[] = [];
  const label = new Int32Array(rows);
  const out = createWriteStream(path);
  out.write(`${FEATURES.join(',')},sex,age_group,label\n`);
  let buffer = '';
  let r = 0;
  for (const row of population(rows)) {
    features.set(row.x, r * WIDTH);
    sex.push(row.sex);
    age.push(row.age);
    label[r++] = row.y;
    buffer += `${row.x.join(',')},${row.sex},${row.age},${row.y}\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
  return { rows, features, sex, age, label };
}

/**
 * The same rows as Parquet, as a pipeline would write them: features as FLOAT (the model's
 * input type), the groups as strings, the label as INT32; the writer's default Snappy pages.
 */
function writeParquet(path: string, p: Population): void {
  const column = (j: number): Float32Array => {
    const values = new Float32Array(p.rows);
    for (let r = 0; r < p.rows; r++) values[r] = p.features[r * WIDTH + j] ?? 0;
    return values;
  };
  parquetWriteFile({
    filename: path,
    columnData: [
      ...FEATURES.map((name, j) => ({
        name,
        data: column(j),
        type: 'FLOAT' as const,
        nullable: false,
      })),
      { name: 'sex', data: p.sex, type: 'STRING', nullable: false },
      { name: 'age_group', data: p.age, type: 'STRING', nullable: false },
      { name: 'label', data: p.label, type: 'INT32', nullable: false },
    ],
  });
}

/** CPU ticks (1/100 s) the whole machine has been busy, time stolen from it included. */
function machineBusyTicks(): number {
  const cpu = /^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]?.split(/\s+/) ?? [];
  // user nice system idle iowait irq softirq steal
  return [0, 1, 2, 5, 6, 7].reduce((n, i) => n + Number(cpu[i] ?? 0), 0);
}

interface Span<T> {
  readonly value: T;
  readonly seconds: number;
  readonly idleRss: number;
  readonly peakRss: number;
  /** Cores used meanwhile by processes other than the service, PostgreSQL and this benchmark. */
  readonly otherCores: number;
}

/**
 * After a pause for the service to settle, times `work`, sampling the service's RSS every
 * 20 ms and the machine's other CPU use.
 */
async function measured<T>(
  service: BenchService,
  work: () => Promise<T>,
  pauseMs = 1000,
): Promise<Span<T>> {
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
  const pid = service.child.pid ?? 0;
  const ours = () => processTicks(pid) + processTicks(process.pid) + commandTicks('postgres');
  const idleRss = service.rss();
  let peakRss = idleRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, service.rss());
  }, 20);
  const busy = machineBusyTicks();
  const own = ours();
  const start = performance.now();
  try {
    const value = await work();
    const seconds = (performance.now() - start) / 1000;
    peakRss = Math.max(peakRss, service.rss());
    const other = machineBusyTicks() - busy - (ours() - own);
    return { value, seconds, idleRss, peakRss, otherCores: Math.max(0, other) / 100 / seconds };
  } finally {
    clearInterval(sampler);
  }
}

const PHASES = ['readMs', 'inferenceMs', 'metricsMs', 'bootstrapMs', 'storeMs'] as const;
type Timings = Record<(typeof PHASES)[number] | 'totalMs', number>;
/**
 * The job queue's polling interval (src/jobs/job-queue.service.ts), what a job waits at most
 * when its notification is not delivered.
 */
const QUEUE_POLL_MS = 500;
/**
 * How often the benchmark asks for the evaluation's status. Each poll is a GraphQL request the
 * service answers on its main thread: every 20 ms they took a fifth of a core from it.
 */
const CLIENT_POLL_MS = 100;

interface EvaluationRun {
  readonly timings: Timings;
  /** From the request's commit to the job's start (`started_at − created_at`). */
  readonly queueMs: number;
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
    const rows = await writeCsv(csvPath, ROWS);
    const csvBytes = statSync(csvPath).size;
    const parquetPath = join(dir, 'evaluation.parquet');
    writeParquet(parquetPath, rows);
    const parquetBytes = statSync(parquetPath).size;

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

    // Each upload under a name of its own: the same bytes under one name would be one dataset.
    const upload = async (format: string, path: string, type: string) => {
      const spans: Span<{ id: string; rows: number }>[] = [];
      for (let run = 1; run <= RUNS; run++)
        spans.push(
          await measured(service, () =>
            call<{ id: string; rows: number }>(
              'PUT',
              `/v1/datasets?name=bench-${format}-${run}`,
              Readable.toWeb(createReadStream(path)) as ReadableStream,
              type,
            ),
          ),
        );
      const first = spans[0]?.value;
      if (first === undefined) throw new Error('BENCH_RUNS must be at least 1');
      if (first.rows !== ROWS) throw new Error(`${format} upload: ${first.rows} rows, not ${ROWS}`);
      return { spans, dataset: first };
    };
    const csv = await upload('csv', csvPath, 'text/csv');
    const parquet = await upload('parquet', parquetPath, 'application/vnd.apache.parquet');
    if (ONLY_UPLOAD) {
      reportUploads({ csvBytes, parquetBytes, csv: csv.spans, parquet: parquet.spans });
      return;
    }

    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    // A new job wakes the worker by notification; should one be missed, the poll picks it up.
    // With the same pause every time, each request would meet the poll at the same point of
    // its interval: pauses spread over the interval sample the whole of that wait.
    const evaluate = (
      dataset: { id: string },
      bootstrap: { resamples: number; seed: number } | null,
      run: number,
    ) =>
      measured(
        service,
        async (): Promise<EvaluationRun> => {
          const { runEvaluation } = await gql<{ runEvaluation: { id: string } }>(
            `mutation($d: ID!, $b: BootstrapInput) { runEvaluation(model: "bench-credit", version: 1, dataset: $d, labelColumn: "label", bootstrap: $b) { id } }`,
            { d: dataset.id, b: bootstrap },
          );
          for (;;) {
            await new Promise((resolve) => setTimeout(resolve, CLIENT_POLL_MS));
            const { evaluation } = await gql<{
              evaluation: { status: string; error: string | null; timings: Timings | null };
            }>(
              `query($id: ID!) { evaluation(id: $id) { status error timings { ${PHASES.join(' ')} totalMs } } }`,
              { id: runEvaluation.id },
            );
            if (evaluation.status === 'FAILED') throw new Error(evaluation.error ?? 'failed');
            if (evaluation.status === 'SUCCEEDED') {
              if (evaluation.timings === null)
                throw new Error('a succeeded evaluation without timings');
              const { rows } = await admin.query<{ ms: number }>(
                `SELECT extract(epoch FROM started_at - created_at)::float8 * 1000 AS ms FROM evaluations WHERE id = $1`,
                [runEvaluation.id],
              );
              return { timings: evaluation.timings, queueMs: rows[0]?.ms ?? Number.NaN };
            }
          }
        },
        1000 + ((run - 0.5) / RUNS) * QUEUE_POLL_MS,
      );
    const plain: Span<EvaluationRun>[] = [];
    const boot: Span<EvaluationRun>[] = [];
    const fromParquet: Span<EvaluationRun>[] = [];
    for (let run = 1; run <= RUNS; run++) plain.push(await evaluate(csv.dataset, null, run));
    for (let run = 1; run <= RUNS; run++)
      boot.push(await evaluate(csv.dataset, { resamples: RESAMPLES, seed: run }, run));
    for (let run = 1; run <= RUNS; run++)
      fromParquet.push(await evaluate(parquet.dataset, null, run));
    await admin.end();

    // The floor: ONNX Runtime alone over the same rows, features already in memory.
    const session = await ort.InferenceSession.create(model.bytes, {
      intraOpNumThreads: 1,
      logSeverityLevel: 4,
    });
    const floors: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const start = performance.now();
      for (let first = 0; first < ROWS; first += CHUNK_ROWS) {
        const n = Math.min(CHUNK_ROWS, ROWS - first);
        const tensor = new ort.Tensor(
          'float32',
          rows.features.subarray(first * WIDTH, (first + n) * WIDTH),
          [n, WIDTH],
        );
        await session.run({ features: tensor });
      }
      floors.push((performance.now() - start) / 1000);
    }
    await session.release();

    report({
      csvBytes,
      parquetBytes,
      csv: csv.spans,
      parquet: parquet.spans,
      plain,
      boot,
      fromParquet,
      floors,
    });
  } finally {
    await service.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(r: {
  csvBytes: number;
  parquetBytes: number;
  csv: readonly Span<unknown>[];
  parquet: readonly Span<unknown>[];
  plain: readonly Span<EvaluationRun>[];
  boot: readonly Span<EvaluationRun>[];
  fromParquet: readonly Span<EvaluationRun>[];
  floors: readonly number[];
}): void {
  const s = (seconds: number) => `${seconds.toFixed(2)} s`;
  const runs = (spans: readonly Span<unknown>[]) =>
    spans.map((x) => x.seconds.toFixed(2)).join(', ');
  const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;
  const rss = (spans: readonly Span<unknown>[]) =>
    `${mb(median(spans.map((x) => x.idleRss)))} → ${mb(Math.max(...spans.map((x) => x.peakRss)))}`;
  const others = (spans: readonly Span<unknown>[]) =>
    spans.map((x) => x.otherCores.toFixed(2)).join(', ');
  const goal = (value: number, limit: number) => (value < limit ? 'met' : '**not met**');
  const all = [r.csv, r.parquet, r.plain, r.boot, r.fromParquet];
  const peak = Math.max(...all.flat().map((x) => x.peakRss));
  const measure = (name: string, spans: readonly Span<unknown>[], limit: number) => {
    const m = median(spans.map((x) => x.seconds));
    return [name, runs(spans), s(m), `< ${limit} s`, goal(m, limit), others(spans)] as const;
  };
  const rows: (readonly [string, string, string, string, string, string])[] = [
    measure(`CSV upload (${mb(r.csvBytes)})`, r.csv, 10),
    measure(`Parquet upload (${mb(r.parquetBytes)})`, r.parquet, 5),
    measure('evaluation, no bootstrap, request to result', r.plain, 3),
    measure(`evaluation, ${RESAMPLES} bootstrap resamples, request to result`, r.boot, 10),
    measure('evaluation of the Parquet upload, no bootstrap', r.fromParquet, 3),
    [
      `floor: ONNX Runtime alone over the same rows (${CHUNK_ROWS} a run)`,
      r.floors.map((x) => x.toFixed(3)).join(', '),
      `${median(r.floors).toFixed(3)} s`,
      '',
      '',
      '',
    ],
    [
      'service RSS, idle → peak: CSV upload / Parquet upload / no bootstrap / bootstrap / Parquet',
      all.map(rss).join(' / '),
      mb(peak),
      '< 1024 MB',
      goal(peak / MB, 1024),
      '',
    ],
  ];
  console.log(`# bench/evaluation — ${machine()}, ${new Date().toISOString().slice(0, 10)}`);
  console.log(
    `dataset: ${ROWS.toLocaleString('en')} rows × ${WIDTH} features + sex, age_group, label; ${RUNS} runs of each measure, seconds`,
  );
  console.log();
  table(['measure', 'runs', 'median', 'goal', 'on this machine', 'other processes, cores'], rows);

  const phase = (spans: readonly Span<EvaluationRun>[], pick: (t: Timings) => number) =>
    `${median(spans.map((x) => pick(x.value.timings))).toFixed(0)} ms`;
  const split: [string, (t: Timings) => number][] = [
    [
      'read: the dataset read (its Arrow columns), digest checked; labels, groups collected',
      (t) => t.readMs,
    ],
    ['inference: ONNX Runtime', (t) => t.inferenceMs],
    ['metrics: every figure but the intervals (worker thread)', (t) => t.metricsMs],
    ['bootstrap', (t) => t.bootstrapMs],
    ['store: canonical form, digest, write', (t) => t.storeMs],
    [
      'between the phases: lookups, progress updates',
      (t) => t.totalMs - PHASES.reduce((sum, p) => sum + t[p], 0),
    ],
    ['total, as the service measured it', (t) => t.totalMs],
  ];
  const queueMs = (spans: readonly Span<EvaluationRun>[]) =>
    `${median(spans.map((x) => x.value.queueMs)).toFixed(0)} ms`;
  const afterMs = (spans: readonly Span<EvaluationRun>[]) =>
    `${median(spans.map((x) => x.seconds * 1000 - x.value.queueMs - x.value.timings.totalMs)).toFixed(0)} ms`;
  const wallMs = (spans: readonly Span<EvaluationRun>[]) =>
    `${median(spans.map((x) => x.seconds * 1000)).toFixed(0)} ms`;
  console.log();
  console.log(`time split (Evaluation.timings), median of ${RUNS} runs each:`);
  console.log();
  const columns = [r.plain, r.boot, r.fromParquet];
  table(
    ['phase', 'no bootstrap', `${RESAMPLES} resamples`, 'Parquet upload, no bootstrap'],
    [
      ...split.map(([name, pick]) => [name, ...columns.map((c) => phase(c, pick))]),
      [
        `before the job: the queue's pick-up (notified; polled every ${QUEUE_POLL_MS} ms)`,
        ...columns.map(queueMs),
      ],
      [
        `after: the commit, the ledger seal, the client polling every ${CLIENT_POLL_MS} ms`,
        ...columns.map(afterMs),
      ],
      ['request to result, wall', ...columns.map(wallMs)],
    ],
  );
}

function reportUploads(r: {
  csvBytes: number;
  parquetBytes: number;
  csv: readonly Span<unknown>[];
  parquet: readonly Span<unknown>[];
}): void {
  const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;
  const row = (name: string, spans: readonly Span<unknown>[], limit: number) => {
    const m = median(spans.map((x) => x.seconds));
    return [
      name,
      spans.map((x) => x.seconds.toFixed(2)).join(', '),
      `${m.toFixed(2)} s`,
      `< ${limit} s`,
      m < limit ? 'met' : '**not met**',
      `${mb(median(spans.map((x) => x.idleRss)))} → ${mb(Math.max(...spans.map((x) => x.peakRss)))}`,
      spans.map((x) => x.otherCores.toFixed(2)).join(', '),
    ];
  };
  console.log(
    `# bench/evaluation, uploads only — ${machine()}, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.log(
    `dataset: ${ROWS.toLocaleString('en')} rows × ${WIDTH} features + sex, age_group, label; ${RUNS} runs`,
  );
  console.log();
  table(
    [
      'measure',
      'runs',
      'median',
      'goal',
      'on this machine',
      'service RSS idle → peak',
      'other processes, cores',
    ],
    [
      row(`CSV upload (${mb(r.csvBytes)})`, r.csv, 10),
      row(`Parquet upload (${mb(r.parquetBytes)})`, r.parquet, 5),
    ],
  );
}

/** A Markdown table with its columns padded. */
function table(head: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(head));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const r of rows) console.log(line(r));
}

await main();
