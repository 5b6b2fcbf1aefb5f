import { BadInputError } from '../common/errors.js';
import { escaped, textFault } from '../common/text-rules.js';
import type { JsonObject } from '../ledger/event-catalogue.js';
import type { ScoringSpec } from '../runtime/scoring.js';
import type { TensorSpec } from '../runtime/tensor-spec.js';
import type { ModelCard } from './model.entity.js';
import type { RiskTier } from '../policy/risk-tiers.js';
import type { Task } from './model-version.entity.js';

/**
 * What a registration must satisfy, as pure functions: each refuses with the field named and
 * the reason, before anything is written.
 */

export const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MAX_TEXT = 10_000;

export function checkSlug(field: string, value: string): string {
  if (value.length > 63 || !SLUG.test(value))
    throw new BadInputError(
      field,
      'must be a slug of at most 63 characters: lowercase letters and digits, words joined by single hyphens',
    );
  return value;
}

export function checkText(field: string, value: string, max = MAX_TEXT): string {
  const trimmed = value.trim();
  if (trimmed === '') throw new BadInputError(field, 'must not be empty');
  if (trimmed.length > max) throw new BadInputError(field, `must be at most ${max} characters`);
  return trimmed;
}

/** Column names: non-empty, unique, in order. */
export function checkColumns(field: string, columns: readonly string[], allowEmpty: boolean) {
  if (!allowEmpty && columns.length === 0) throw new BadInputError(field, 'must not be empty');
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (c.trim() === '' || c.length > 256)
      throw new BadInputError(`${field}[${i}]`, 'must be a column name of 1 to 256 characters');
    if (seen.has(c)) throw new BadInputError(`${field}[${i}]`, `repeats column ${c}`);
    seen.add(c);
  });
  return [...columns];
}

export interface ModelInput {
  readonly name: string;
  readonly riskTier: RiskTier;
  readonly owner: string;
  readonly protectedAttributes: readonly string[];
  readonly modelCard: ModelCard;
}

export function checkModel(input: ModelInput): ModelInput {
  const card = input.modelCard;
  return {
    name: checkSlug('name', input.name),
    riskTier: input.riskTier,
    owner: checkText('owner', input.owner, 256),
    // A high-risk model without protected attributes could never be audited for fairness.
    protectedAttributes: checkColumns(
      'protectedAttributes',
      input.protectedAttributes,
      input.riskTier !== 'HIGH',
    ),
    modelCard: {
      intendedUse: checkText('modelCard.intendedUse', card.intendedUse),
      outOfScopeUses: card.outOfScopeUses.map((u, i) =>
        checkText(`modelCard.outOfScopeUses[${i}]`, u),
      ),
      limitations: checkText('modelCard.limitations', card.limitations),
      trainingData: checkText('modelCard.trainingData', card.trainingData),
      ethicalConsiderations: checkText(
        'modelCard.ethicalConsiderations',
        card.ethicalConsiderations,
      ),
    },
  };
}

export interface VersionInput {
  readonly task: Task;
  readonly featureColumns: readonly string[];
  readonly inputName?: string | null | undefined;
  readonly scoreOutput?: string | null | undefined;
  readonly scoreIndex?: number | null | undefined;
  readonly threshold?: number | null | undefined;
}

const NUMERIC_INPUTS = new Set(['FP32', 'FP64']);

/**
 * Binds a version's columns to its artifact's signature: the feature input must be a float
 * matrix [N, F] with F the number of feature columns, and the score output must have the
 * named index. Serving and evaluation both rely on this, so it is checked once, here.
 */
export function bindScoring(
  input: VersionInput,
  inputs: readonly TensorSpec[],
  outputs: readonly TensorSpec[],
): ScoringSpec {
  const featureColumns = checkColumns('featureColumns', input.featureColumns, false);
  const inputName = input.inputName ?? (inputs.length === 1 ? inputs[0]?.name : undefined);
  if (inputName === undefined)
    throw new BadInputError(
      'inputName',
      `the artifact has inputs ${inputs.map((i) => i.name).join(', ')}: name the feature input`,
    );
  const tensor = inputs.find((i) => i.name === inputName);
  if (!tensor) throw new BadInputError('inputName', `the artifact has no input ${inputName}`);
  if (inputs.length !== 1)
    throw new BadInputError('inputName', 'models with more than one input are not supported');
  if (!NUMERIC_INPUTS.has(tensor.datatype) || tensor.shape.length !== 2)
    throw new BadInputError(
      'inputName',
      `input ${inputName} is ${tensor.datatype} [${tensor.shape.join(', ')}]; a FP32 or FP64 matrix [N, F] is required`,
    );
  const width = tensor.shape[1] ?? -1;
  if (width !== -1 && width !== featureColumns.length)
    throw new BadInputError(
      'featureColumns',
      `input ${inputName} takes ${width} features, ${featureColumns.length} columns were given`,
    );

  const scoreOutput =
    input.scoreOutput ??
    (outputs.find((o) => o.name === 'score') ?? (outputs.length === 1 ? outputs[0] : undefined))
      ?.name;
  if (scoreOutput === undefined)
    throw new BadInputError(
      'scoreOutput',
      `the artifact has outputs ${outputs.map((o) => o.name).join(', ')}: name the score output`,
    );
  const out = outputs.find((o) => o.name === scoreOutput);
  if (!out) throw new BadInputError('scoreOutput', `the artifact has no output ${scoreOutput}`);
  if (!NUMERIC_INPUTS.has(out.datatype))
    throw new BadInputError('scoreOutput', `output ${scoreOutput} is ${out.datatype}, not a float`);
  const scoreIndex = input.scoreIndex ?? 0;
  const columns = out.shape.length >= 2 ? (out.shape.at(-1) ?? -1) : 1;
  if (!Number.isInteger(scoreIndex) || scoreIndex < 0 || (columns !== -1 && scoreIndex >= columns))
    throw new BadInputError(
      'scoreIndex',
      `must be an index into output ${scoreOutput}'s ${columns} columns`,
    );

  let threshold: number | null = null;
  if (input.task === 'BINARY_CLASSIFICATION') {
    threshold = input.threshold ?? 0.5;
    if (!Number.isFinite(threshold) || threshold < 0 || threshold > 1)
      throw new BadInputError('threshold', 'must be a number from 0 to 1');
  } else if (input.threshold !== undefined && input.threshold !== null) {
    throw new BadInputError('threshold', 'a regression model has no decision threshold');
  }
  return { featureColumns, inputName, scoreOutput, scoreIndex, threshold };
}

/** Free-form training metrics, kept JSON-safe: numbers must be finite. */
export function checkMetrics(metrics: Record<string, unknown> | null | undefined) {
  const value = metrics ?? {};
  const text = JSON.stringify(value);
  if (text.length > 100_000) throw new BadInputError('trainingMetrics', 'is larger than 100 kB');
  return JSON.parse(text) as JsonObject;
}

/** Where a version came from, as `key: text` pairs (`mlflow.run_id`, `git.commit`). */
export type VersionMetadata = { readonly [key: string]: string };

export const METADATA_MAX_KEYS = 32;
export const METADATA_MAX_VALUE = 2048;
/**
 * Lowercase, dotted by namespace. It also keeps out `__proto__` and every other member name
 * of Object.prototype but `constructor`, which is stored as a plain key like any other.
 */
export const METADATA_KEY = /^[a-z][a-z0-9_.-]{0,63}$/;

/**
 * A flat map of short keys to text, refused whole at the first bad member, which is named
 * `metadata.<key>`. Kept apart from the training metrics: it says where the artifact came from,
 * and auditors read it from the ledger as given.
 */
export function checkMetadata(metadata: Readonly<Record<string, unknown>> | null | undefined) {
  const entries = Object.entries(metadata ?? {});
  if (entries.length > METADATA_MAX_KEYS)
    throw new BadInputError(
      'metadata',
      `has ${entries.length} keys; at most ${METADATA_MAX_KEYS} are kept`,
    );
  for (const [key, value] of entries) {
    const field = `metadata.${escaped(key)}`;
    if (!METADATA_KEY.test(key))
      throw new BadInputError(
        field,
        'must be a key of at most 64 characters: a lowercase letter, then lowercase letters, digits, ".", "_" or "-"',
      );
    if (typeof value !== 'string')
      throw new BadInputError(field, `must be a string, not ${describe(value)}`);
    if (value.length > METADATA_MAX_VALUE)
      throw new BadInputError(field, `must be at most ${METADATA_MAX_VALUE} characters`);
    const fault = textFault(value);
    if (fault) throw new BadInputError(field, fault);
  }
  return Object.fromEntries(entries) as VersionMetadata;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
