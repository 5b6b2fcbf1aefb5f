import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The German credit data set (data/german_credit.csv), split into features, label and groups. */
export interface GermanCredit {
  /** Every column except `sex`, `age_group` and `good_credit`, in file order. */
  readonly featureNames: string[];
  /** One row of features per applicant, in `featureNames` order. */
  readonly X: Float32Array[];
  /** `good_credit`: 1 = good risk, 0 = bad risk. */
  readonly y: number[];
  /** `female` | `male`. */
  readonly sex: string[];
  /** `under_25` | `25_and_over`. */
  readonly ageGroup: string[];
}

const GROUP_COLUMNS = ['sex', 'age_group'] as const;
const LABEL_COLUMN = 'good_credit';
const RELATIVE_PATH = join('data', 'german_credit.csv');

/**
 * The repository's copy of the data: looked for in `data/` of this folder's ancestors (this
 * module runs from `src/model-builder` under Jest and from `dist/src/model-builder` when
 * built), then of the working directory.
 */
export function defaultGermanCreditPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, RELATIVE_PATH);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return resolve(RELATIVE_PATH);
    dir = parent;
  }
}

/**
 * Reads german_credit.csv. The parser is deliberately tiny and knows only this well-formed file:
 * comma-separated numbers and double-quoted strings, no embedded commas, quotes or newlines.
 */
export function loadGermanCredit(path: string = defaultGermanCreditPath()): GermanCredit {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.length > 0);
  const [headerLine, ...rows] = lines;
  if (headerLine === undefined) throw new Error(`${path}: empty file`);
  const header = splitLine(headerLine);
  const columnIndex = (name: string): number => {
    const index = header.indexOf(name);
    if (index < 0) throw new Error(`${path}: no column ${name}`);
    return index;
  };
  const sexIndex = columnIndex(GROUP_COLUMNS[0]);
  const ageGroupIndex = columnIndex(GROUP_COLUMNS[1]);
  const labelIndex = columnIndex(LABEL_COLUMN);
  const featureIndexes = header
    .map((_, index) => index)
    .filter((index) => index !== sexIndex && index !== ageGroupIndex && index !== labelIndex);

  const X: Float32Array[] = [];
  const y: number[] = [];
  const sex: string[] = [];
  const ageGroup: string[] = [];
  rows.forEach((line, rowIndex) => {
    const fields = splitLine(line);
    const where = `${path}:${rowIndex + 2}`;
    if (fields.length !== header.length) {
      throw new Error(`${where}: ${fields.length} fields, expected ${header.length}`);
    }
    const field = (index: number): string => fields[index] ?? '';
    const number = (index: number): number => {
      const value = Number(field(index));
      if (field(index) === '' || !Number.isFinite(value)) {
        throw new Error(`${where}: ${header[index] ?? index} is not a number: ${field(index)}`);
      }
      return value;
    };
    X.push(Float32Array.from(featureIndexes, number));
    const label = number(labelIndex);
    if (label !== 0 && label !== 1) throw new Error(`${where}: ${LABEL_COLUMN} must be 0 or 1`);
    y.push(label);
    sex.push(field(sexIndex));
    ageGroup.push(field(ageGroupIndex));
  });
  return {
    featureNames: featureIndexes.map((index) => header[index] ?? ''),
    X,
    y,
    sex,
    ageGroup,
  };
}

function splitLine(line: string): string[] {
  return line.split(',').map((field) => {
    const trimmed = field.trim();
    return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')
      ? trimmed.slice(1, -1)
      : trimmed;
  });
}
