/**
 * bench/batch: the resident memory of a batch-inference job over a large dataset, against the
 * service idle. `npm run bench:batch`; BENCH_ROWS (default 1000000) scales it. The service
 * runs as its own process against DATABASE_URL (default: the local PostgreSQL) so its memory
 * is read from /proc apart from the benchmark's.
 */
import 'reflect-metadata';
import {
  createReadStream,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buildGermanCreditModels, defaultGermanCreditPath } from '../../src/model-builder/index.js';
import { readFileSync } from 'node:fs';
import { benchDatabase, machine } from '../support/bench-db.js';
import { MB, startBenchService } from '../support/service.js';

const ROWS = Number(process.env['BENCH_ROWS'] ?? 1_000_000);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-batch-'));
  const db = await benchDatabase('batch', 2);
  await db.dataSource.destroy();
  const service = await startBenchService({ DATABASE_URL: db.url }, join(dir, 'data'));
  try {
    const models = buildGermanCreditModels();
    const scientist = await service.token('dana', 'data-scientist');
    const engineer = await service.token('erin', 'ml-engineer');
    const call = async <T>(
      method: string,
      path: string,
      token: string,
      body?: RequestInit['body'],
      type?: string,
    ): Promise<T> => {
      const response = await fetch(`${service.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(type ? { 'content-type': type } : {}) },
        body,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return JSON.parse(text) as T;
    };
    const gql = (query: string, variables: Record<string, unknown>, token: string) =>
      call('POST', '/graphql', token, JSON.stringify({ query, variables }), 'application/json');

    const artifact = await call<{ sha256: string }>(
      'PUT',
      '/v1/artifacts',
      scientist,
      Buffer.from(models.fair.bytes),
      'application/octet-stream',
    );
    await gql(
      `mutation($i: RegisterModelInput!) { registerModel(input: $i) { id } }`,
      {
        i: {
          name: 'credit-risk',
          riskTier: 'LOW',
          owner: 'bench',
          protectedAttributes: [],
          modelCard: {
            intendedUse: 'benchmark',
            outOfScopeUses: [],
            limitations: 'benchmark',
            trainingData: 'German credit',
            ethicalConsiderations: 'benchmark',
          },
        },
      },
      scientist,
    );
    await gql(
      `mutation($i: RegisterModelVersionInput!) { registerModelVersion(input: $i) { version } }`,
      {
        i: {
          model: 'credit-risk',
          artifactSha256: artifact.sha256,
          task: 'BINARY_CLASSIFICATION',
          featureColumns: models.fair.featureNames,
        },
      },
      scientist,
    );

    // The German credit rows, repeated to ROWS rows.
    const csvPath = join(dir, 'large.csv');
    const [header, ...rows] = readFileSync(defaultGermanCreditPath(), 'utf8').trimEnd().split('\n');
    writeFileSync(csvPath, `${header ?? ''}\n`);
    const block = rows.join('\n') + '\n';
    for (let written = 0; written < ROWS; written += rows.length) {
      appendFileSync(
        csvPath,
        written + rows.length <= ROWS ? block : rows.slice(0, ROWS - written).join('\n') + '\n',
      );
    }
    const size = statSync(csvPath).size;
    const uploadStart = performance.now();
    const dataset = await call<{ id: string; rows: number }>(
      'PUT',
      '/v1/datasets?name=large',
      scientist,
      Readable.toWeb(createReadStream(csvPath)) as ReadableStream,
      'text/csv',
    );
    const uploadSeconds = (performance.now() - uploadStart) / 1000;

    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idle = service.rss();
    let peak = idle;
    const sampler = setInterval(() => {
      peak = Math.max(peak, service.rss());
    }, 50);
    const start = performance.now();
    const job = await call<{ id: string }>(
      'POST',
      '/v1/batch-jobs',
      engineer,
      JSON.stringify({ model: 'credit-risk', version: 1, datasetId: dataset.id }),
      'application/json',
    );
    let status = 'QUEUED';
    let outputSize = 0;
    while (status === 'QUEUED' || status === 'RUNNING') {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const view = await call<{ status: string; outputSize: number | null; error: string | null }>(
        'GET',
        `/v1/batch-jobs/${job.id}`,
        engineer,
      );
      status = view.status;
      outputSize = view.outputSize ?? 0;
      if (status === 'FAILED') throw new Error(`batch job failed: ${view.error ?? ''}`);
    }
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);

    console.log(`# bench/batch — ${machine()}, ${new Date().toISOString().slice(0, 10)}`);
    console.log(
      `dataset: ${dataset.rows} rows, ${(size / MB).toFixed(0)} MB, uploaded and parsed in ${uploadSeconds.toFixed(1)} s`,
    );
    console.log(
      `job: ${status} in ${seconds.toFixed(1)} s (${Math.round(dataset.rows / seconds)} rows/s), output ${(outputSize / MB).toFixed(1)} MB`,
    );
    console.log(
      `service RSS idle ${(idle / MB).toFixed(0)} MB, peak during the job ${(peak / MB).toFixed(0)} MB, added ${((peak - idle) / MB).toFixed(0)} MB (goal < 200 MB)`,
    );
  } finally {
    await service.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
