import { startApp } from '../../src/app.js';
import { issueDevToken, loadOrCreateDevIssuerKey } from '../../src/auth/dev-issuer.js';
import { loadConfig } from '../../src/config/config.js';
import { DeploymentService } from '../../src/endpoints/deployment.service.js';
import { trainLogisticRegression, type GermanCreditModels } from '../../src/model-builder/index.js';

/** Endpoints loaded in every Gatehouse of the benchmark: `credit` and nine more. */
export const ENDPOINTS = 10;

const MODEL_CARD = {
  intendedUse: 'Benchmark of real-time inference.',
  outOfScopeUses: [],
  limitations: 'Benchmark only.',
  trainingData: 'German credit.',
  ethicalConsiderations: 'Benchmark only.',
};

/**
 * Registers the fair model as `credit` plus nine more logistic regressions (distinct
 * artifacts, so ten sessions), each behind its own endpoint with its version live. Done
 * through an in-process service, since only the deployment service makes a version live.
 */
export async function setUp(databaseUrl: string, dataDir: string, models: GermanCreditModels) {
  const config = loadConfig({
    // test: warnings and errors only in the benchmark's output
    NODE_ENV: 'test',
    GATEHOUSE_PORT: '0',
    GATEHOUSE_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
  });
  const running = await startApp(config);
  try {
    const key = await loadOrCreateDevIssuerKey(dataDir);
    const token = await issueDevToken(key, {
      sub: 'bench',
      roles: ['data-scientist', 'ml-engineer'],
      ttlSeconds: 600,
      audience: config.auth.audience,
      rolesClaim: config.auth.rolesClaim,
    });
    const call = async (method: string, path: string, body: string | Buffer, type: string) => {
      const response = await fetch(`${running.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': type },
        body,
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      const parsed = JSON.parse(text) as { errors?: unknown; sha256?: string };
      if (parsed.errors) throw new Error(`${path}: ${JSON.stringify(parsed.errors)}`);
      return parsed;
    };
    const gql = (query: string, variables: Record<string, unknown>) =>
      call('POST', '/graphql', JSON.stringify({ query, variables }), 'application/json');
    const scorers = [
      models.fair,
      ...Array.from({ length: ENDPOINTS - 1 }, (_, i) =>
        trainLogisticRegression(models.data, { name: `bench_${i}`, l2: 2 + i }),
      ),
    ];
    const deployment = running.app.get(DeploymentService);
    for (const [i, scorer] of scorers.entries()) {
      const name = i === 0 ? 'credit' : `credit-${i}`;
      const artifact = await call(
        'PUT',
        '/v1/artifacts',
        Buffer.from(scorer.bytes),
        'application/octet-stream',
      );
      await gql(`mutation($i: RegisterModelInput!) { registerModel(input: $i) { id } }`, {
        i: {
          name,
          riskTier: 'LOW',
          owner: 'bench',
          protectedAttributes: [],
          modelCard: MODEL_CARD,
        },
      });
      await gql(
        `mutation($i: RegisterModelVersionInput!) { registerModelVersion(input: $i) { version } }`,
        {
          i: {
            model: name,
            artifactSha256: artifact.sha256,
            task: 'BINARY_CLASSIFICATION',
            featureColumns: scorer.featureNames,
          },
        },
      );
      await gql(`mutation($n: String!) { createEndpoint(name: $n, model: $n) { id } }`, {
        n: name,
      });
      await deployment.setTraffic(name, { liveVersion: 1 }, { sub: 'system:bench' }, 'bench');
    }
  } finally {
    await running.close();
  }
}

/** The request every server answers: one row of the 60 German credit features. */
export function inferenceBody(models: GermanCreditModels): string {
  return JSON.stringify({
    inputs: [
      {
        name: 'features',
        datatype: 'FP32',
        shape: [1, 60],
        data: Array.from(models.data.X[0] ?? []),
      },
    ],
  });
}

/** GATEHOUSE_* settings of this process, for the services a benchmark starts. */
export function gatehouseSettings(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[0].startsWith('GATEHOUSE_') && e[1] !== undefined,
    ),
  );
}
