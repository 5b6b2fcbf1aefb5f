import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { BadInputError } from '../common/errors.js';
import { CsvAnalysis, type CsvSummary } from './csv-analysis.js';
import { firstInvalidUtf8, parseNumber } from './csv-format.js';

/** Streams the pieces through an analysis as an upload would, consuming the tap. */
async function analyse(
  pieces: readonly (string | Uint8Array)[],
  maxRows = 1000,
): Promise<{ summary: CsvSummary; passed: number }> {
  const analysis = new CsvAnalysis({ maxRows });
  const source = Readable.from(
    pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)),
  );
  let passed = 0;
  for await (const chunk of analysis.tap(source)) passed += chunk.length;
  return { summary: await analysis.result(), passed };
}

async function problem(
  pieces: readonly (string | Uint8Array)[],
  maxRows = 1000,
): Promise<BadInputError> {
  try {
    await analyse(pieces, maxRows);
  } catch (error) {
    expect(error).toBeInstanceOf(BadInputError);
    expect((error as BadInputError).field).toBe('dataset');
    return error as BadInputError;
  }
  throw new Error('expected the CSV to be refused');
}

describe('CsvAnalysis', () => {
  it('counts data rows and infers column types, passing every byte through', async () => {
    const text =
      'id,amount,city,note\n1,12.5,"Paris, France",\n2,-3e2,Oslo,"say ""hi"""\n3,,Rome,x\n';
    const { summary, passed } = await analyse([text.slice(0, 17), text.slice(17)]);
    expect(passed).toBe(Buffer.byteLength(text));
    expect(summary).toEqual({
      rows: 3,
      columns: [
        { name: 'id', type: 'number' },
        { name: 'amount', type: 'number' },
        { name: 'city', type: 'string' },
        { name: 'note', type: 'string' },
      ],
    });
  });

  it('reads CRLF, a BOM, quoted newlines and blank lines; a column with no values is a string', async () => {
    const { summary } = await analyse(['\ufeffa,b,empty\r\n1,"x\r\ny",\r\n\r\n2,z,\r\n']);
    expect(summary).toEqual({
      rows: 2,
      columns: [
        { name: 'a', type: 'number' },
        { name: 'b', type: 'string' },
        { name: 'empty', type: 'string' },
      ],
    });
  });

  it('names row and column of a ragged row', async () => {
    const short = await problem(['a,b,c\n1,2,3\n4,5\n']);
    expect(short.message).toBe(
      'dataset: row 2, column "c": the row has 2 values, the header has 3 columns; the first column without a value is named here',
    );
    expect(short.details).toEqual({ field: 'dataset', row: 2, column: 'c' });
    const long = await problem(['a,b\n1,2,3\n']);
    expect(long.message).toMatch(/^dataset: row 1, column "#3 \(beyond the header\)"/);
  });

  it('names the place of bad quoting', async () => {
    const closing = await problem(['a,b\n1,2\n3,"4"x\n']);
    expect(closing.message).toMatch(/^dataset: row 2, line 3, column "b": a closing quote must/);
    const opening = await problem(['a,b\n1,2\n3,4"x\n']);
    expect(opening.message).toMatch(
      /^dataset: row 2, line 3, column "b": a quote inside an unquoted/,
    );
    const unclosed = await problem(['a,b\n1,2\n3,"4\n5,6\n7,8\n']);
    expect(unclosed.message).toBe(
      'dataset: row 2, column "b": a quoted value is never closed (the file ends inside it)',
    );
  });

  it('refuses empty and repeated header names', async () => {
    expect((await problem(['a,,c\n1,2,3\n'])).message).toBe(
      'dataset: column "#2": the header gives this column no name',
    );
    expect((await problem(['a,b,a\n1,2,3\n'])).message).toBe(
      'dataset: column "a": the header names two columns "a" (#1 and #3)',
    );
  });

  it('refuses an empty file and a header without rows', async () => {
    expect((await problem([])).message).toMatch(/is empty: a header line/);
    expect((await problem(['a,b\n'])).message).toMatch(/has a header but no data rows/);
  });

  it('refuses more rows than the limit, naming the first row too many', async () => {
    const rows = ['x\n', ...Array.from({ length: 10 }, (_, i) => `${i}\n`)];
    expect((await analyse(rows, 10)).summary.rows).toBe(10);
    expect((await problem(rows, 9)).message).toBe(
      'dataset: row 10: the file has more than 9 data rows, the most a dataset may have',
    );
  });

  it('stops reading at the first problem', async () => {
    const analysis = new CsvAnalysis({ maxRows: 1000 });
    let pulled = 0;
    function* endless(): Generator<Uint8Array> {
      yield Buffer.from('a,b\n1,2,3\n');
      for (;;) {
        pulled++;
        yield Buffer.from('4,5\n'.repeat(1000));
      }
    }
    await expect(
      (async () => {
        for await (const chunk of analysis.tap(Readable.from(endless())))
          expect(chunk).toBeTruthy();
      })(),
    ).rejects.toThrow(/row 1, column "#3/);
    // An endless source ends: what was pulled is what the stream buffers held (~100 kB).
    expect(pulled).toBeLessThan(100);
  });

  it('refuses bytes that are not UTF-8, naming the line; accepts characters split across chunks', async () => {
    const latin1 = Buffer.from('name,city\n1,Z\xfcrich\n', 'latin1');
    const error = await problem([latin1]);
    expect(error.message).toBe(
      'dataset: line 2: is not UTF-8 text (byte 0xfc at offset 13); save the file as UTF-8',
    );
    const utf8 = Buffer.from('name,city\n1,Zürich\n2,東京\n');
    const split = [utf8.subarray(0, 14), utf8.subarray(14, 26), utf8.subarray(26)];
    expect((await analyse(split)).summary.rows).toBe(2);
    const cut = await problem([utf8.subarray(0, utf8.length - 3)]);
    expect(cut.message).toMatch(/^dataset: line 3: is not UTF-8 text/);
  });
});

describe('parseNumber', () => {
  it('takes decimal and scientific notation, nothing else', () => {
    expect(['1', '-2.5', '+.5', '3.', '1e-3', ' 7 '].map(parseNumber)).toEqual([
      1, -2.5, 0.5, 3, 0.001, 7,
    ]);
    for (const text of ['', ' ', 'abc', '0x10', 'Infinity', 'NaN', '1,5', '1e999', '--1'])
      expect([text, parseNumber(text)]).toEqual([text, undefined]);
  });

  it('agrees with the pattern it stands for on any text built of number characters', () => {
    const pattern = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
    const byPattern = (text: string): number | undefined => {
      const trimmed = text.trim();
      const value = Number(trimmed);
      return pattern.test(trimmed) && Number.isFinite(value) ? value : undefined;
    };
    const char = fc.constantFrom(
      ...'0123456789+-.eExXoObBaAfF_ ,'.split(''),
      '0000000',
      '99999999',
      '\t',
      '\u00a0',
      '\ufeff',
      '\n',
      'Infinity',
      '1e400',
    );
    fc.assert(
      fc.property(fc.array(char, { maxLength: 16 }), (chars) => {
        const text = chars.join('');
        expect([text, Object.is(parseNumber(text), byPattern(text))]).toEqual([text, true]);
      }),
      { numRuns: 20_000 },
    );
    const decimal = fc
      .tuple(
        fc.constantFrom('', '-', '+'),
        fc.array(fc.constantFrom(...'0123456789'.split('')), { minLength: 1, maxLength: 20 }),
        fc.nat(21),
      )
      .map(([sign, digits, point]) =>
        point < digits.length
          ? `${sign}${digits.slice(0, point).join('')}.${digits.slice(point).join('')}`
          : `${sign}${digits.join('')}`,
      );
    fc.assert(
      fc.property(fc.oneof(decimal, fc.double({ noNaN: true }).map(String)), (text) => {
        expect([text, Object.is(parseNumber(text), byPattern(text))]).toEqual([text, true]);
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('firstInvalidUtf8', () => {
  it('finds overlong forms, surrogates and stray continuation bytes', () => {
    expect(firstInvalidUtf8(Buffer.from('añ€😀'))).toBe(Buffer.byteLength('añ€😀'));
    expect(firstInvalidUtf8(Uint8Array.from([0x41, 0xc0, 0x80]))).toBe(1);
    expect(firstInvalidUtf8(Uint8Array.from([0x41, 0x42, 0xed, 0xa0, 0x80]))).toBe(2);
    expect(firstInvalidUtf8(Uint8Array.from([0x80]))).toBe(0);
    expect(firstInvalidUtf8(Uint8Array.from([0xe2, 0x82]))).toBe(0);
  });
});
