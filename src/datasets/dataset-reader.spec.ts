import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BlobCorruptError, BlobStore } from '../blobs/blob-store.js';
import { BadInputError } from '../common/errors.js';
import {
  checkReadable,
  readCsvChunks,
  readDatasetChunks,
  type DatasetChunk,
} from './dataset-reader.js';

function bytesOf(...pieces: string[]): AsyncIterable<Uint8Array> {
  return Readable.from(pieces.map((piece) => Buffer.from(piece)));
}

async function collect(chunks: AsyncIterable<DatasetChunk>): Promise<DatasetChunk[]> {
  const all: DatasetChunk[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
}

async function failure(chunks: AsyncIterable<DatasetChunk>): Promise<Error> {
  try {
    await collect(chunks);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the read to fail');
}

const CSV =
  'id,x1,label,x2,sex\n1,0.5,good,10,f\n2,1.5,bad,20,m\n3,-2,good,30,f\n4,1e1,bad,40,m\n5,7,good,50,f\n';

describe('readCsvChunks', () => {
  it('yields features row-major in the requested order and string columns beside them, across chunk boundaries', async () => {
    const chunks = await collect(
      readCsvChunks(bytesOf(CSV.slice(0, 23), CSV.slice(23)), {
        features: ['x2', 'x1'],
        strings: ['label', 'sex'],
        chunkRows: 2,
      }),
    );
    expect(chunks.map((c) => [c.firstRow, c.rows])).toEqual([
      [1, 2],
      [3, 2],
      [5, 1],
    ]);
    expect(Array.from(chunks[0]!.features)).toEqual([10, 0.5, 20, 1.5]);
    expect(Array.from(chunks[1]!.features)).toEqual([30, -2, 40, 10]);
    expect(Array.from(chunks[2]!.features)).toEqual([50, 7]);
    expect(chunks[1]!.strings).toEqual({ label: ['good', 'bad'], sex: ['f', 'm'] });
    expect(chunks[2]!.strings).toEqual({ label: ['good'], sex: ['f'] });
    // Each chunk has its own array: a consumer may keep it.
    expect(chunks[0]!.features.buffer).not.toBe(chunks[1]!.features.buffer);
  });

  it('yields exactly full chunks when the rows divide evenly', async () => {
    const chunks = await collect(readCsvChunks(bytesOf(CSV), { features: ['x1'], chunkRows: 5 }));
    expect(chunks.map((c) => c.rows)).toEqual([5]);
  });

  it('names the row and column of a value that is not a number', async () => {
    const bad = 'a,b\n1,2\n3,4\n5,abc\n';
    const error = await failure(
      readCsvChunks(bytesOf(bad), { features: ['a', 'b'], chunkRows: 2 }),
    );
    expect(error).toBeInstanceOf(BadInputError);
    expect(error.message).toBe('dataset: row 3, column "b": "abc" is not a number');
    const empty = await failure(readCsvChunks(bytesOf('a,b\n1,\n'), { features: ['b'] }));
    expect(empty.message).toBe(
      'dataset: row 1, column "b": the value is empty; a feature column needs a number in every row',
    );
  });

  it('does not require string columns to be numbers', async () => {
    const [chunk] = await collect(
      readCsvChunks(bytesOf('a,b\n1,\n'), { features: ['a'], strings: ['b'] }),
    );
    expect(chunk!.strings).toEqual({ b: [''] });
  });

  it('gives number columns as numbers (NaN where there is none) and group columns as codes into one growing dictionary', async () => {
    const csv = 'x,y,g\n1,0,a\n2, 1 ,b\n3,,a\n4,yes,\n5,1e1,c\n';
    const chunks = await collect(
      readCsvChunks(bytesOf(csv), {
        features: ['x'],
        numbers: ['y'],
        groups: ['g', 'x'],
        chunkRows: 2,
      }),
    );
    expect(chunks.flatMap((c) => Array.from(c.numbers['y']!))).toEqual([
      0,
      1,
      Number.NaN,
      Number.NaN,
      10,
    ]);
    const [first, , last] = chunks;
    expect(Array.from(first!.groups['g']!.codes)).toEqual([0, 1]);
    expect(Array.from(last!.groups['g']!.codes)).toEqual([3]);
    // The dictionary is shared by the chunks: earlier codes keep their meaning.
    expect(first!.groups['g']!.dictionary).toBe(last!.groups['g']!.dictionary);
    expect(last!.groups['g']!.dictionary).toEqual(['a', 'b', '', 'c']);
    expect(last!.groups['x']!.dictionary).toEqual(['1', '2', '3', '4', '5']);
  });

  it('names a requested column the file does not have', async () => {
    const error = await failure(readCsvChunks(bytesOf(CSV), { features: ['x1', 'x9'] }));
    expect(error.message).toBe('dataset: has no column "x9"');
    const label = await failure(readCsvChunks(bytesOf(CSV), { features: [], strings: ['y'] }));
    expect(label.message).toBe('dataset: has no column "y"');
  });

  it('names ragged rows and bad quoting', async () => {
    const ragged = await failure(readCsvChunks(bytesOf('a,b\n1,2\n3\n'), { features: ['a'] }));
    expect(ragged.message).toBe('dataset: row 2: the row has 1 values, the header has 2 columns');
    const quote = await failure(readCsvChunks(bytesOf('a,b\n1,"2\n'), { features: ['a'] }));
    expect(quote.message).toMatch(/^dataset: row 1, column "b": a quoted value is never closed/);
  });

  it('reads a large file in bounded memory: the source is pulled as chunks are consumed', async () => {
    const total = 1_000_000;
    let produced = 0;
    function* rows(): Generator<Uint8Array> {
      yield Buffer.from('a,b,label\n');
      while (produced < total) {
        const lines: string[] = [];
        for (let i = 0; i < 1000; i++, produced++) lines.push(`${produced},${produced % 7},y\n`);
        yield Buffer.from(lines.join(''));
      }
    }
    let rowsSeen = 0;
    let sum = 0;
    let maxAhead = 0;
    for await (const chunk of readCsvChunks(Readable.from(rows()), {
      features: ['a', 'b'],
      strings: ['label'],
      chunkRows: 4096,
    })) {
      maxAhead = Math.max(maxAhead, produced - rowsSeen);
      rowsSeen += chunk.rows;
      for (let i = 1; i < chunk.features.length; i += 2) sum += chunk.features[i]!;
    }
    expect(rowsSeen).toBe(total);
    let expected = 0;
    for (let i = 0; i < total; i++) expected += i % 7;
    expect(sum).toBe(expected);
    // Never more than a few chunks' worth read ahead of the consumer.
    expect(maxAhead).toBeLessThan(50_000);
  }, 120_000);
});

describe('readDatasetChunks', () => {
  let dir: string;
  let blobs: BlobStore;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-reader-'));
    blobs = new BlobStore(dir);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a stored dataset whose bytes match its digest', async () => {
    const { sha256 } = await blobs.putBytes(Buffer.from(CSV), 'dataset');
    const chunks = await collect(
      readDatasetChunks(
        blobs,
        { sha256, columnarSha256: null },
        { features: ['x1'], strings: ['label'], chunkRows: 3 },
      ),
    );
    expect(chunks.map((c) => c.rows)).toEqual([3, 2]);
    expect(Array.from(chunks[1]!.features)).toEqual([10, 7]);
  });

  it('refuses a stored file that no longer matches its digest, before its last chunk', async () => {
    const { sha256, path } = await blobs.putBytes(Buffer.from('a\n1\n2\n3\n'), 'dataset');
    appendFileSync(path, '4\n');
    const seen: number[] = [];
    const error = await failure(
      (async function* () {
        for await (const chunk of readDatasetChunks(
          blobs,
          { sha256, columnarSha256: null },
          {
            features: ['a'],
            chunkRows: 2,
          },
        )) {
          seen.push(...chunk.features);
          yield chunk;
        }
      })(),
    );
    expect(error).toBeInstanceOf(BlobCorruptError);
    // Rows 1–2 were given out; the final chunk (3, 4) was held back and never delivered.
    expect(seen).toEqual([1, 2]);
  });
});

describe('checkReadable', () => {
  const dataset = {
    name: 'credit',
    columns: [
      { name: 'age', type: 'number' as const },
      { name: 'sex', type: 'string' as const },
      { name: 'label', type: 'number' as const },
    ],
  };

  it('accepts numeric features and any string columns', () => {
    expect(() => {
      checkReadable(dataset, { features: ['age', 'label'], strings: ['sex', 'label'] });
    }).not.toThrow();
  });

  it('names a missing column and a feature column that is not numeric', () => {
    expect(() => {
      checkReadable(dataset, { features: ['age'], strings: ['group'] }, 'protectedAttributes');
    }).toThrow('protectedAttributes: dataset credit has no column "group"');
    expect(() => {
      checkReadable(dataset, { features: ['age', 'sex'] });
    }).toThrow(/^featureColumns: column "sex" of dataset credit is not numeric/);
  });
});
