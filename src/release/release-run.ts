import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { GatehouseClient } from '../client/gatehouse-client.js';
import {
  ReleaseCreateEndpointDocument,
  ReleaseEvaluateGatesDocument,
  ReleaseEvaluationDocument,
  ReleaseEvaluationStatusDocument,
  ReleasePoliciesDocument,
  ReleaseRegisterModelDocument,
  ReleaseRegisterVersionDocument,
  ReleaseRequestPromotionDocument,
  ReleaseRunEvaluationDocument,
  ReleaseStateDocument,
  type ReleasePromotionFieldsFragment,
} from '../client/generated/graphql.js';
import { readMlflowModel } from '../mlflow/mlflow-model.js';
import { sha256Hex } from '../policy/policy-file.js';
import type { LoadedRelease } from './release-file.js';
import { ReleaseFileError } from './release-file.js';
import {
  planRelease,
  serverPolicy,
  type LocalFacts,
  type ReleasePlan,
  type ReleaseProblem,
  type ReleaseStep,
} from './release-plan.js';

/**
 * The release against a live service: what it reads to plan, and what `apply` does, in order.
 * Each step finds what an earlier run made before making it, so a rerun (after a crash, or
 * just again) makes nothing twice.
 */

export interface ReleaseFiles {
  readonly facts: LocalFacts;
  readonly artifact: Uint8Array;
  readonly dataset: Uint8Array;
}

/** Reads the artifact (or MLflow model) and the dataset named by the release file. */
export function readReleaseFiles(loaded: LoadedRelease): ReleaseFiles {
  const { release } = loaded;
  const read = (member: readonly string[], path: string) => {
    try {
      return readFileSync(loaded.pathOf(path));
    } catch (error) {
      throw new ReleaseFileError(
        loaded.file,
        loaded.lineOf(member),
        `${member.join('.')}: ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      );
    }
  };
  let artifact: Uint8Array;
  let featureColumns = release.candidate.featureColumns;
  let inputName = release.candidate.inputName;
  let metadata: Record<string, string> = {};
  if (release.candidate.mlflow !== undefined) {
    const mlflow = readMlflowModel(loaded.pathOf(release.candidate.mlflow));
    artifact = readFileSync(mlflow.onnxPath);
    featureColumns ??= mlflow.featureColumns ?? undefined;
    inputName ??= mlflow.inputName ?? undefined;
    metadata = { ...mlflow.metadata };
    if (featureColumns === undefined)
      throw new ReleaseFileError(
        loaded.file,
        loaded.lineOf(['candidate', 'mlflow']),
        'candidate.featureColumns: the MLflow model has no column-based signature, so the release must name them',
      );
  } else {
    artifact = read(['candidate', 'artifact'], release.candidate.artifact ?? '');
  }
  const dataset = read(['evaluation', 'dataset'], release.evaluation.dataset);
  return {
    artifact,
    dataset,
    facts: {
      artifactSha256: sha256Hex(artifact),
      featureColumns: featureColumns ?? [],
      inputName,
      metadata: { ...metadata, ...release.candidate.metadata },
      datasetName: release.evaluation.datasetName ?? datasetNameOf(release.evaluation.dataset),
      datasetSha256: sha256Hex(dataset),
    },
  };
}

/**
 * How the dataset file is sent: Parquet by its magic number (a Parquet file begins and ends with
 * `PAR1`), whatever the file's name; anything else as CSV, which the service checks as such.
 */
export function datasetMediaType(bytes: Uint8Array): string {
  const magic = (at: number) => Buffer.from(bytes.subarray(at, at + 4)).toString('latin1');
  return bytes.length >= 8 && magic(0) === 'PAR1' && magic(bytes.length - 4) === 'PAR1'
    ? 'application/vnd.apache.parquet'
    : 'text/csv';
}

/** `data/German Credit.csv` → `german-credit`. */
export function datasetNameOf(path: string): string {
  const slug = basename(path, extname(path))
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug === '' ? 'dataset' : slug.slice(0, 64).replace(/-+$/, '');
}

/** `PUT /v1/artifacts`, checking the service stored the bytes under the digest computed here. */
export async function uploadArtifact(
  client: GatehouseClient,
  bytes: Uint8Array,
  sha256: string,
): Promise<void> {
  const answer = await client.put('v1/artifacts', bytes, 'application/octet-stream');
  if (answer['sha256'] !== sha256)
    throw new Error(`the service stored the artifact as ${String(answer['sha256'])}`);
}

export interface PlannedRelease {
  readonly plan: ReleasePlan;
  readonly policySha256: string;
  readonly who: { readonly sub: string; readonly roles: readonly string[] };
}

/** Reads the service's policy and state, and plans the release: nothing is written. */
export async function planOnService(
  client: GatehouseClient,
  loaded: LoadedRelease,
  facts: LocalFacts,
): Promise<PlannedRelease> {
  const { release } = loaded;
  const { me, policies } = await client.run(ReleasePoliciesDocument, {});
  const policy = serverPolicy(policies);
  const state = await client.run(ReleaseStateDocument, {
    model: release.model.name,
    endpoint: release.endpoint.name,
    artifact: facts.artifactSha256,
    datasetName: facts.datasetName,
  });
  const version = state.model?.versions.find((v) => v.artifactSha256 === facts.artifactSha256);
  const dataset = state.datasets.items.find((d) => d.sha256 === facts.datasetSha256);
  const evaluation =
    version && dataset
      ? ((
          await client.run(ReleaseEvaluationDocument, {
            model: release.model.name,
            version: version.version,
            dataset: dataset.id,
          })
        ).modelVersion?.latestEvaluation ?? null)
      : null;
  const plan = planRelease(release, facts, state, policy, evaluation);
  const problems = [...plan.problems, ...permissionProblems(plan.steps, me.abilities)];
  return {
    plan: { ...plan, problems },
    policySha256: policy.sha256,
    who: { sub: me.sub, roles: me.roles },
  };
}

const NEEDS: Partial<
  Record<`${ReleaseStep['subject']}:${ReleaseStep['action']}`, [string, string]>
> = {
  'model:register': ['create', 'Model'],
  'artifact:upload': ['create', 'Artifact'],
  'version:register': ['create', 'ModelVersion'],
  'dataset:upload': ['create', 'Dataset'],
  'evaluation:run': ['create', 'Evaluation'],
  'endpoint:create': ['create', 'Endpoint'],
  'promotion:request': ['create', 'PromotionRequest'],
};

/** Each step the token's roles do not allow, found before anything is written. */
function permissionProblems(
  steps: readonly ReleaseStep[],
  abilities: readonly { action: string; subject: string }[],
): ReleaseProblem[] {
  const can = (action: string, subject: string) =>
    abilities.some(
      (a) =>
        (a.action === action || a.action === 'manage') &&
        (a.subject === subject || a.subject === 'all'),
    );
  const problems: ReleaseProblem[] = [];
  for (const step of steps) {
    const need = NEEDS[`${step.subject}:${step.action}`];
    if (need && !can(...need))
      problems.push({
        kind: 'permission',
        path: [
          step.subject === 'version' || step.subject === 'artifact' ? 'candidate' : step.subject,
        ],
        message: `this token may not ${need[0]} ${need[1]} (to ${step.action} the ${step.subject})`,
      });
  }
  return problems;
}

export interface AppliedRelease {
  readonly model: string;
  readonly version: number;
  readonly datasetId: string;
  readonly evaluationId: string | null;
  readonly endpoint: string;
  readonly promotion: ReleasePromotionFieldsFragment | null;
  /** The version was live on the endpoint already. */
  readonly live: boolean;
  /** Gates judged when the promotion was requested by this run; failed ones other than approvals. */
  readonly failedGates: readonly { gate: string; summary: string }[];
  readonly steps: readonly ReleaseStep[];
}

/** An evaluation that ended FAILED: the model could not be run over the dataset. */
export class EvaluationFailedError extends Error {
  constructor(
    readonly evaluationId: string,
    reason: string,
  ) {
    super(`evaluation ${evaluationId} failed: ${reason}`);
    this.name = 'EvaluationFailedError';
  }
}

/** Makes what the plan says is missing, in order; the plan must have no problems. */
export async function applyRelease(
  client: GatehouseClient,
  loaded: LoadedRelease,
  files: ReleaseFiles,
  planned: ReleasePlan,
  progress: (message: string) => void,
  pollMs = 500,
): Promise<AppliedRelease> {
  const { release } = loaded;
  const { facts } = files;
  const action = (subject: ReleaseStep['subject']) =>
    planned.steps.find((s) => s.subject === subject)?.action ?? 'keep';
  const model = release.model.name;

  if (action('model') === 'register') {
    progress(`registering model ${model}`);
    const { modelCard, ...rest } = release.model;
    await client.run(ReleaseRegisterModelDocument, { input: { ...rest, modelCard } });
  }
  if (action('artifact') === 'upload') {
    progress(`uploading the artifact (${files.artifact.byteLength} bytes)`);
    await uploadArtifact(client, files.artifact, facts.artifactSha256);
  }
  let version = planned.version;
  if (version === null) {
    progress(`registering a version of ${model}`);
    const c = release.candidate;
    const registered = await client.run(ReleaseRegisterVersionDocument, {
      input: {
        model,
        artifactSha256: facts.artifactSha256,
        task: c.task,
        featureColumns: [...facts.featureColumns],
        inputName: facts.inputName ?? null,
        scoreOutput: c.scoreOutput ?? null,
        scoreIndex: c.scoreIndex ?? null,
        threshold: c.threshold ?? null,
        description: c.description ?? null,
        metadata: Object.keys(facts.metadata).length > 0 ? facts.metadata : null,
      },
    });
    version = registered.registerModelVersion.version;
  }
  let datasetId = planned.datasetId;
  if (datasetId === null) {
    progress(`uploading dataset ${facts.datasetName} (${files.dataset.byteLength} bytes)`);
    const answer = await client.put(
      `v1/datasets?name=${encodeURIComponent(facts.datasetName)}`,
      files.dataset,
      datasetMediaType(files.dataset),
    );
    datasetId = String(answer['id']);
  }
  if (planned.live) {
    return {
      model,
      version,
      datasetId,
      evaluationId: planned.evaluationId,
      endpoint: release.endpoint.name,
      promotion: null,
      live: true,
      failedGates: [],
      steps: planned.steps,
    };
  }
  let evaluationId = planned.evaluationId;
  if (evaluationId === null) {
    const e = release.evaluation;
    const started = await client.run(ReleaseRunEvaluationDocument, {
      model,
      version,
      dataset: datasetId,
      labelColumn: e.labelColumn,
      protectedAttributes: e.protectedAttributes ?? null,
      bootstrap: e.bootstrapSeed === undefined ? null : { seed: e.bootstrapSeed },
    });
    evaluationId = started.runEvaluation.id;
    for (;;) {
      const { evaluation } = await client.run(ReleaseEvaluationStatusDocument, {
        id: evaluationId,
      });
      if (!evaluation) throw new Error(`evaluation ${evaluationId} vanished`);
      if (evaluation.status === 'SUCCEEDED') break;
      if (evaluation.status === 'FAILED')
        throw new EvaluationFailedError(evaluationId, evaluation.error ?? 'no reason given');
      progress(`evaluating ${model}@${version}: ${Math.round(evaluation.progress * 100)}%`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
  if (action('endpoint') === 'create') {
    progress(`creating endpoint ${release.endpoint.name}`);
    await client.run(ReleaseCreateEndpointDocument, {
      name: release.endpoint.name,
      model,
      predictionLogPolicy: release.endpoint.predictionLogPolicy ?? null,
    });
  }
  let promotion = planned.promotion;
  let failedGates: { gate: string; summary: string }[] = [];
  if (promotion === null) {
    progress(`requesting the promotion of ${model}@${version} to ${release.endpoint.name}`);
    const p = release.promotion;
    promotion = (
      await client.run(ReleaseRequestPromotionDocument, {
        endpoint: release.endpoint.name,
        model,
        version,
        evaluationId,
        strategy: p.strategy,
        plan: p.plan ?? null,
        rollbackCriteria: p.rollbackCriteria,
        successCriteria: p.successCriteria ?? null,
        justification: p.justification,
      })
    ).requestPromotion;
    // Judged once, when requested: every gate but the approvals still to come must pass now.
    const { evaluateGates } = await client.run(ReleaseEvaluateGatesDocument, { id: promotion.id });
    failedGates = evaluateGates.gates
      .filter((g) => !g.passed && g.gate !== 'APPROVALS')
      .map((g) => ({ gate: g.gate, summary: g.summary }));
  }
  return {
    model,
    version,
    datasetId,
    evaluationId,
    endpoint: release.endpoint.name,
    promotion,
    live: false,
    failedGates,
    steps: planned.steps,
  };
}
