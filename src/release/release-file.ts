import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type {
  AbTestOutcome,
  PredictionLogPolicy,
  PromotionStrategy,
  RiskTier,
  Task,
} from '../client/generated/graphql.js';
import { parseYamlFile, PolicyFileError } from '../policy/policy-file.js';
import { METADATA_KEY, METADATA_MAX_VALUE } from '../registry/registry-rules.js';

/**
 * `gatehouse.yaml`: one release of one model version to one endpoint, declared. Its members
 * are the service's own GraphQL inputs (registerModel, registerModelVersion, runEvaluation,
 * createEndpoint, requestPromotion) under the same names, so nothing is translated and the
 * API reference documents every field; only the files (artifact, MLflow model, dataset) are
 * paths, read relative to the release file.
 */

/** A release file that cannot be used: names the file, the line and the reason. */
export class ReleaseFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${reason}`);
    this.name = 'ReleaseFileError';
  }
}

const RISK_TIERS = ['LOW', 'MEDIUM', 'HIGH'] as const satisfies readonly RiskTier[];
const TASKS = ['BINARY_CLASSIFICATION', 'REGRESSION'] as const satisfies readonly Task[];
const STRATEGIES = [
  'INITIAL',
  'SHADOW_THEN_CANARY',
  'CANARY',
  'SHADOW',
  'BLUE_GREEN',
  'AB_TEST',
] as const satisfies readonly PromotionStrategy[];
const AB_OUTCOMES = [
  'ACCURACY',
  'AUC',
  'ERROR_RATE',
  'P99_LATENCY',
] as const satisfies readonly AbTestOutcome[];
const LOG_POLICIES = ['BEST_EFFORT', 'REQUIRED'] as const satisfies readonly PredictionLogPolicy[];

// Bounds are the outer ones; the service's policy judges the rest (`gatehouse release plan`).
const text = z.string().trim().min(1, 'must not be empty').max(10_000);
const name = z.string().max(256);
const path = z.string().min(1, 'must name a file').max(4096);
const count = z.int().min(1).max(1_000_000_000);
const seconds = z
  .int()
  .min(1)
  .max(100 * 365 * 86_400);

const threshold = z.strictObject({
  value: z.number().describe('The threshold, in the criterion’s own unit.'),
  window: z
    .strictObject({ minRequests: count, seconds })
    .describe('Judged over at least this many requests and this many seconds.'),
});

const criteriaShape = {
  maxErrorRate: threshold.optional(),
  maxP99LatencyMs: threshold.optional(),
  maxPsiDrift: threshold.optional(),
  minAccuracy: threshold.optional(),
  minAgreementWithLive: threshold.optional(),
  minAuc: threshold.optional(),
  minDisparateImpact: threshold.optional(),
};

export const releaseFileSchema = z
  .strictObject({
    version: z.literal(1).describe('The release file format: 1.'),
    model: z
      .strictObject({
        name: name.describe('The model, registered on the first release (a slug: credit-risk).'),
        riskTier: z.enum(RISK_TIERS),
        owner: name,
        protectedAttributes: z.array(name).max(64),
        modelCard: z.strictObject({
          intendedUse: text,
          outOfScopeUses: z.array(text).min(1).max(64),
          limitations: text,
          trainingData: text,
          ethicalConsiderations: text,
        }),
      })
      .describe('registerModel; a model already registered must match it.'),
    candidate: z
      .strictObject({
        artifact: path.optional().describe('The ONNX file, relative to this file.'),
        mlflow: path
          .optional()
          .describe('An MLflow model directory with an ONNX flavor, relative to this file.'),
        task: z.enum(TASKS),
        featureColumns: z
          .array(name)
          .min(1)
          .max(10_000)
          .optional()
          .describe('Required with artifact; with mlflow, default: the signature’s columns.'),
        inputName: name.optional(),
        scoreOutput: name.optional(),
        scoreIndex: z.int().min(0).max(1_000_000).optional(),
        threshold: z.number().optional(),
        description: z.string().max(10_000).optional(),
        metadata: z
          .record(
            z.string().regex(METADATA_KEY, 'must be a lowercase key such as git.commit'),
            z.string().max(METADATA_MAX_VALUE),
          )
          .optional()
          .describe('Where the version came from (commit, pipeline run); kept with it.'),
      })
      .refine((c) => (c.artifact === undefined) !== (c.mlflow === undefined), {
        error: 'name exactly one of artifact and mlflow',
      })
      .refine((c) => c.mlflow !== undefined || c.featureColumns !== undefined, {
        error: 'featureColumns: required with artifact',
        path: ['featureColumns'],
      })
      .describe('The version to release: registerModelVersion, found again by its artifact.'),
    evaluation: z
      .strictObject({
        dataset: path.describe(
          'The evaluation dataset, CSV or Parquet (told apart by its content), relative to this file.',
        ),
        datasetName: z
          .string()
          .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a slug such as german-credit')
          .optional()
          .describe('Default: the file name without its extension, as a slug.'),
        labelColumn: name,
        protectedAttributes: z.array(name).max(64).optional(),
        bootstrapSeed: z.int().min(0).max(2_147_483_647).optional(),
      })
      .describe('runEvaluation; a successful evaluation of the same version and data is reused.'),
    endpoint: z
      .strictObject({
        name: name,
        predictionLogPolicy: z.enum(LOG_POLICIES).optional(),
      })
      .describe('createEndpoint when it does not exist.'),
    promotion: z
      .strictObject({
        strategy: z.enum(STRATEGIES),
        plan: z
          .strictObject({
            shadow: z
              .strictObject({
                sampleRate: z.number().gt(0).max(1),
                minRequests: count,
                minDurationSeconds: seconds,
              })
              .optional(),
            canary: z
              .strictObject({
                steps: z.array(z.int().min(1).max(100)).min(1).max(10),
                minRequestsPerStep: count,
                bakeSeconds: seconds,
              })
              .optional(),
            abTest: z
              .strictObject({
                splitPercent: z.int().min(1).max(99),
                outcome: z.enum(AB_OUTCOMES),
                minSamples: count,
                significanceLevel: z.number().gt(0).lt(1),
              })
              .optional(),
          })
          .optional(),
        rollbackCriteria: z.strictObject({ ...criteriaShape, rationale: text }),
        successCriteria: z.strictObject(criteriaShape).optional(),
        justification: text,
      })
      .describe('requestPromotion; an open request for the same version is reused.'),
  })
  .describe('A Gatehouse release: gatehouse release plan|apply -f gatehouse.yaml');

export type ReleaseFile = z.output<typeof releaseFileSchema>;

export interface LoadedRelease {
  readonly file: string;
  readonly release: ReleaseFile;
  /** The line of a member (`promotion.justification`), for errors found later. */
  readonly lineOf: (path: readonly (string | number)[]) => number | undefined;
  /** A path named in the file, made absolute against the file's folder. */
  readonly pathOf: (relative: string) => string;
}

export function parseReleaseFile(file: string, content: string): LoadedRelease {
  try {
    const parsed = parseYamlFile(file, content, releaseFileSchema);
    const folder = dirname(resolve(file));
    return {
      file,
      release: parsed.value,
      lineOf: parsed.lineOf,
      pathOf: (relative) => resolve(folder, relative),
    };
  } catch (error) {
    if (error instanceof PolicyFileError)
      throw new ReleaseFileError(error.file, error.line, error.reason);
    throw error;
  }
}

/** The JSON Schema editors validate `gatehouse.yaml` with (docs/gatehouse.schema.json). */
export function releaseJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(releaseFileSchema, { io: 'input', target: 'draft-2020-12' }),
    title: 'Gatehouse release file',
  };
}
