import { attr, BATCH_DIM, decodeModel, encodeModel, GraphBuilder } from './onnx-writer.js';
import { mulberry32 } from './random.js';
import {
  FEATURES_INPUT,
  scoringGraph,
  scoringMetadata,
  SCORE_OUTPUT,
  sigmoid,
  type ScoringModel,
  type Signature,
} from './scoring-model.js';

/**
 * Models that misbehave on purpose, for the failure paths of Gatehouse (evaluation, gates,
 * shadow and canary rollback). Each takes the `features` [N, F] input of a base model (or of
 * any `Signature`), so it can stand in for that model behind the same endpoint, except
 * `wrongSignatureModel`, whose whole point is not to.
 */
export interface FaultyModel extends ScoringModel {
  readonly kind: 'nan' | 'slow' | 'wrong_signature' | 'constant' | 'erroring';
  /** The input's name (`features` but for the wrong-signature model). */
  readonly inputName: string;
}

/** Shape [N, 1] of the batch of `features`: Shape (start 0, end 1) then Concat with [1]. */
function batchColumnShape(g: GraphBuilder, features: string): string {
  const batch = g.op('Shape', [features], {
    prefix: 'batch_size',
    attributes: [attr.int('start', 0), attr.int('end', 1)],
  });
  const one = g.int64('one', [1], [1]);
  return g.op('Concat', [batch, one], { prefix: 'score_shape', attributes: [attr.int('axis', 0)] });
}

function faultyModel(
  kind: FaultyModel['kind'],
  g: GraphBuilder,
  featureNames: readonly string[],
  description: string,
  predict: (X: readonly Float32Array[]) => number[],
  inputName = FEATURES_INPUT,
): FaultyModel {
  const bytes = encodeModel(g.build(), {
    docString: description,
    metadata: scoringMetadata(`faulty_${kind}`, featureNames, {
      'gatehouse.input': inputName,
      'gatehouse.faulty': kind,
    }),
  });
  return { kind, bytes, featureNames: [...featureNames], inputName, predict };
}

/**
 * Scores every row NaN: a [N, 1] tensor of zeros divided by itself (the classic division by
 * zero that slips into a feature pipeline).
 */
export function nanModel(base: Signature): FaultyModel {
  const description = 'Faulty on purpose: every score is NaN (0 / 0).';
  const { g, features } = scoringGraph('nan_model', base.featureNames.length, description);
  const zero = g.float('zero', [1, 1], [0]);
  const zeros = g.op('Expand', [zero, batchColumnShape(g, features)], { prefix: 'zeros' });
  g.op('Div', [zeros, zeros], { output: SCORE_OUTPUT });
  return faultyModel('nan', g, base.featureNames, description, (X) => X.map(() => Number.NaN));
}

/**
 * Scores every row `p` exactly (as a float32): useful to force disagreement with a live model
 * in shadow, or an accuracy drop. The input only sets the batch size (Shape, Expand), so even
 * NaN features give `p`.
 */
export function constantModel(base: Signature, p: number): FaultyModel {
  if (!(p >= 0 && p <= 1)) throw new Error(`a constant score must be in [0, 1], got ${p}`);
  const description = `Faulty on purpose: scores every row ${p}.`;
  const { g, features } = scoringGraph('constant_model', base.featureNames.length, description);
  const value = g.float('constant_score', [1, 1], [p]);
  g.op('Expand', [value, batchColumnShape(g, features)], { output: SCORE_OUTPUT });
  const score = Math.fround(p);
  return faultyModel('constant', g, base.featureNames, description, (X) => X.map(() => score));
}

export interface WrongSignatureOptions {
  /** Default `input`. */
  readonly inputName?: string;
  /** Default: one column more than the base. */
  readonly featureCount?: number;
}

/**
 * A well-formed scoring model that does not fit the base's input: its input has another name
 * and another number of columns. Scores are sigmoid(x · w) with small seeded weights.
 */
export function wrongSignatureModel(
  base: Signature,
  options: WrongSignatureOptions = {},
): FaultyModel {
  const inputName = options.inputName ?? 'input';
  const featureCount = options.featureCount ?? base.featureNames.length + 1;
  if (inputName === FEATURES_INPUT && featureCount === base.featureNames.length) {
    throw new Error('that is the base signature');
  }
  const description = `Faulty on purpose: input ${inputName} [N, ${featureCount}] instead of ${FEATURES_INPUT} [N, ${base.featureNames.length}].`;
  const g = new GraphBuilder('wrong_signature_model', description);
  const input = g.input(inputName, 'float32', [BATCH_DIM, featureCount]);
  g.output(SCORE_OUTPUT, 'float32', [BATCH_DIM, 1]);
  const random = mulberry32(7);
  const weights = Array.from({ length: featureCount }, () => Math.fround(random.normal() * 1e-3));
  const w = g.float('weights', [featureCount, 1], weights);
  const logit = g.op('MatMul', [input, w], { prefix: 'logit' });
  g.op('Sigmoid', [logit], { output: SCORE_OUTPUT });
  const featureNames = Array.from({ length: featureCount }, (_, i) => `x${i}`);
  return faultyModel(
    'wrong_signature',
    g,
    featureNames,
    description,
    (X) => X.map((row) => sigmoid(weights.reduce((sum, wj, j) => sum + wj * (row[j] ?? 0), 0))),
    inputName,
  );
}

/**
 * The base model's graph, with its `score` renamed `base_score`, in a new graph that declares
 * the same input and output; the caller finishes it by producing `score`.
 */
function extendBase(
  base: ScoringModel,
  name: string,
  description: string,
): { g: GraphBuilder; features: string; baseScore: string } {
  const graph = decodeModel(base.bytes).graph;
  const inputs = graph?.input ?? [];
  const outputs = graph?.output ?? [];
  if (graph == null || inputs[0]?.name !== FEATURES_INPUT || outputs[0]?.name !== SCORE_OUTPUT) {
    throw new Error(`the base model must map ${FEATURES_INPUT} to ${SCORE_OUTPUT}`);
  }
  const { g, features } = scoringGraph(name, base.featureNames.length, description);
  const baseScore = 'base_score';
  g.absorb({
    initializer: graph.initializer ?? [],
    node: (graph.node ?? []).map((n) => ({
      ...n,
      name: `base/${n.name ?? ''}`,
      output: (n.output ?? []).map((o) => (o === SCORE_OUTPUT ? baseScore : o)),
    })),
  });
  return { g, features, baseScore };
}

/**
 * Adds `value` × 0 to `baseScore` as the output `score`: the scores are exactly the base's, but
 * ONNX Runtime must compute `value` (it does not simplify x × 0, which is NaN for infinite x).
 */
function addIgnored(g: GraphBuilder, baseScore: string, value: string): void {
  const zero = g.float('zero', [1], [0]);
  const nothing = g.op('Mul', [value, zero], { prefix: 'ignored' });
  g.op('Add', [baseScore, nothing], { output: SCORE_OUTPUT });
}

export interface SlowModelOptions {
  /**
   * Loop iterations, each a [N, width] × [width, width] MatMul and a Tanh. Default 12000:
   * about 45 ms for one row on an idle 2-core machine (≈3.6 µs per iteration), several times
   * that when other ONNX Runtime sessions compete for the cores.
   */
  readonly iterations?: number;
  /** Default 256. */
  readonly width?: number;
}

/**
 * The base model's exact scores, computed slowly: beside the base graph, a Loop runs
 * `iterations` times h ← tanh(h · W) over a seeded [width, width] matrix, starting from the
 * features projected to `width` columns; the result joins the score multiplied by zero. The
 * cost grows linearly with `iterations` and with the batch size.
 */
export function slowModel(base: ScoringModel, options: SlowModelOptions = {}): FaultyModel {
  const iterations = options.iterations ?? 12000;
  const width = options.width ?? 256;
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error('iterations must be >= 1');
  const description = `Faulty on purpose: the base model's scores behind a ${iterations}-step Loop of ${width}×${width} MatMuls.`;
  const { g, features, baseScore } = extendBase(base, 'slow_model', description);
  const f = base.featureNames.length;
  const random = mulberry32(11);
  // Features are raw (amounts in thousands): the projection is tiny, Tanh bounds the rest.
  const projection = g.float(
    'slow_projection',
    [f, width],
    Array.from({ length: f * width }, () => random.normal() * 1e-3),
  );
  // Gain 1.5: the iteration neither dies out (subnormal numbers are slow in their own way)
  // nor saturates.
  const matrix = g.float(
    'slow_matrix',
    [width, width],
    Array.from({ length: width * width }, () => (random.normal() * 1.5) / Math.sqrt(width)),
  );
  const start = g.op('MatMul', [features, projection], { prefix: 'slow_start' });
  const trips = g.int64('slow_iterations', [], [iterations]);

  // Loop body: (iteration number, condition, h) → (condition, tanh(h · W)); W is the outer
  // graph's initializer.
  const body = new GraphBuilder('slow_body');
  body.input('slow_body_iteration', 'int64', []);
  const condIn = body.input('slow_body_cond_in', 'bool', []);
  const hIn = body.input('slow_body_h_in', 'float32', [BATCH_DIM, width]);
  body.output('slow_body_cond_out', 'bool', []);
  body.output('slow_body_h_out', 'float32', [BATCH_DIM, width]);
  body.op('Identity', [condIn], { output: 'slow_body_cond_out' });
  const product = body.op('MatMul', [hIn, matrix], { prefix: 'slow_body_product' });
  body.op('Tanh', [product], { output: 'slow_body_h_out' });

  const [final] = g.opMulti('Loop', [trips, '', start], ['slow_final'], {
    attributes: [attr.graph('body', body.build())],
  });
  const axes = g.int64('slow_axes', [1], [1]);
  const summary = g.op('ReduceSum', [final ?? '', axes], {
    prefix: 'slow_summary',
    attributes: [attr.int('keepdims', 1)],
  });
  addIgnored(g, baseScore, summary);
  return faultyModel('slow', g, base.featureNames, description, (X) => base.predict(X));
}

export type ErroringMode = 'always' | 'batch' | 'odd-batch';

/**
 * The base model's scores, except that ONNX Runtime fails the run: a Reshape of the features
 * to a fixed shape that cannot hold them. `always`: to [F + 1] (N·F never equals F + 1 for
 * F ≥ 2), so every run fails. `batch`: to [1, F], so single-row runs succeed and batches of
 * two rows or more fail ("cannot reshape"). `odd-batch`: to [−1, 2F], so runs of an odd number
 * of rows fail, single-row requests among them, while an even batch (an evaluation over a
 * dataset with an even number of rows) succeeds: the fault that shows only in production.
 * Session creation succeeds in every case: the batch size is symbolic, so the mismatch only
 * shows at run time.
 */
export function erroringModel(base: ScoringModel, mode: ErroringMode = 'always'): FaultyModel {
  const f = base.featureNames.length;
  if (f < 2) throw new Error('erroringModel needs at least two features');
  const { description, shape: target } = {
    always: {
      description: `Faulty on purpose: every run fails (Reshape of [N, ${f}] to [${f + 1}]).`,
      shape: [f + 1],
    },
    batch: {
      description: `Faulty on purpose: runs with more than one row fail (Reshape of [N, ${f}] to [1, ${f}]).`,
      shape: [1, f],
    },
    'odd-batch': {
      description: `Faulty on purpose: runs of an odd number of rows fail (Reshape of [N, ${f}] to [-1, ${2 * f}]).`,
      shape: [-1, 2 * f],
    },
  }[mode];
  const { g, features, baseScore } = extendBase(base, 'erroring_model', description);
  const shape = g.int64('guard_shape', [target.length], target);
  const guarded = g.op('Reshape', [features, shape], { prefix: 'guard' });
  const summary = g.op('ReduceSum', [guarded], {
    prefix: 'guard_summary',
    attributes: [attr.int('keepdims', 0)],
  });
  addIgnored(g, baseScore, summary);
  return faultyModel('erroring', g, base.featureNames, description, (X) => base.predict(X));
}

/**
 * The base model's scores, except NaN for rows whose feature `featureIndex` is above `above`:
 * the division by zero a pipeline meets only on inputs outside the training range, so an
 * evaluation on training-like data succeeds and production traffic finds the fault.
 */
export function nanAboveModel(
  base: ScoringModel,
  featureIndex: number,
  above: number,
): FaultyModel {
  const f = base.featureNames.length;
  if (!Number.isInteger(featureIndex) || featureIndex < 0 || featureIndex >= f)
    throw new Error(`featureIndex must be a column of the base model (0..${f - 1})`);
  const description = `Faulty on purpose: NaN where feature ${base.featureNames[featureIndex] ?? featureIndex} is above ${above}.`;
  const { g, features, baseScore } = extendBase(base, 'nan_above_model', description);
  const column = g.op(
    'Slice',
    [
      features,
      g.int64('nan_start', [1], [featureIndex]),
      g.int64('nan_end', [1], [featureIndex + 1]),
      g.int64('nan_axis', [1], [1]),
    ],
    { prefix: 'nan_column' },
  );
  const outside = g.op('Greater', [column, g.float('nan_above', [1, 1], [above])], {
    prefix: 'nan_outside',
  });
  const poison = g.op(
    'Where',
    [outside, g.float('nan_value', [1, 1], [Number.NaN]), g.float('nan_none', [1, 1], [0])],
    { prefix: 'nan_poison' },
  );
  g.op('Add', [baseScore, poison], { output: SCORE_OUTPUT });
  return faultyModel('nan', g, base.featureNames, description, (X) => {
    const scores = base.predict(X);
    return scores.map((s, i) => ((X[i]?.[featureIndex] ?? 0) > above ? Number.NaN : s));
  });
}
