import { MetricInputError } from './errors.js';

/** A protected attribute already dictionary-encoded (e.g. by a CSV reader): one code a row. */
export interface EncodedGroups {
  readonly dictionary: readonly string[];
  readonly codes: ArrayLike<number>;
}

/** Groups of one attribute in code-point order of their names, and each row's group index. */
export interface GroupCodes {
  readonly names: readonly string[];
  readonly codes: Int32Array;
}

/**
 * Groups are whatever values occur in the data (a missing value is the group ""), so no group
 * is empty. They are numbered in code-point order of their names, which makes every result
 * independent of row order.
 */
export function encodeGroups(field: string, values: readonly string[] | EncodedGroups): GroupCodes {
  const { dictionary, firstCodes } =
    'codes' in values ? checkEncoded(field, values) : encodeStrings(values);
  const used = new Uint8Array(dictionary.length);
  for (let i = 0; i < firstCodes.length; i++) used[firstCodes[i] ?? 0] = 1;
  const present = dictionary
    .map((name, code) => ({ name, code }))
    .filter(({ code }) => used[code] === 1)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let k = 1; k < present.length; k++) {
    if (present[k]?.name === present[k - 1]?.name) {
      throw new MetricInputError(
        field,
        `the group name "${present[k]?.name ?? ''}" appears twice in the dictionary`,
      );
    }
  }
  const remap = new Int32Array(dictionary.length);
  present.forEach(({ code }, index) => (remap[code] = index));
  const codes = new Int32Array(firstCodes.length);
  for (let i = 0; i < codes.length; i++) codes[i] = remap[firstCodes[i] ?? 0] ?? 0;
  return { names: present.map(({ name }) => name), codes };
}

function encodeStrings(values: readonly string[]): {
  dictionary: string[];
  firstCodes: Int32Array;
} {
  const index = new Map<string, number>();
  const dictionary: string[] = [];
  const firstCodes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? '';
    let code = index.get(value);
    if (code === undefined) {
      code = dictionary.length;
      index.set(value, code);
      dictionary.push(value);
    }
    firstCodes[i] = code;
  }
  return { dictionary, firstCodes };
}

function checkEncoded(
  field: string,
  { dictionary, codes }: EncodedGroups,
): { dictionary: readonly string[]; firstCodes: Int32Array } {
  const firstCodes = new Int32Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] ?? -1;
    if (!Number.isInteger(code) || code < 0 || code >= dictionary.length) {
      throw new MetricInputError(field, `group code ${String(code)} is not in the dictionary`, i);
    }
    firstCodes[i] = code;
  }
  return { dictionary, firstCodes };
}
