import type {
  ReleaseEvaluationQuery,
  ReleasePromotionFieldsFragment,
  ReleaseStateQuery,
} from '../client/generated/graphql.js';
import { DomainError } from '../common/errors.js';
import { checkStatement } from '../common/statements.js';
import { parsePolicyFile } from '../policy/policy-file.js';
import { promotionPolicySchema, tierOf, type PromotionPolicy } from '../policy/promotion-policy.js';
import { rolesPolicySchema } from '../policy/roles-policy.js';
import { modelCardProblems } from '../promotions/gates.js';
import { checkPromotionPlan } from '../promotions/rollout-plan.js';
import { checkMetadata, checkModel } from '../registry/registry-rules.js';
import type { ReleaseFile } from './release-file.js';

/**
 * What `gatehouse release plan` shows and `release apply` then does: each thing the release
 * needs on the service, kept when it is already there as declared, made when it is not; and
 * every reason it cannot go ahead, found without writing anything. Pure: the caller fetches.
 */

export type StepAction = 'keep' | 'create' | 'upload' | 'register' | 'run' | 'request';

export interface ReleaseStep {
  readonly subject:
    'model' | 'artifact' | 'version' | 'dataset' | 'evaluation' | 'endpoint' | 'promotion';
  readonly action: StepAction;
  readonly detail: string;
}

/**
 * A reason the release cannot go ahead, at the member of the release file it is about.
 * `policy`: the server's policy refuses it (fix the file); `conflict`: the server's state is in
 * the way (another open promotion, a registered model that differs); `permission`: the token's
 * roles do not allow a step.
 */
export interface ReleaseProblem {
  readonly kind: 'policy' | 'conflict' | 'permission';
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** What the release's files are, read on the pipeline's machine. */
export interface LocalFacts {
  readonly artifactSha256: string;
  readonly featureColumns: readonly string[];
  readonly inputName: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
  readonly datasetName: string;
  readonly datasetSha256: string;
}

/** The service's promotion policy, as it serves it now. */
export interface ServerPolicy {
  readonly sha256: string;
  readonly value: PromotionPolicy;
}

export type ServerState = ReleaseStateQuery;
export type ReusableEvaluation = NonNullable<
  NonNullable<ReleaseEvaluationQuery['modelVersion']>['latestEvaluation']
>;

export interface ReleasePlan {
  readonly steps: readonly ReleaseStep[];
  readonly problems: readonly ReleaseProblem[];
  /** The version the release registers or finds; null until it is registered. */
  readonly version: number | null;
  readonly datasetId: string | null;
  readonly evaluationId: string | null;
  readonly promotion: ReleasePromotionFieldsFragment | null;
  /** The version is live on the endpoint already: there is nothing to request. */
  readonly live: boolean;
}

/** Reads the server's promotion policy from the files `policies` returns. */
export function serverPolicy(
  files: readonly { name: string; sha256: string; content: string }[],
): ServerPolicy {
  const file = (name: string) => {
    const found = files.find((f) => f.name === name);
    if (!found) throw new Error(`the service did not return its ${name}`);
    return found;
  };
  const roles = parsePolicyFile('roles.yaml', file('roles.yaml').content, rolesPolicySchema);
  const promotion = file('promotion.yaml');
  return {
    sha256: promotion.sha256,
    value: parsePolicyFile('promotion.yaml', promotion.content, promotionPolicySchema(roles.value))
      .value,
  };
}

export function planRelease(
  release: ReleaseFile,
  local: LocalFacts,
  state: ServerState,
  policy: ServerPolicy,
  evaluation: ReusableEvaluation | null,
): ReleasePlan {
  const problems: ReleaseProblem[] = [];
  const steps: ReleaseStep[] = [];
  const { model: wanted, candidate, endpoint: endpointWanted, promotion: asked } = release;
  const refusal = (prefix: readonly string[], check: () => unknown) => {
    try {
      check();
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'BAD_USER_INPUT') throw error;
      const field = typeof error.details?.['field'] === 'string' ? error.details['field'] : '';
      problems.push({
        kind: 'policy',
        path: [...prefix, ...fieldPath(field)],
        message: error.message,
      });
    }
  };

  // The model: the server's registration is what the promotion will be judged on.
  const model = state.model;
  const riskTier = model?.riskTier ?? wanted.riskTier;
  const tier = tierOf(policy.value, riskTier);
  if (model) {
    for (const difference of modelDifferences(wanted, model))
      problems.push({
        kind: 'conflict',
        path: ['model', difference],
        message: `model ${model.name} is registered with another ${difference}; a registered model does not change (register a new model name to change it)`,
      });
    steps.push({ subject: 'model', action: 'keep', detail: `${model.name} (${riskTier})` });
  } else {
    refusal(['model'], () => checkModel(wanted));
    for (const p of modelCardProblems(wanted, policy.value, tier))
      problems.push({ kind: 'policy', path: ['model', ...fieldPath(p.field)], message: p.problem });
    steps.push({ subject: 'model', action: 'register', detail: `${wanted.name} (${riskTier})` });
  }

  // The version: an artifact is one version of a model at most, so it finds the version.
  const existing = model?.versions.find((v) => v.artifactSha256 === local.artifactSha256);
  steps.push({
    subject: 'artifact',
    action: state.artifact ? 'keep' : 'upload',
    detail: local.artifactSha256,
  });
  if (existing) {
    for (const difference of versionDifferences(candidate, local, existing))
      problems.push({
        kind: 'conflict',
        path: ['candidate', difference],
        message: `the artifact is already version ${existing.version} of ${wanted.name} with another ${difference}; a registered version does not change`,
      });
    steps.push({
      subject: 'version',
      action: 'keep',
      detail: `${wanted.name}@${existing.version}`,
    });
  } else {
    refusal(['candidate'], () => checkMetadata(local.metadata));
    steps.push({ subject: 'version', action: 'register', detail: `${wanted.name}, a new version` });
  }

  const dataset = state.datasets.items.find((d) => d.sha256 === local.datasetSha256);
  steps.push({
    subject: 'dataset',
    action: dataset ? 'keep' : 'upload',
    detail: `${local.datasetName} (${local.datasetSha256})`,
  });

  const reuse =
    evaluation && reusable(evaluation, release, tier.maxEvaluationAge) ? evaluation : null;
  steps.push({
    subject: 'evaluation',
    action: reuse ? 'keep' : 'run',
    detail: reuse
      ? `${reuse.id}, finished ${reuse.finishedAt ?? ''}`
      : `on ${local.datasetName}, label ${release.evaluation.labelColumn}`,
  });

  const endpoint = state.endpoint;
  if (endpoint && endpoint.model !== wanted.name)
    problems.push({
      kind: 'conflict',
      path: ['endpoint', 'name'],
      message: `endpoint ${endpoint.name} serves model ${endpoint.model}, not ${wanted.name}`,
    });
  steps.push({
    subject: 'endpoint',
    action: endpoint ? 'keep' : 'create',
    detail: endpointWanted.name,
  });

  // The promotion, judged by the server's own rules against the endpoint as it is now; a
  // version already live has nothing left to request, and nothing to judge.
  const live = existing !== undefined && endpoint?.liveVersion === existing.version;
  if (!live) {
    refusal(['promotion'], () =>
      checkStatement(
        'justification',
        asked.justification,
        policy.value.text.minJustificationLength,
      ),
    );
    refusal(['promotion'], () =>
      checkPromotionPlan(asked, {
        riskTier,
        tier,
        policy: policy.value,
        endpoint: endpointWanted.name,
        liveVersion: endpoint?.liveVersion ?? null,
        protectedAttributes: model?.protectedAttributes ?? wanted.protectedAttributes,
      }),
    );
  }
  const open = [...state.pending.items, ...state.approved.items, ...state.rollingOut.items];
  const same = open.find((p) => existing !== undefined && p.version === existing.version);
  const other = open.find((p) => p !== same);
  if (other)
    problems.push({
      kind: 'conflict',
      path: ['endpoint', 'name'],
      message: `promotion ${other.id} of ${other.model}@${other.version} is ${other.status} on endpoint ${other.endpoint}: it must close (or be withdrawn) first`,
    });
  steps.push(
    live
      ? { subject: 'promotion', action: 'keep', detail: `already live on ${endpointWanted.name}` }
      : same
        ? { subject: 'promotion', action: 'keep', detail: `${same.id} (${same.status})` }
        : {
            subject: 'promotion',
            action: 'request',
            detail: `${asked.strategy} to ${endpointWanted.name}`,
          },
  );

  return {
    steps,
    problems,
    version: existing?.version ?? null,
    datasetId: dataset?.id ?? null,
    evaluationId: reuse?.id ?? null,
    promotion: same ?? null,
    live,
  };
}

/** `modelCard.outOfScopeUses[1]` → ['modelCard', 'outOfScopeUses', 1]. */
export function fieldPath(field: string): (string | number)[] {
  // The capture group leaves `undefined` between a name and its index.
  const parts = field.split(/\.|\[(\d+)\]/) as (string | undefined)[];
  return parts
    .filter((part): part is string => part !== undefined && part !== '')
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function modelDifferences(
  wanted: ReleaseFile['model'],
  model: NonNullable<ServerState['model']>,
): string[] {
  const differences: string[] = [];
  if (wanted.riskTier !== model.riskTier) differences.push('riskTier');
  if (wanted.owner !== model.owner) differences.push('owner');
  if (!sameList(wanted.protectedAttributes, model.protectedAttributes))
    differences.push('protectedAttributes');
  const card = wanted.modelCard;
  const registered = model.modelCard;
  if (
    card.intendedUse !== registered.intendedUse ||
    card.limitations !== registered.limitations ||
    card.trainingData !== registered.trainingData ||
    card.ethicalConsiderations !== registered.ethicalConsiderations ||
    !sameList(card.outOfScopeUses, registered.outOfScopeUses)
  )
    differences.push('modelCard');
  return differences;
}

function versionDifferences(
  candidate: ReleaseFile['candidate'],
  local: LocalFacts,
  version: NonNullable<ServerState['model']>['versions'][number],
): string[] {
  const differences: string[] = [];
  if (candidate.task !== version.task) differences.push('task');
  if (!sameList(local.featureColumns, version.featureColumns)) differences.push('featureColumns');
  // Members left out were chosen by the service on registration; only a stated one must match.
  if (local.inputName !== undefined && local.inputName !== version.inputName)
    differences.push('inputName');
  if (candidate.scoreOutput !== undefined && candidate.scoreOutput !== version.scoreOutput)
    differences.push('scoreOutput');
  if (candidate.scoreIndex !== undefined && candidate.scoreIndex !== version.scoreIndex)
    differences.push('scoreIndex');
  if (candidate.threshold !== undefined && candidate.threshold !== version.threshold)
    differences.push('threshold');
  return differences;
}

/** A finished evaluation of the same version and data, with the same label and attributes. */
function reusable(
  evaluation: ReusableEvaluation,
  release: ReleaseFile,
  maxAgeSeconds: number,
  now: Date = new Date(),
): boolean {
  if (evaluation.status !== 'SUCCEEDED' || evaluation.finishedAt == null) return false;
  if (evaluation.labelColumn !== release.evaluation.labelColumn) return false;
  const attributes = release.evaluation.protectedAttributes ?? release.model.protectedAttributes;
  if (!sameList([...attributes].sort(), [...evaluation.protectedAttributes].sort())) return false;
  // Half the policy's age: one reused now still has time to be approved.
  const age = (now.getTime() - Date.parse(evaluation.finishedAt)) / 1000;
  return age < maxAgeSeconds / 2;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
