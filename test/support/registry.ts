import { DeploymentService, type TrafficChange } from '../../src/endpoints/deployment.service.js';
import type { ScoringModel } from '../../src/model-builder/index.js';
import type { ServiceClient, TestApp } from './app.js';

/**
 * Registry set-up through the real interfaces (REST upload, GraphQL registration), for the
 * specs that need a model serving. Only `setTraffic` reaches inside: it makes a version live
 * without the promotion flow (tested on its own in promotions.e2e-spec.ts), which no mutation
 * may bypass.
 */

export const MODEL_CARD = {
  intendedUse: 'Scores consumer credit applications for a human underwriter to review.',
  outOfScopeUses: ['Automated rejection without human review', 'Employment screening'],
  limitations: 'Trained on 1,000 applications from 1970s Germany; not representative today.',
  trainingData: 'Statlog (German Credit Data), UCI Machine Learning Repository, CC BY 4.0.',
  ethicalConsiderations: 'Sex and age are protected; audited with the four-fifths rule.',
};

export interface UploadedArtifact {
  readonly sha256: string;
  readonly size: number;
}

export async function uploadArtifact(
  app: ServiceClient,
  token: string,
  bytes: Uint8Array,
): Promise<UploadedArtifact> {
  const response = await fetch(`${app.url}/v1/artifacts`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  const body = (await response.json()) as UploadedArtifact;
  if (!response.ok) throw new Error(`upload failed: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

export async function registerModel(
  app: ServiceClient,
  token: string,
  name: string,
  options: { riskTier?: string; protectedAttributes?: string[] } = {},
): Promise<void> {
  const r = await app.gql(
    `mutation($input: RegisterModelInput!) { registerModel(input: $input) { id } }`,
    {
      input: {
        name,
        riskTier: options.riskTier ?? 'HIGH',
        owner: 'credit-risk-team',
        protectedAttributes: options.protectedAttributes ?? ['sex', 'age_group'],
        modelCard: MODEL_CARD,
      },
    },
    token,
  );
  if (r.errors) throw new Error(`registerModel: ${JSON.stringify(r.errors)}`);
}

export async function registerVersion(
  app: ServiceClient,
  token: string,
  model: string,
  scoring: ScoringModel,
  extra: Record<string, unknown> = {},
): Promise<number> {
  const { sha256 } = await uploadArtifact(app, token, scoring.bytes);
  const r = await app.gql<{ registerModelVersion: { version: number } }>(
    `mutation($input: RegisterModelVersionInput!) { registerModelVersion(input: $input) { version } }`,
    {
      input: {
        model,
        artifactSha256: sha256,
        task: 'BINARY_CLASSIFICATION',
        featureColumns: [...scoring.featureNames],
        ...extra,
      },
    },
    token,
  );
  if (r.errors || !r.data) throw new Error(`registerModelVersion: ${JSON.stringify(r.errors)}`);
  return r.data.registerModelVersion.version;
}

export async function createEndpoint(
  app: ServiceClient,
  token: string,
  name: string,
  model: string,
  predictionLogPolicy?: 'BEST_EFFORT' | 'REQUIRED',
): Promise<void> {
  const r = await app.gql(
    `mutation($name: String!, $model: String!, $policy: PredictionLogPolicy) {
       createEndpoint(name: $name, model: $model, predictionLogPolicy: $policy) { id } }`,
    { name, model, policy: predictionLogPolicy ?? null },
    token,
  );
  if (r.errors) throw new Error(`createEndpoint: ${JSON.stringify(r.errors)}`);
}

export async function setTraffic(
  app: TestApp,
  endpoint: string,
  change: TrafficChange,
): Promise<void> {
  await app.running.app
    .get(DeploymentService)
    .setTraffic(endpoint, change, { sub: 'system:test' }, 'test set-up');
}

/** A model with one version per scoring model, an endpoint, and the first version live. */
export async function seedLiveEndpoint(
  app: TestApp,
  options: {
    model: string;
    endpoint: string;
    versions: readonly ScoringModel[];
    /** Default HIGH, whose endpoints require the prediction log. */
    riskTier?: 'LOW' | 'MEDIUM' | 'HIGH';
    predictionLogPolicy?: 'BEST_EFFORT' | 'REQUIRED';
  },
): Promise<{ versions: number[] }> {
  const scientist = await app.token('dana', 'data-scientist');
  const engineer = await app.token('erin', 'ml-engineer');
  await registerModel(app, scientist, options.model, { riskTier: options.riskTier ?? 'HIGH' });
  const versions: number[] = [];
  for (const scoring of options.versions)
    versions.push(await registerVersion(app, scientist, options.model, scoring));
  await createEndpoint(app, engineer, options.endpoint, options.model, options.predictionLogPolicy);
  await setTraffic(app, options.endpoint, { liveVersion: versions[0] ?? null });
  return { versions };
}
