import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { BlobStore } from '../../src/blobs/blob-store.js';
import { readDatasetChunks } from '../../src/datasets/dataset-reader.js';
import {
  defaultGermanCreditPath,
  loadGermanCredit,
  type GermanCredit,
} from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';

const MAX_ROWS = 1000;
const MAX_BYTES = 400_000;

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

interface DatasetAnswer {
  id: string;
  name: string;
  sha256: string;
  format: string;
  columnarSha256: string | null;
  size: number;
  rows: number;
  columns: { name: string; type: string }[];
}

const sha256Of = (bytes: Uint8Array | string): string =>
  createHash('sha256').update(bytes).digest('hex');

describe('PUT /v1/datasets', () => {
  let app: TestApp;
  let scientist: string;
  let auditor: string;
  let german: Buffer;
  let credit: GermanCredit;

  async function put(
    name: string | null,
    body: Uint8Array | string,
    options: { token?: string | null; contentType?: string } = {},
  ): Promise<{ status: number; body: unknown }> {
    const token = options.token === undefined ? scientist : options.token;
    const headers: Record<string, string> = {
      'content-type': options.contentType ?? 'text/csv',
    };
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    const query = name === null ? '' : `?name=${encodeURIComponent(name)}`;
    const response = await fetch(`${app.url}/v1/datasets${query}`, {
      method: 'PUT',
      headers,
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    return { status: response.status, body: await response.json() };
  }

  async function refused(body: Uint8Array | string, name = 'refused'): Promise<ErrorBody['error']> {
    const res = await put(name, body);
    expect(res.status).toBe(400);
    const { error } = res.body as ErrorBody;
    expect(error.code).toBe('BAD_USER_INPUT');
    return error;
  }

  function storedBlobs(): string[] {
    const root = join(app.config.dataDir, 'blobs', 'sha256');
    if (!existsSync(root)) return [];
    return readdirSync(root).flatMap((dir) => readdirSync(join(root, dir)));
  }

  async function query<T>(sql: string, params: unknown[]): Promise<T[]> {
    const client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    german = readFileSync(defaultGermanCreditPath());
    credit = loadGermanCredit();
    app = await startTestApp({
      GATEHOUSE_DATASET_MAX_ROWS: String(MAX_ROWS),
      GATEHOUSE_DATASET_MAX_BYTES: String(MAX_BYTES),
    });
    scientist = await app.token('dana', 'data-scientist');
    auditor = await app.token('audrey', 'auditor');
  });
  afterAll(async () => {
    await app.close();
  });

  it('registers the German credit CSV with its rows and column types', async () => {
    const res = await put('german-credit', german);
    expect(res.status).toBe(200);
    const answer = res.body as DatasetAnswer;
    expect(answer).toMatchObject({
      name: 'german-credit',
      sha256: sha256Of(german),
      format: 'csv',
      size: german.length,
      rows: 1000,
    });
    expect(answer.columnarSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(answer.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.columns).toHaveLength(63);
    expect(answer.columns.slice(0, 2)).toEqual([
      { name: 'Duration', type: 'number' },
      { name: 'Amount', type: 'number' },
    ]);
    expect(answer.columns.slice(-3)).toEqual([
      { name: 'sex', type: 'string' },
      { name: 'age_group', type: 'string' },
      { name: 'good_credit', type: 'number' },
    ]);
    expect(answer.columns.filter((c) => c.type === 'string').map((c) => c.name)).toEqual([
      'sex',
      'age_group',
    ]);
    expect(storedBlobs()).toContain(sha256Of(german));
    expect(storedBlobs()).toContain(answer.columnarSha256);

    const [event] = await ledgerEvents(`dataset:${answer.id}`);
    expect(event).toEqual({
      type: 'dataset.registered',
      actor: { sub: 'dana' },
      payload: {
        id: answer.id,
        name: 'german-credit',
        sha256: answer.sha256,
        format: 'csv',
        columnarSha256: answer.columnarSha256,
        size: german.length,
        rows: 1000,
        columns: answer.columns,
      },
    });
  });

  it('reads the stored dataset back in chunks, as batch jobs and evaluations will', async () => {
    const [dataset] = await query<{ sha256: string; columnarSha256: string | null }>(
      `SELECT sha256, columnar_sha256 AS "columnarSha256" FROM datasets WHERE name = 'german-credit'`,
      [],
    );
    const blobs = app.running.app.get(BlobStore);
    let rows = 0;
    let mismatches = 0;
    const labels: string[] = [];
    for await (const chunk of readDatasetChunks(blobs, dataset!, {
      features: credit.featureNames,
      strings: ['good_credit', 'sex'],
      chunkRows: 300,
    })) {
      for (let r = 0; r < chunk.rows; r++) {
        const expected = credit.X[chunk.firstRow - 1 + r]!;
        for (let j = 0; j < credit.featureNames.length; j++)
          if (chunk.features[r * credit.featureNames.length + j] !== expected[j]) mismatches++;
      }
      labels.push(...chunk.strings['good_credit']!);
      rows += chunk.rows;
    }
    expect(rows).toBe(1000);
    expect(mismatches).toBe(0);
    expect(labels.map(Number)).toEqual(credit.y);
  });

  it('answers a retried upload with the same dataset, one row and one event', async () => {
    const text = 'a,b\n1,x\n2,y\n';
    const first = await put('retry-me', text);
    const second = await put('retry-me', text, { contentType: 'application/octet-stream' });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    const rows = await query<{ id: string }>('SELECT id FROM datasets WHERE name = $1', [
      'retry-me',
    ]);
    expect(rows).toEqual([{ id: (first.body as DatasetAnswer).id }]);
    expect(await ledgerEvents(`dataset:${(first.body as DatasetAnswer).id}`)).toHaveLength(1);

    // The same bytes under another name are another dataset, stored once.
    const other = await put('retry-me-too', text);
    expect((other.body as DatasetAnswer).id).not.toBe((first.body as DatasetAnswer).id);
    expect(storedBlobs().filter((b) => b === sha256Of(text))).toHaveLength(1);
  });

  it('refuses a ragged row, naming its row and column', async () => {
    const error = await refused('a,b,c\n1,2,3\n4,5\n');
    expect(error.message).toBe(
      'dataset: row 2, column "c": the row has 2 values, the header has 3 columns; the first column without a value is named here',
    );
    expect(error.details).toEqual({ field: 'dataset', row: 2, column: 'c' });
  });

  it('refuses bad quoting, naming row, line and column', async () => {
    const lines = german.toString('utf8').split('\n');
    lines[5] = lines[5]!.replace('"male"', '"ma"le"').replace('"female"', '"fem"ale"');
    const error = await refused(lines.join('\n'));
    expect(error.message).toMatch(
      /^dataset: row 5, line 6, column "sex": a closing quote must be followed by a comma/,
    );
    const unclosed = await refused('id,note\n1,"fine"\n2,"never closed\n3,x\n');
    expect(unclosed.message).toBe(
      'dataset: row 2, column "note": a quoted value is never closed (the file ends inside it)',
    );
  });

  it('refuses bytes that are not UTF-8', async () => {
    const error = await refused(Buffer.from('name,city\n1,Z\xfcrich\n', 'latin1'));
    expect(error.message).toMatch(/^dataset: line 2: is not UTF-8 text/);
  });

  it('refuses more rows than the limit, naming the first row too many', async () => {
    const over = `${german.toString('utf8').trimEnd()}\n${german.toString('utf8').split('\n')[1]}\n`;
    const error = await refused(over);
    expect(error.message).toBe(
      `dataset: row ${MAX_ROWS + 1}: the file has more than ${MAX_ROWS} data rows, the most a dataset may have`,
    );
  });

  it('refuses empty or repeated header names, and a file without data rows', async () => {
    expect((await refused('a,,c\n1,2,3\n')).message).toBe(
      'dataset: column "#2": the header gives this column no name',
    );
    expect((await refused('a,b,a\n1,2,3\n')).message).toMatch(/header names two columns "a"/);
    expect((await refused('a,b\n')).message).toBe('dataset: has a header but no data rows');
    expect((await refused('')).message).toMatch(/^dataset: is empty/);
  });

  it('refuses a missing or malformed name before reading the body', async () => {
    for (const name of [null, '', '-leading-hyphen', 'has space', 'x'.repeat(129), 'ünï']) {
      const res = await put(name, 'a\n1\n');
      expect([name, res.status]).toEqual([name, 400]);
      expect((res.body as ErrorBody).error.details?.['field']).toBe('name');
    }
  });

  it('answers 413 past the size limit', async () => {
    const res = await put('too-big', 'x\n' + '1\n'.repeat(MAX_BYTES / 2));
    expect(res.status).toBe(413);
    expect((res.body as ErrorBody).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('keeps no bytes of refused uploads', async () => {
    const registered = await query<{ sha256: string }>(
      'SELECT sha256 FROM datasets UNION SELECT columnar_sha256 FROM datasets',
      [],
    );
    expect(storedBlobs().sort()).toEqual(registered.map((r) => r.sha256).sort());
    expect(readdirSync(join(app.config.dataDir, 'blobs', 'tmp'))).toEqual([]);
  });

  it('needs a token and a role that may create datasets', async () => {
    const anonymous = await put('x', 'a\n1\n', { token: null });
    expect(anonymous.status).toBe(401);
    const engineer = await put('x', 'a\n1\n', { token: await app.token('eve', 'ml-engineer') });
    expect(engineer.status).toBe(403);
    const validator = await put('validated', 'a\n1\n', {
      token: await app.token('val', 'model-validator'),
    });
    expect(validator.status).toBe(200);
  });

  it('pages the datasets query with cursors, optionally by name', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await put('paged', `n\n${i}\n`);
      expect(res.status).toBe(200);
      ids.push((res.body as DatasetAnswer).id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Awaited<ReturnType<typeof app.gql<DatasetsPage>>> = await app.gql<DatasetsPage>(
        `query ($cursor: String) {
          datasets(limit: 2, cursor: $cursor, name: "paged") { items { id name rows } nextCursor }
        }`,
        { cursor },
        auditor,
      );
      expect(res.errors).toBeUndefined();
      const page = res.data!.datasets;
      expect(page.items.length).toBeLessThanOrEqual(2);
      expect(page.items.every((d) => d.name === 'paged' && d.rows === 1)).toBe(true);
      seen.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    // Every dataset once, in (created_at, id) order (uploads in one millisecond tie on id).
    expect([...seen].sort()).toEqual([...ids].sort());
    const ordered = await query<{ id: string }>(
      'SELECT id FROM datasets WHERE name = $1 ORDER BY created_at, id',
      ['paged'],
    );
    expect(seen).toEqual(ordered.map((r) => r.id));

    const all = await app.gql<DatasetsPage>(
      '{ datasets(limit: 200) { items { name } nextCursor } }',
      {},
      auditor,
    );
    const names = all.data!.datasets.items.map((d) => d.name);
    expect(names[0]).toBe('german-credit');
    expect(names.filter((n) => n === 'paged')).toHaveLength(5);
    expect(all.data!.datasets.nextCursor).toBeNull();

    const bad = await app.gql(
      '{ datasets(limit: 2, cursor: "nonsense") { nextCursor } }',
      {},
      auditor,
    );
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('answers the dataset query by id', async () => {
    const uploaded = (await put('german-credit', german)).body as DatasetAnswer;
    const res = await app.gql<{
      dataset: (DatasetAnswer & { createdBy: string; createdAt: string }) | null;
    }>(
      `query ($id: String!) {
        dataset(id: $id) {
          id name sha256 format columnarSha256 size rows columns { name type } createdBy createdAt
        }
      }`,
      { id: uploaded.id },
      auditor,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.dataset).toMatchObject({ ...uploaded, createdBy: 'dana' });
    const missing = await app.gql(
      '{ dataset(id: "00000000-0000-4000-8000-000000000000") { id } }',
      {},
      auditor,
    );
    expect(missing.data).toEqual({ dataset: null });
    const malformed = await app.gql('{ dataset(id: "42") { id } }', {}, auditor);
    expect(malformed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  async function ledgerEvents(subject: string) {
    const res = await app.gql<{
      ledgerEvents: { events: { type: string; actor: { sub: string }; payload: unknown }[] };
    }>(
      `query ($subject: String) {
        ledgerEvents(afterSeq: 0, limit: 50, subject: $subject) { events { type actor { sub } payload } }
      }`,
      { subject },
      auditor,
    );
    expect(res.errors).toBeUndefined();
    return res.data!.ledgerEvents.events;
  }
});

interface DatasetsPage {
  datasets: { items: { id: string; name: string; rows: number }[]; nextCursor: string | null };
}
