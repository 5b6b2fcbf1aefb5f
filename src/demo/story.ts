import { readFileSync } from 'node:fs';
import type { GermanCredit } from '../model-builder/german-credit.js';
import type { ScoringModel } from '../model-builder/scoring-model.js';

/**
 * The governance story of a model version told through Gatehouse's real interfaces (GraphQL,
 * REST, the Open Inference Protocol), as a client would: people with tokens, evaluation,
 * request + approvals + start, steady traffic with ground truth, waiting for a rollout to
 * reach a state. The demo tells it; the rollout tests and the rollout benchmark use it too.
 */

export interface GqlError {
  message: string;
  extensions?: { code?: string; details?: Record<string, unknown> };
}

export interface Client {
  /** The service's base URL; may change (a restarted service listens on a new port). */
  url(): string;
  token(who: string): string;
}

/** A client of the people whose tokens `tokens` holds (read at each call); a stranger is an error. */
export function clientOf(url: () => string, tokens: Readonly<Record<string, string>>): Client {
  return {
    url,
    token: (who) => {
      const token = tokens[who];
      if (token === undefined) throw new Error(`no token for ${who}`);
      return token;
    },
  };
}

export const PEOPLE: Record<string, string[]> = {
  dana: ['data-scientist'],
  erin: ['ml-engineer'],
  vera: ['model-validator'],
  cora: ['compliance-officer'],
  audrey: ['auditor'],
  ivan: ['inference-client'],
};

export interface GqlResult<T> {
  data?: T;
  errors?: GqlError[];
}

export async function gqlRaw<T = Record<string, unknown>>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  who: string,
): Promise<GqlResult<T>> {
  const response = await fetch(`${client.url()}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${client.token(who)}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GqlResult<T>;
}

export async function gql<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  who: string,
): Promise<T> {
  const r = await gqlRaw<T>(client, query, variables, who);
  if (r.errors || !r.data) throw new Error(JSON.stringify(r.errors));
  return r.data;
}

export const RATIONALE =
  'Errors above two percent, a disagreement with the live decisions or a group selected at under four fifths of another would harm applicants.';
export const JUSTIFICATION = 'The retrained credit model is expected to serve applicants better.';
export const SIGN_OFF =
  'I reviewed the audit, the model card and the rollback criteria of this version, and sign off.';

/** The German credit model card: every field long enough for the shipped policy. */
export const CREDIT_MODEL_CARD = {
  intendedUse:
    'Scores consumer credit applications so that a human underwriter reviews the riskiest first.',
  outOfScopeUses: ['Automated rejection without human review', 'Employment or housing screening'],
  limitations:
    'Trained on 1,000 applications from 1970s Germany (Statlog); not representative of applicants today.',
  trainingData:
    'Statlog (German Credit Data), UCI Machine Learning Repository, CC BY 4.0; sex and age group held out as protected attributes.',
  ethicalConsiderations:
    'Sex and age are protected: audited with the four-fifths rule before and during every rollout.',
};

/**
 * Registers model `credit-risk` (HIGH risk, sex and age group protected) and one version per
 * scoring model, each uploaded as an artifact first; returns the version numbers in order.
 */
export async function registerCreditModel(
  client: Client,
  scorings: readonly ScoringModel[],
): Promise<number[]> {
  await gql(
    client,
    `mutation($input: RegisterModelInput!) { registerModel(input: $input) { id } }`,
    {
      input: {
        name: 'credit-risk',
        riskTier: 'HIGH',
        owner: 'credit-risk-team',
        protectedAttributes: ['sex', 'age_group'],
        modelCard: CREDIT_MODEL_CARD,
      },
    },
    'dana',
  );
  const versions: number[] = [];
  for (const scoring of scorings) {
    const upload = await fetch(`${client.url()}/v1/artifacts`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${client.token('dana')}`,
        'content-type': 'application/octet-stream',
      },
      body: scoring.bytes,
    });
    if (!upload.ok) throw new Error(`artifact upload: ${upload.status} ${await upload.text()}`);
    const { sha256 } = (await upload.json()) as { sha256: string };
    const r = await gql<{ registerModelVersion: { version: number } }>(
      client,
      `mutation($input: RegisterModelVersionInput!) { registerModelVersion(input: $input) { version } }`,
      {
        input: {
          model: 'credit-risk',
          artifactSha256: sha256,
          task: 'BINARY_CLASSIFICATION',
          featureColumns: [...scoring.featureNames],
        },
      },
      'dana',
    );
    versions.push(r.registerModelVersion.version);
  }
  return versions;
}

export async function uploadDataset(client: Client, csvPath: string): Promise<string> {
  const upload = await fetch(`${client.url()}/v1/datasets?name=german-credit`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${client.token('vera')}`, 'content-type': 'text/csv' },
    body: readFileSync(csvPath),
  });
  if (!upload.ok) throw new Error(`dataset upload: ${upload.status} ${await upload.text()}`);
  return ((await upload.json()) as { id: string }).id;
}

export async function evaluate(
  client: Client,
  model: string,
  version: number,
  dataset: string,
  /** Bootstrap confidence intervals for the headline figures, from this seed. */
  bootstrapSeed?: number,
): Promise<string> {
  const r = await gql<{ runEvaluation: { id: string } }>(
    client,
    `mutation($model: String!, $version: Int!, $dataset: ID!, $bootstrap: BootstrapInput) {
      runEvaluation(model: $model, version: $version, dataset: $dataset, labelColumn: "good_credit",
        bootstrap: $bootstrap) { id } }`,
    {
      model,
      version,
      dataset,
      bootstrap: bootstrapSeed === undefined ? null : { seed: bootstrapSeed },
    },
    'vera',
  );
  const id = r.runEvaluation.id;
  for (let i = 0; i < 1200; i++) {
    const e = await gql<{ evaluation: { status: string; error: string | null } }>(
      client,
      `query($id: ID!) { evaluation(id: $id) { status error } }`,
      { id },
      'vera',
    );
    if (e.evaluation.status === 'SUCCEEDED') return id;
    if (e.evaluation.status === 'FAILED') throw new Error(e.evaluation.error ?? 'failed');
    await sleep(100);
  }
  throw new Error('the evaluation did not finish');
}

export interface PromotionInput {
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  readonly evaluationId: string;
  readonly strategy: string;
  readonly plan: Record<string, unknown> | null;
  readonly rollbackCriteria: Record<string, unknown>;
  readonly successCriteria?: Record<string, unknown> | null;
}

const REQUEST = `mutation($endpoint: String!, $model: String!, $version: Int!, $evaluationId: ID!,
  $strategy: PromotionStrategy!, $plan: RolloutPlanInput, $rollbackCriteria: RollbackCriteriaInput!,
  $successCriteria: SuccessCriteriaInput, $justification: String!) {
  requestPromotion(endpoint: $endpoint, model: $model, version: $version, evaluationId: $evaluationId,
    strategy: $strategy, plan: $plan, rollbackCriteria: $rollbackCriteria,
    successCriteria: $successCriteria, justification: $justification) { id requestDigest } }`;
const APPROVE = `mutation($id: ID!, $role: String!, $statement: String, $digest: String!) {
  approvePromotion(id: $id, role: $role, statement: $statement, requestDigest: $digest) { id status } }`;

export const ROLLOUT_FIELDS = `id status strategy currentStage candidateVersion previousVersion
  stages { name kind status enteredAt passedAt } outcome
  history { seq type actor { sub } payload }`;

export interface RolloutView {
  id: string;
  status: string;
  strategy: string;
  currentStage: number;
  candidateVersion: number;
  previousVersion: number | null;
  stages: { name: string; kind: string; status: string }[];
  outcome: Record<string, unknown> | null;
  history: {
    seq: number;
    type: string;
    actor: { sub: string };
    payload: Record<string, unknown>;
  }[];
}

/** A promotion requested by dana. */
export async function requestPromotion(
  client: Client,
  input: PromotionInput,
): Promise<{ id: string; requestDigest: string }> {
  const { requestPromotion: req } = await gql<{
    requestPromotion: { id: string; requestDigest: string };
  }>(
    client,
    REQUEST,
    { ...input, successCriteria: input.successCriteria ?? null, justification: JUSTIFICATION },
    'dana',
  );
  return req;
}

/** Requested by dana, approved by erin, vera and cora, started by erin. */
export async function promote(client: Client, input: PromotionInput): Promise<RolloutView> {
  const req = await requestPromotion(client, input);
  const digest = req.requestDigest;
  await gql(client, APPROVE, { id: req.id, role: 'ml-engineer', digest }, 'erin');
  await gql(client, APPROVE, { id: req.id, role: 'model-validator', digest }, 'vera');
  await gql(
    client,
    APPROVE,
    { id: req.id, role: 'compliance-officer', statement: SIGN_OFF, digest },
    'cora',
  );
  const { startRollout } = await gql<{ startRollout: RolloutView }>(
    client,
    `mutation($id: ID!) { startRollout(promotionId: $id) { ${ROLLOUT_FIELDS} } }`,
    { id: req.id },
    'erin',
  );
  return startRollout;
}

/**
 * The credit model with `scoring` as its first version, live on a new endpoint through an
 * INITIAL promotion evaluated on the dataset at `datasetPath`: a service serving one endpoint,
 * as fault trials start from. The criteria's windows fit the shipped policy and the short one.
 */
export async function liveCreditEndpoint(
  client: Client,
  endpoint: string,
  scoring: ScoringModel,
  datasetPath: string,
): Promise<RolloutView> {
  const [version = 1] = await registerCreditModel(client, [scoring]);
  await gql(
    client,
    `mutation($name: String!) { createEndpoint(name: $name, model: "credit-risk") { id } }`,
    { name: endpoint },
    'erin',
  );
  const dataset = await uploadDataset(client, datasetPath);
  const window = { minRequests: 100, seconds: 600 };
  return promote(client, {
    endpoint,
    model: 'credit-risk',
    version,
    evaluationId: await evaluate(client, 'credit-risk', version, dataset),
    strategy: 'INITIAL',
    plan: null,
    rollbackCriteria: {
      maxErrorRate: { value: 0.02, window },
      minDisparateImpact: { value: 0.7, window },
      rationale: RATIONALE,
    },
  });
}

export async function rollout(client: Client, id: string): Promise<RolloutView> {
  const r = await gql<{ rollout: RolloutView }>(
    client,
    `query($id: ID!) { rollout(id: $id) { ${ROLLOUT_FIELDS} } }`,
    { id },
    'audrey',
  );
  return r.rollout;
}

/** Polls until `done` holds (the service may be restarting: errors are retried). */
export async function waitForRollout(
  client: Client,
  id: string,
  done: (r: RolloutView) => boolean,
  timeoutMs = 60_000,
): Promise<RolloutView> {
  const until = Date.now() + timeoutMs;
  let last: RolloutView | undefined;
  let lastError: unknown;
  while (Date.now() < until) {
    try {
      last = await rollout(client, id);
      if (done(last)) return last;
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  const waiting = await gql<{ rollout: { progress: { waitingFor: string[] } | null } }>(
    client,
    `query($id: ID!) { rollout(id: $id) { progress { waitingFor } } }`,
    { id },
    'audrey',
  ).catch(() => null);
  throw new Error(
    `rollout ${id} did not get there in time: ${JSON.stringify(last?.stages ?? lastError)} ${last?.status ?? ''}; waiting for: ${JSON.stringify(waiting?.rollout.progress?.waitingFor ?? null)}`,
  );
}

export const inStage = (name: string) => (r: RolloutView) =>
  r.stages[r.currentStage]?.name === name && r.stages[r.currentStage]?.status === 'IN_PROGRESS';

const FEEDBACK_CONCURRENCY = 4;

export interface TrafficStats {
  readonly sent: number;
  readonly ok: number;
  /** Status and body of every response that was not a 200. */
  readonly failures: { status: number; body: string; at: number }[];
  readonly byVersion: Record<string, number>;
  readonly labelled: number;
  /** The id of every answered request. */
  readonly answeredIds: string[];
}

export interface TrafficOptions {
  readonly concurrency?: number;
  /** Send ground truth for answered requests (`POST …/feedback`), about half a second later. */
  readonly feedback?: boolean;
  /** Rewrites a row before it is sent (out-of-range inputs, say). */
  readonly transform?: (row: number[], i: number) => number[];
  /** A pause after each answer, per loop: a steady trickle rather than as fast as served. */
  readonly pauseMs?: number;
}

/**
 * Steady single-row inference on an endpoint, German credit rows in turn, each request naming
 * its applicant's protected attributes and a routing key, until `stop`.
 */
export class Traffic {
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private readonly feedbacks: Promise<void>[] = [];
  private sent = 0;
  private ok = 0;
  private labelled = 0;
  private readonly failures: { status: number; body: string; at: number }[] = [];
  private readonly byVersion: Record<string, number> = {};
  private readonly answeredIds: string[] = [];
  private next = 0;
  /** Feedback requests that may be in flight at once; the others wait for a slot. */
  private feedbackSlots = FEEDBACK_CONCURRENCY;
  private readonly feedbackWaiters: (() => void)[] = [];

  constructor(
    private readonly client: Client,
    private readonly endpoint: string,
    private readonly data: GermanCredit,
    private readonly options: TrafficOptions = {},
  ) {}

  start(): this {
    for (let i = 0; i < (this.options.concurrency ?? 3); i++) this.loops.push(this.loop());
    return this;
  }

  /** Waits until at least `n` more requests were answered. */
  async answered(n: number, timeoutMs = 30_000): Promise<void> {
    const target = this.ok + n;
    const until = Date.now() + timeoutMs;
    while (this.ok < target && Date.now() < until) await sleep(20);
  }

  /** When each failed request failed (ms since the epoch), in order. */
  failureTimes(): number[] {
    return this.failures.map((f) => f.at).sort((x, y) => x - y);
  }

  async stop(): Promise<TrafficStats> {
    this.stopped = true;
    await Promise.all(this.loops);
    await Promise.all(this.feedbacks);
    return {
      sent: this.sent,
      ok: this.ok,
      failures: this.failures,
      byVersion: this.byVersion,
      labelled: this.labelled,
      answeredIds: this.answeredIds,
    };
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const i = this.next++ % this.data.X.length;
      const features = Array.from(this.data.X[i] ?? []);
      const row = this.options.transform ? this.options.transform(features, this.next) : features;
      const body = {
        inputs: [{ name: 'features', shape: [1, row.length], datatype: 'FP32', data: row }],
        parameters: {
          routing_key: `applicant-${this.next}`,
          attributes: { sex: this.data.sex[i] ?? '', age_group: this.data.ageGroup[i] ?? '' },
        },
      };
      this.sent++;
      let response: Response;
      try {
        response = await fetch(`${this.client.url()}/v2/models/${this.endpoint}/infer`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${this.client.token('ivan')}`,
          },
          body: JSON.stringify(body),
        });
      } catch (error) {
        this.failures.push({ status: 0, body: String(error), at: Date.now() });
        await sleep(20);
        continue;
      }
      const text = await response.text();
      if (response.status !== 200) {
        this.failures.push({ status: response.status, body: text, at: Date.now() });
        // A client that retries at once only adds load to a service that is refusing it.
        await sleep(20);
        continue;
      }
      this.ok++;
      if (this.options.pauseMs !== undefined) await sleep(this.options.pauseMs);
      const answer = JSON.parse(text) as { id: string; model_version: string };
      this.byVersion[answer.model_version] = (this.byVersion[answer.model_version] ?? 0) + 1;
      this.answeredIds.push(answer.id);
      const label = this.data.y[i];
      if (this.options.feedback && label !== undefined)
        this.feedbacks.push(this.sendFeedback(answer.id, label));
    }
  }

  /**
   * The label of an answered request, about half a second later, retried while the
   * prediction is not in the log yet. At most FEEDBACK_CONCURRENCY are in flight: one request
   * per answer, all at once, held a database connection each on a slow machine, starved the
   * prediction log's writer of connections, and so made every feedback a retry.
   */
  private async sendFeedback(requestId: string, label: number): Promise<void> {
    await sleep(500);
    for (let attempt = 0; attempt < 10; attempt++) {
      const status = await this.withFeedbackSlot(async () => {
        const response = await fetch(
          `${this.client.url()}/v1/endpoints/${this.endpoint}/feedback`,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${this.client.token('ivan')}`,
            },
            body: JSON.stringify({ requestId, label }),
          },
        ).catch(() => undefined);
        await response?.arrayBuffer();
        return response?.status;
      });
      if (status === 201 || status === 200) {
        this.labelled++;
        return;
      }
      await sleep(200);
    }
  }

  private async withFeedbackSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.feedbackSlots > 0) this.feedbackSlots--;
    else
      await new Promise<void>((resolve) => {
        this.feedbackWaiters.push(resolve);
      });
    try {
      return await fn();
    } finally {
      const next = this.feedbackWaiters.shift();
      if (next) next();
      else this.feedbackSlots++;
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
