import { readFileSync } from 'node:fs';
import { brotliCompressSync, gzipSync, zstdCompressSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';
import { defaultGermanCreditPath } from '../../src/model-builder/index.js';

export const PARQUET = 'application/vnd.apache.parquet';

export type ParquetCodec = 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'BROTLI' | 'ZSTD';

/** Writers for the codecs hyparquet-writer does not carry itself, from Node's zlib. */
const COMPRESSORS = {
  GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input)),
  BROTLI: (input: Uint8Array) => new Uint8Array(brotliCompressSync(input)),
  ZSTD: (input: Uint8Array) => new Uint8Array(zstdCompressSync(input)),
};

export function parquetOf(
  columnData: ColumnSource[],
  options: { codec?: ParquetCodec; rowGroupSize?: number } = {},
): Buffer {
  return Buffer.from(
    parquetWriteBuffer({
      columnData,
      codec: options.codec ?? 'SNAPPY',
      compressors: COMPRESSORS,
      ...(options.rowGroupSize === undefined ? {} : { rowGroupSize: options.rowGroupSize }),
    }),
  );
}

/**
 * The German credit CSV written as Parquet, each column in a type a data engineer might have
 * chosen: the two text columns as STRING, the label as INT32, the 0/1 indicator columns as
 * BOOLEAN or INT32 in turn, the other whole numbers as DOUBLE, INT32 or INT64 in turn. Every
 * one of them must read back as the number the CSV holds.
 */
export function germanCreditParquet(
  options: { codec?: ParquetCodec; rowGroupSize?: number } = {},
): Buffer {
  const records: string[][] = parse(readFileSync(defaultGermanCreditPath()));
  const [header, ...rows] = records;
  if (!header) throw new Error('the German credit CSV has no header');
  let integers = 0;
  let indicators = 0;
  const columns = header.map((name, j): ColumnSource => {
    const texts = rows.map((row) => row[j] ?? '');
    if (name === 'sex' || name === 'age_group') return { name, data: texts, type: 'STRING' };
    const numbers = texts.map(Number);
    if (numbers.some((n) => !Number.isInteger(n))) throw new Error(`${name} is not whole`);
    if (name === 'good_credit') return { name, data: numbers, type: 'INT32' };
    if (numbers.every((n) => n === 0 || n === 1))
      return indicators++ % 2 === 0
        ? { name, data: numbers.map((n) => n === 1), type: 'BOOLEAN' }
        : { name, data: numbers, type: 'INT32' };
    switch (integers++ % 3) {
      case 0:
        return { name, data: numbers, type: 'DOUBLE' };
      case 1:
        return { name, data: numbers, type: 'INT32' };
      default:
        return { name, data: numbers.map(BigInt), type: 'INT64' };
    }
  });
  return parquetOf(columns, options);
}
