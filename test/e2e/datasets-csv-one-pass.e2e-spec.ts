import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { tableFromIPC } from 'apache-arrow';
import pg from 'pg';
import { BadInputError } from '../../src/common/errors.js';
import { columnarFileBytes } from '../../src/datasets/columnar-file.js';
import { checkCsv } from '../../src/datasets/csv-analysis.js';
import { csvColumnBatches } from '../../src/datasets/csv-columns.js';
import { startTestApp, type TestApp } from '../support/app.js';

interface Answer {
  readonly status: number;
  readonly body: {
    columnarSha256?: string;
    rows?: number;
    columns?: { name: string; type: string }[];
    error?: { code: string; message: string; details?: Record<string, unknown> };
  };
}

/** The columnar file of a CSV as the checks and a second read write it, and its digest. */
async function twoReadsColumnarSha256(csv: Buffer): Promise<string> {
  const { summary, lineEnding } = await checkCsv(Readable.from([csv]), { maxRows: 10_000_000 });
  const hash = createHash('sha256');
  for await (const piece of columnarFileBytes(
    summary.columns.map((c) => ({ name: c.name, kind: c.type })),
    csvColumnBatches(Readable.from([csv]), summary.columns, summary.rows, lineEnding),
  ))
    hash.update(piece);
  return hash.digest('hex');
}

async function refusalOf(csv: Buffer): Promise<string> {
  try {
    await checkCsv(Readable.from([csv]), { maxRows: 10_000_000 });
  } catch (error) {
    if (error instanceof BadInputError) return error.message;
    throw error;
  }
  throw new Error('expected csv-parse to refuse the file');
}

/**
 * CSV uploads read once (no quote in their first 64 KiB: csv-one-pass.ts) as the service
 * stores them, and the ways back to csv-parse and a second read: a column typed from the first
 * record batch that turns out text, a quote met after the first 64 KiB.
 */
describe('PUT /v1/datasets, a CSV read once', () => {
  let app: TestApp;
  let token: string;

  async function put(name: string, body: Buffer): Promise<Answer> {
    const response = await fetch(`${app.url}/v1/datasets?name=${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: new Uint8Array(body),
    });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }

  function blobPath(sha256: string): string {
    return join(app.config.dataDir, 'blobs', 'sha256', sha256.slice(0, 2), sha256);
  }

  function storedBlobs(): string[] {
    const root = join(app.config.dataDir, 'blobs', 'sha256');
    if (!existsSync(root)) return [];
    return readdirSync(root).flatMap((dir) => readdirSync(join(root, dir)));
  }

  async function count(sql: string): Promise<number> {
    const client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    try {
      return Number((await client.query<{ n: string }>(sql)).rows[0]?.n);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    app = await startTestApp();
    token = await app.token('dana', 'data-scientist');
  });
  afterAll(async () => {
    await app.close();
  });

  it('keeps a column numeric for 40,000 rows and then text as text, every value as written', async () => {
    const lines = ['id,code,score'];
    const codes: string[] = [];
    for (let i = 1; i <= 40_000; i++) {
      const code = i === 40_000 ? 'A12' : i % 10 === 0 ? '007' : String(i % 97);
      codes.push(code);
      lines.push(`${i},${code},${(i % 13) / 4}`);
    }
    const csv = Buffer.from(`${lines.join('\n')}\n`);
    const answer = await put('numbers-then-text', csv);
    expect(answer.status).toBe(200);
    expect(answer.body.rows).toBe(40_000);
    expect(answer.body.columns).toEqual([
      { name: 'id', type: 'number' },
      { name: 'code', type: 'string' },
      { name: 'score', type: 'number' },
    ]);
    expect(answer.body.columnarSha256).toBe(await twoReadsColumnarSha256(csv));
    const table = tableFromIPC(readFileSync(blobPath(answer.body.columnarSha256 ?? '')));
    const code = table.getChild('code');
    expect(code?.length).toBe(40_000);
    expect(Array.from({ length: 40_000 }, (_, i) => String(code?.get(i)))).toEqual(codes);
  });

  it('writes the same columnar file as the two reads for a file read once', async () => {
    const lines = ['x,group,maybe'];
    for (let i = 0; i < 70_000; i++)
      lines.push(`${i / 7},${i % 3 === 0 ? 'a' : 'b'},${i % 11 === 0 ? '' : String(-i)}`);
    const csv = Buffer.from(`${lines.join('\r\n')}\r\n`);
    const answer = await put('read-once', csv);
    expect(answer.status).toBe(200);
    expect(answer.body.columnarSha256).toBe(await twoReadsColumnarSha256(csv));
  });

  it('checks with csv-parse a file whose first quote comes after its first 64 KiB', async () => {
    const head = 'id,note\n' + Array.from({ length: 20_000 }, (_, i) => `${i},n${i}\n`).join('');
    expect(head.length).toBeGreaterThan(64 << 10);
    const good = Buffer.from(`${head}20000,"a, quoted note"\n20001,plain\n`);
    const answer = await put('quote-later', good);
    expect(answer.status).toBe(200);
    expect(answer.body.rows).toBe(20_002);
    expect(answer.body.columnarSha256).toBe(await twoReadsColumnarSha256(good));

    const bad = Buffer.from(`${head}20000,"bad"quote\n20001,plain\n`);
    const refused = await put('bad-quote-later', bad);
    expect(refused.status).toBe(400);
    expect(refused.body.error?.message).toBe(await refusalOf(bad));
    expect(refused.body.error?.message).toMatch(
      /^dataset: row 20001, line 20002, column "note": a closing quote must be followed by a comma/,
    );
  });

  it('writes the columns of a file csv-parse checked with the line ending it read', async () => {
    // Its first line ends in CRLF, so a lone CR is text to csv-parse; a BOM before a blank line.
    for (const [name, text] of [
      ['lone-cr', 'a\r\n\rmale'],
      ['bom-blank', '\ufeff\r\na,b\r\nx,1\r\n'],
    ] as const) {
      const csv = Buffer.from(text);
      const answer = await put(name, csv);
      expect([name, answer.status]).toEqual([name, 200]);
      expect(answer.body.columnarSha256).toBe(await twoReadsColumnarSha256(csv));
    }
  });

  it('refuses a ragged row deep in a file read once, keeping no bytes, row or event', async () => {
    const datasets = await count('SELECT count(*) AS n FROM datasets');
    const events = await count('SELECT count(*) AS n FROM ledger_events');
    const blobs = storedBlobs().length;
    const lines = ['a,b,c'];
    for (let i = 0; i < 100_000; i++) lines.push(i === 90_000 ? '1,2' : `${i},${i},x`);
    const csv = Buffer.from(lines.join('\n'));
    const answer = await put('ragged-late', csv);
    expect(answer.status).toBe(400);
    expect(answer.body.error?.message).toBe(
      'dataset: row 90001, column "c": the row has 2 values, the header has 3 columns; the first column without a value is named here',
    );
    expect(answer.body.error?.message).toBe(await refusalOf(csv));
    expect(await count('SELECT count(*) AS n FROM datasets')).toBe(datasets);
    expect(await count('SELECT count(*) AS n FROM ledger_events')).toBe(events);
    expect(storedBlobs()).toHaveLength(blobs);
    expect(readdirSync(join(app.config.dataDir, 'blobs', 'tmp'))).toEqual([]);
  });
});
