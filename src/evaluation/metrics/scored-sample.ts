import {
  binaryLabels,
  finiteCopy,
  requireFinite,
  requireRows,
  requireSameLength,
  type LabelColumn,
  type NumericColumn,
} from './columns.js';
import { MetricInputError } from './errors.js';
import { encodeGroups, type EncodedGroups } from './groups.js';
import { keyValues, radixSort, sortKeys } from './radix.js';

/** A protected attribute: one group value a row, and optionally the group others are compared to. */
export interface AttributeColumn {
  readonly name: string;
  readonly values: readonly string[] | EncodedGroups;
  readonly referenceGroup?: string | null;
}

/** The policy knobs fairness figures depend on (policies/evaluation.yaml `fairness`). */
export interface FairnessPolicy {
  /** Groups with fewer rows are flagged and left out of the headline figures. */
  readonly minGroupSize: number;
  /** The four-fifths rule: disparate impact at or above this passes. */
  readonly disparateImpactThreshold: number;
}

export interface ClassificationInput {
  /** 1 = positive class, 0 = negative. */
  readonly labels: LabelColumn;
  /** The model's score for the positive class, a probability for log loss and Brier. */
  readonly scores: NumericColumn;
  /** A row is predicted positive when score >= threshold. */
  readonly threshold: number;
  readonly attributes?: readonly AttributeColumn[];
  /** Required when attributes are given. */
  readonly fairness?: FairnessPolicy;
  /**
   * Probabilities are clipped to [eps, 1 − eps] for log loss. Default as scikit-learn ≥ 1.5:
   * the machine epsilon of the scores' type, 2^-23 for a Float32Array, 2^-52 otherwise.
   */
  readonly logLossEps?: number;
}

export interface PreparedAttribute {
  readonly name: string;
  /** Group names in code-point order. */
  readonly groups: readonly string[];
  /** Rows per group. */
  readonly sizes: Int32Array;
  /** Index into groups, or -1. */
  readonly reference: number;
}

/**
 * Rows of one attribute block share a joint cell code: the mixed-radix number of their groups
 * in each attribute of the block, times 4, plus the confusion cell. Counting a resample is then
 * one increment per row for all attributes together.
 */
interface CellBlock {
  readonly attributes: readonly number[];
  readonly codes: Int32Array;
  readonly cells: number;
}

/**
 * Everything the figures need, computed once: the rows in ascending score order (ties in row
 * order), with what each contributes. A bootstrap resample is then only a vector of weights
 * over these positions, never a new sort.
 */
export interface ScoredSample {
  readonly rows: number;
  readonly threshold: number;
  readonly logLossEps: number;
  readonly fairness: FairnessPolicy | null;
  readonly attributes: readonly PreparedAttribute[];
  /** The first row whose score is outside [0, 1]: no log loss or Brier score then. */
  readonly outOfRange: { readonly row: number; readonly score: number } | null;
  readonly distinctScores: number;
  /** By position: 1 where the score differs from the previous position's. */
  readonly tieStart: Uint8Array;
  readonly rowLogLoss: Float64Array;
  readonly rowBrier: Float64Array;
  readonly blocks: readonly CellBlock[];
}

/** Confusion cells: label·2 + predicted. */
export const TN = 0;
export const FP = 1;
export const FN = 2;
export const TP = 3;

// 16384 float64 cells (128 KiB) stay in the second-level cache while rows are counted.
const MAX_BLOCK_CELLS = 16384;

export function prepareSample(input: ClassificationInput): ScoredSample {
  const rows = input.labels.length;
  requireRows('labels', rows);
  requireSameLength('scores', input.scores.length, rows);
  requireFinite('threshold', input.threshold);
  const labels = binaryLabels('labels', input.labels);
  const scores = finiteCopy('scores', input.scores);
  const logLossEps =
    input.logLossEps ?? (scores instanceof Float32Array ? 2 ** -23 : Number.EPSILON);
  if (!(logLossEps > 0 && logLossEps < 0.5)) {
    throw new MetricInputError('logLossEps', `${String(logLossEps)} is not in (0, 0.5)`);
  }
  const attributes = input.attributes ?? [];
  if (attributes.length > 0 && input.fairness === undefined) {
    throw new MetricInputError(
      'fairness',
      'a fairness policy is required with protected attributes',
    );
  }
  const fairness = input.fairness ?? null;
  if (fairness !== null) checkPolicy(fairness);

  const iota = new Int32Array(rows);
  for (let i = 0; i < rows; i++) iota[i] = i;
  const sorted = radixSort(sortKeys(scores), iota);
  const order = sorted.payload ?? iota;
  const { tieStart, distinct } = tieStarts(sorted.keys);

  const encoded = encodeAttributes(attributes, rows);
  const threshold = input.threshold;
  const cell = new Uint8Array(rows);
  const rowLogLoss = new Float64Array(rows);
  const rowBrier = new Float64Array(rows);
  const outOfRange = firstOutOfRange(scores);
  // Scores read back from the sorted keys are sequential in memory; only labels are gathered.
  const sortedScores = keyValues(sorted.keys);
  for (let k = 0; k < rows; k++) {
    const score = sortedScores[k] ?? 0;
    const label = labels[order[k] ?? 0] ?? 0;
    cell[k] = label * 2 + (score >= threshold ? 1 : 0);
    if (outOfRange !== null) continue;
    const p = Math.min(Math.max(score, logLossEps), 1 - logLossEps);
    rowLogLoss[k] = label === 1 ? -Math.log(p) : -Math.log(1 - p);
    rowBrier[k] = (score - label) ** 2;
  }
  return {
    rows,
    threshold,
    logLossEps,
    fairness,
    attributes: encoded.map(({ prepared }) => prepared),
    outOfRange,
    distinctScores: distinct,
    tieStart,
    rowLogLoss,
    rowBrier,
    blocks: cellBlocks(encoded, order, cell),
  };
}

function checkPolicy(policy: FairnessPolicy): void {
  if (!Number.isInteger(policy.minGroupSize) || policy.minGroupSize < 1) {
    throw new MetricInputError(
      'fairness.minGroupSize',
      `${String(policy.minGroupSize)} is not a positive integer`,
    );
  }
  const t = policy.disparateImpactThreshold;
  if (!(t > 0 && t <= 1)) {
    throw new MetricInputError(
      'fairness.disparateImpactThreshold',
      `${String(t)} is not in (0, 1]`,
    );
  }
}

function tieStarts(keys: readonly Uint32Array[]): { tieStart: Uint8Array; distinct: number } {
  const n = keys[0]?.length ?? 0;
  const tieStart = new Uint8Array(n);
  const low = keys[0] ?? new Uint32Array(0);
  const high = keys[1] ?? low;
  let distinct = 0;
  for (let k = 0; k < n; k++) {
    if (k === 0 || low[k] !== low[k - 1] || high[k] !== high[k - 1]) {
      tieStart[k] = 1;
      distinct++;
    }
  }
  return { tieStart, distinct };
}

function firstOutOfRange(scores: Float64Array | Float32Array): ScoredSample['outOfRange'] {
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i] ?? 0;
    if (score < 0 || score > 1) return { row: i, score };
  }
  return null;
}

interface EncodedAttribute {
  readonly prepared: PreparedAttribute;
  readonly codes: Int32Array;
}

function encodeAttributes(
  attributes: readonly AttributeColumn[],
  rows: number,
): EncodedAttribute[] {
  const seen = new Set<string>();
  return attributes.map((attribute, index) => {
    const field = `attributes[${index}]`;
    if (seen.has(attribute.name)) {
      throw new MetricInputError(field, `the attribute "${attribute.name}" is given twice`);
    }
    seen.add(attribute.name);
    const length =
      'codes' in attribute.values ? attribute.values.codes.length : attribute.values.length;
    requireSameLength(`${field} (${attribute.name})`, length, rows);
    const { names, codes } = encodeGroups(`${field} (${attribute.name})`, attribute.values);
    const sizes = new Int32Array(names.length);
    for (let i = 0; i < rows; i++) {
      const g = codes[i] ?? 0;
      sizes[g] = (sizes[g] ?? 0) + 1;
    }
    const referenceGroup = attribute.referenceGroup ?? null;
    const reference = referenceGroup === null ? -1 : names.indexOf(referenceGroup);
    if (referenceGroup !== null && reference < 0) {
      throw new MetricInputError(
        `${field}.referenceGroup`,
        `the group "${referenceGroup}" does not occur in attribute "${attribute.name}"`,
      );
    }
    return { prepared: { name: attribute.name, groups: names, sizes, reference }, codes };
  });
}

function cellBlocks(
  encoded: readonly EncodedAttribute[],
  order: Int32Array,
  cell: Uint8Array,
): CellBlock[] {
  const plan: number[][] = [[]];
  let cells = 4;
  encoded.forEach(({ prepared }, index) => {
    const groups = prepared.groups.length;
    const current = plan[plan.length - 1] ?? [];
    if (current.length > 0 && cells * groups > MAX_BLOCK_CELLS) {
      plan.push([index]);
      cells = 4 * groups;
    } else {
      current.push(index);
      cells *= groups;
    }
  });
  return plan.map((attributes) => {
    const codes = new Int32Array(order.length);
    let cells = 1;
    for (const a of attributes) {
      const attribute = encoded[a];
      if (attribute === undefined) continue;
      const size = attribute.prepared.groups.length;
      const groupOf = attribute.codes;
      for (let k = 0; k < codes.length; k++) {
        codes[k] = (codes[k] ?? 0) * size + (groupOf[order[k] ?? 0] ?? 0);
      }
      cells *= size;
    }
    for (let k = 0; k < codes.length; k++) codes[k] = (codes[k] ?? 0) * 4 + (cell[k] ?? 0);
    return { attributes, codes, cells: cells * 4 };
  });
}

/** Weighted counts and sums over a sample; weights are by sorted position (1 each for the data). */
export interface Tally {
  readonly weight: number;
  /** [TN, FP, FN, TP]. */
  readonly confusion: Float64Array;
  /** Per attribute: group·4 + confusion cell. */
  readonly cells: readonly Float64Array[];
  /** 2·Σ over tie groups of w₊·(W₋ below + w₋/2): integer-valued, so exact in a double. */
  readonly aucTwiceNumerator: number;
  readonly logLossSum: number;
  readonly brierSum: number;
}

/** One pass over the sorted rows (plus one per extra attribute block). */
export function tally(sample: ScoredSample, weights: Int32Array): Tally {
  const n = sample.rows;
  const { tieStart, rowLogLoss, rowBrier } = sample;
  const [first, ...others] = sample.blocks;
  if (first === undefined) throw new Error('a sample always has a cell block');
  const codes = first.codes;
  const joint = new Float64Array(first.cells);
  let aucTwice = 0;
  let negativesBelow = 0;
  let groupPositives = 0;
  let groupNegatives = 0;
  let logLoss = 0;
  let brier = 0;
  for (let k = 0; k < n; k++) {
    if (tieStart[k] === 1) {
      aucTwice += groupPositives * (2 * negativesBelow + groupNegatives);
      negativesBelow += groupNegatives;
      groupPositives = 0;
      groupNegatives = 0;
    }
    const w = weights[k] ?? 0;
    const code = codes[k] ?? 0;
    joint[code] = (joint[code] ?? 0) + w;
    const positive = w * ((code >> 1) & 1);
    groupPositives += positive;
    groupNegatives += w - positive;
    logLoss += w * (rowLogLoss[k] ?? 0);
    brier += w * (rowBrier[k] ?? 0);
  }
  aucTwice += groupPositives * (2 * negativesBelow + groupNegatives);

  const cells = sample.attributes.map(({ groups }) => new Float64Array(groups.length * 4));
  const confusion = new Float64Array(4);
  marginalize(sample, first, joint, cells, confusion);
  for (const block of others) {
    const blockJoint = new Float64Array(block.cells);
    const blockCodes = block.codes;
    for (let k = 0; k < n; k++) {
      const code = blockCodes[k] ?? 0;
      blockJoint[code] = (blockJoint[code] ?? 0) + (weights[k] ?? 0);
    }
    marginalize(sample, block, blockJoint, cells, null);
  }
  const weight =
    (confusion[0] ?? 0) + (confusion[1] ?? 0) + (confusion[2] ?? 0) + (confusion[3] ?? 0);
  return {
    weight,
    confusion,
    cells,
    aucTwiceNumerator: aucTwice,
    logLossSum: logLoss,
    brierSum: brier,
  };
}

function marginalize(
  sample: ScoredSample,
  block: CellBlock,
  joint: Float64Array,
  cells: Float64Array[],
  confusion: Float64Array | null,
): void {
  const sizes = block.attributes.map((a) => sample.attributes[a]?.groups.length ?? 1);
  for (let j = 0; j < joint.length; j++) {
    const w = joint[j] ?? 0;
    if (w === 0) continue;
    const c = j & 3;
    if (confusion !== null) confusion[c] = (confusion[c] ?? 0) + w;
    let rest = j >> 2;
    for (let b = block.attributes.length - 1; b >= 0; b--) {
      const size = sizes[b] ?? 1;
      const group = rest % size;
      rest = (rest - group) / size;
      const target = cells[block.attributes[b] ?? 0];
      if (target !== undefined) target[group * 4 + c] = (target[group * 4 + c] ?? 0) + w;
    }
  }
}

/** Weight 1 for every row: the figures of the data itself. */
export function unitWeights(rows: number): Int32Array {
  return new Int32Array(rows).fill(1);
}
