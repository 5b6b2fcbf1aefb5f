import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ENDPOINTS_CHANNEL } from '../../src/endpoints/endpoint-events.js';
import { readMlflowModel } from '../../src/mlflow/mlflow-model.js';
import { buildGermanCreditModels, type GermanCreditModels } from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import {
  MODEL_CARD,
  createEndpoint,
  registerModel,
  setTraffic,
  uploadArtifact,
} from '../support/registry.js';
import { writeMlflowModel } from '../support/mlflow.js';

interface LedgerPage {
  ledgerEvents: {
    events: { seq: number; type: string; subject: string; payload: Record<string, unknown> }[];
  };
}

const REGISTER_VERSION = `mutation($input: RegisterModelVersionInput!) {
  registerModelVersion(input: $input) {
    model version artifactSha256 task featureColumns inputName scoreOutput scoreIndex threshold
    parentVersion trainingMetrics metadata inputs { name datatype shape } outputs { name datatype shape }
  }
}`;

describe('the model registry and endpoints', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let scientist: string;
  let engineer: string;
  let auditor: string;
  let scratch: string;
  const digests: Record<string, string> = {};

  beforeAll(async () => {
    models = buildGermanCreditModels();
    scratch = mkdtempSync(join(tmpdir(), 'gatehouse-registry-'));
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    scientist = await app.token('dana', 'data-scientist');
    engineer = await app.token('erin', 'ml-engineer');
    auditor = await app.token('audrey', 'auditor');
    for (const [name, m] of Object.entries({
      fair: models.fair,
      unfair: models.unfair,
      mlp: models.mlp,
      trees: models.trees,
      constant: models.faulty.constant,
      wrong: models.faulty.wrongSignature,
    })) {
      digests[name] = (await uploadArtifact(app, scientist, m.bytes)).sha256;
    }
  }, 120_000);

  afterAll(async () => {
    await app.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function events(type: string): Promise<LedgerPage['ledgerEvents']['events']> {
    const r = await app.gql<LedgerPage>(
      `query($type: String) { ledgerEvents(type: $type, limit: 1000) { events { seq type subject payload } } }`,
      { type },
      auditor,
    );
    return r.data?.ledgerEvents.events ?? [];
  }

  function register(input: Record<string, unknown>, token = scientist) {
    return app.gql(
      `mutation($input: RegisterModelInput!) { registerModel(input: $input) { id name riskTier owner protectedAttributes modelCard { intendedUse outOfScopeUses } } }`,
      { input },
      token,
    );
  }

  const model = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    riskTier: 'HIGH',
    owner: 'credit-risk-team',
    protectedAttributes: ['sex', 'age_group'],
    modelCard: MODEL_CARD,
    ...extra,
  });

  describe('registerModel', () => {
    it('registers a model with its card and records model.registered', async () => {
      const r = await register(model('credit-risk'));
      expect(r.errors).toBeUndefined();
      expect(r.data?.['registerModel']).toMatchObject({
        name: 'credit-risk',
        riskTier: 'HIGH',
        protectedAttributes: ['sex', 'age_group'],
        modelCard: { intendedUse: MODEL_CARD.intendedUse },
      });
      const [event] = await events('model.registered');
      expect(event).toMatchObject({
        subject: 'model:credit-risk',
        payload: { name: 'credit-risk', riskTier: 'HIGH', modelCard: MODEL_CARD },
      });
    });

    it.each([
      ['name', { name: 'Credit Risk' }],
      ['name', { name: 'credit--risk' }],
      ['owner', { owner: '   ' }],
      ['modelCard.limitations', { modelCard: { ...MODEL_CARD, limitations: '' } }],
      ['modelCard.outOfScopeUses[1]', { modelCard: { ...MODEL_CARD, outOfScopeUses: ['x', ' '] } }],
      ['protectedAttributes', { protectedAttributes: [] }],
      ['protectedAttributes[1]', { protectedAttributes: ['sex', 'sex'] }],
    ])('refuses a bad %s', async (field, change) => {
      const r = await register(model('bad-model', change));
      expect(r.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field },
      });
      expect((await app.gql(`{ model(name: "bad-model") { id } }`, {}, auditor)).data).toEqual({
        model: null,
      });
    });

    it('lets a low-risk model have no protected attributes', async () => {
      const r = await register(model('churn-score', { riskTier: 'LOW', protectedAttributes: [] }));
      expect(r.errors).toBeUndefined();
    });

    it('refuses a second model of the same name', async () => {
      const r = await register(model('credit-risk'));
      expect(r.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    });

    it('needs authentication and the create permission', async () => {
      expect((await register(model('x-1'), '')).errors?.[0]?.extensions?.code).toBe(
        'UNAUTHENTICATED',
      );
      expect((await register(model('x-1'), engineer)).errors?.[0]?.extensions?.code).toBe(
        'FORBIDDEN',
      );
    });
  });

  describe('registerModelVersion', () => {
    const version = (extra: Record<string, unknown> = {}) => ({
      model: 'credit-risk',
      artifactSha256: digests['fair'],
      task: 'BINARY_CLASSIFICATION',
      featureColumns: [...models.fair.featureNames],
      trainingMetrics: { auc: 0.78, rows: 1000 },
      ...extra,
    });

    it('registers version 1 bound to the artifact signature, then version 2 with lineage', async () => {
      const first = await app.gql(REGISTER_VERSION, { input: version() }, scientist);
      expect(first.errors).toBeUndefined();
      expect(first.data?.['registerModelVersion']).toEqual({
        model: 'credit-risk',
        version: 1,
        artifactSha256: digests['fair'],
        task: 'BINARY_CLASSIFICATION',
        featureColumns: [...models.fair.featureNames],
        inputName: 'features',
        scoreOutput: 'score',
        scoreIndex: 0,
        threshold: 0.5,
        parentVersion: null,
        trainingMetrics: { auc: 0.78, rows: 1000 },
        metadata: {},
        inputs: [
          { name: 'features', datatype: 'FP32', shape: [-1, models.fair.featureNames.length] },
        ],
        outputs: [{ name: 'score', datatype: 'FP32', shape: [-1, 1] }],
      });
      const second = await app.gql(
        REGISTER_VERSION,
        {
          input: version({
            artifactSha256: digests['unfair'],
            featureColumns: [...models.unfair.featureNames],
            parentVersion: 1,
            threshold: 0.6,
          }),
        },
        scientist,
      );
      expect(second.errors).toBeUndefined();
      expect(second.data?.['registerModelVersion']).toMatchObject({
        version: 2,
        parentVersion: 1,
        threshold: 0.6,
      });
      const recorded = await events('model.version.registered');
      expect(recorded.map((e) => e.subject)).toEqual([
        'model:credit-risk@1',
        'model:credit-risk@2',
      ]);
      expect(recorded[0]?.payload).toMatchObject({ artifactSha256: digests['fair'], version: 1 });
    });

    it.each([
      ['featureColumns', () => version({ featureColumns: ['a', 'b'] })],
      ['featureColumns[1]', () => version({ featureColumns: ['a', 'a'] })],
      ['artifactSha256', () => version({ artifactSha256: 'f'.repeat(64) })],
      ['artifactSha256', () => version({ artifactSha256: 'not-a-digest' })],
      ['inputName', () => version({ inputName: 'pixels' })],
      ['scoreOutput', () => version({ scoreOutput: 'label' })],
      ['scoreIndex', () => version({ scoreIndex: 1 })],
      ['threshold', () => version({ threshold: 1.5 })],
      ['threshold', () => version({ task: 'REGRESSION', threshold: 0.5 })],
      [
        'parentVersion',
        () =>
          version({
            artifactSha256: digests['mlp'],
            featureColumns: [...models.mlp.featureNames],
            parentVersion: 9,
          }),
      ],
      [
        'featureColumns',
        () =>
          version({
            artifactSha256: digests['wrong'],
            featureColumns: [...models.fair.featureNames],
          }),
      ],
    ])('refuses a bad %s, naming it', async (field, input) => {
      const r = await app.gql(REGISTER_VERSION, { input: input() }, scientist);
      expect(r.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field },
      });
    });

    it('refuses the same artifact twice, naming the version it already is', async () => {
      const r = await app.gql(REGISTER_VERSION, { input: version() }, scientist);
      expect(r.errors?.[0]?.extensions).toMatchObject({
        code: 'CONFLICT',
        details: { version: 1 },
      });
    });

    it('refuses an unknown model', async () => {
      const r = await app.gql(REGISTER_VERSION, { input: version({ model: 'nope' }) }, scientist);
      expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    });

    it('numbers concurrent registrations 1, 2, 3… without gaps or duplicates', async () => {
      await registerModel(app, scientist, 'parallel');
      const results = await Promise.all(
        (['fair', 'unfair', 'mlp', 'trees', 'constant'] as const).map((name) =>
          app.gql<{ registerModelVersion: { version: number } }>(
            REGISTER_VERSION,
            {
              input: {
                model: 'parallel',
                artifactSha256: digests[name],
                task: 'BINARY_CLASSIFICATION',
                featureColumns: [
                  ...(name === 'constant' ? models.fair : models[name]).featureNames,
                ],
              },
            },
            scientist,
          ),
        ),
      );
      expect(results.map((r) => r.errors)).toEqual([
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
      expect(results.map((r) => r.data?.registerModelVersion.version).sort()).toEqual([
        1, 2, 3, 4, 5,
      ]);
    });

    it('keeps versions immutable in the database', async () => {
      const client = new pg.Client({ connectionString: app.database.url });
      await client.connect();
      try {
        await expect(client.query(`UPDATE model_versions SET threshold = 0.1`)).rejects.toThrow(
          /immutable/,
        );
        await expect(client.query(`DELETE FROM model_versions`)).rejects.toThrow(/immutable/);
      } finally {
        await client.end();
      }
    });

    describe('metadata', () => {
      const PROVENANCE = {
        'mlflow.run_id': '8c9f0e3b1c2d4e5f8a7b6c5d4e3f2a1b',
        'mlflow.source': 'runs:/8c9f0e3b1c2d4e5f8a7b6c5d4e3f2a1b/model',
        'git.commit': '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
        constructor: 'an ordinary key',
        note: 'Zürich 😀',
      };
      const provenance = (extra: Record<string, unknown>) =>
        version({
          model: 'provenance',
          artifactSha256: digests['mlp'],
          featureColumns: [...models.mlp.featureNames],
          ...extra,
        });

      beforeAll(async () => {
        await registerModel(app, scientist, 'provenance');
      });

      it('keeps where a version came from, answers it and records it in the ledger', async () => {
        const r = await app.gql<{ registerModelVersion: { version: number; metadata: unknown } }>(
          `mutation($input: RegisterModelVersionInput!) { registerModelVersion(input: $input) { version metadata } }`,
          { input: provenance({ metadata: PROVENANCE }) },
          scientist,
        );
        expect(r.errors).toBeUndefined();
        expect(r.data?.registerModelVersion).toEqual({ version: 1, metadata: PROVENANCE });

        const read = await app.gql<{
          modelVersion: { metadata: unknown };
          model: { versions: { metadata: unknown }[] };
        }>(
          `{ modelVersion(model: "provenance", version: 1) { metadata }
             model(name: "provenance") { versions { metadata } } }`,
          {},
          auditor,
        );
        expect(read.data).toEqual({
          modelVersion: { metadata: PROVENANCE },
          model: { versions: [{ metadata: PROVENANCE }] },
        });

        const recorded = (await events('model.version.registered')).find(
          (e) => e.subject === 'model:provenance@1',
        );
        expect(recorded?.payload['metadata']).toEqual(PROVENANCE);
      });

      it('answers an empty map for a version registered without any, and records one', async () => {
        const r = await app.gql<{ modelVersion: { metadata: unknown } }>(
          `{ modelVersion(model: "credit-risk", version: 1) { metadata } }`,
          {},
          auditor,
        );
        expect(r.data?.modelVersion).toEqual({ metadata: {} });
        const recorded = (await events('model.version.registered')).find(
          (e) => e.subject === 'model:credit-risk@1',
        );
        expect(recorded?.payload['metadata']).toEqual({});
      });

      it('refuses the same artifact again with other metadata, and keeps the first', async () => {
        const r = await app.gql(
          REGISTER_VERSION,
          { input: provenance({ metadata: { 'mlflow.run_id': 'another-run' } }) },
          scientist,
        );
        expect(r.errors?.[0]?.extensions).toMatchObject({
          code: 'CONFLICT',
          details: { version: 1 },
        });
        const read = await app.gql<{ modelVersion: { metadata: unknown } }>(
          `{ modelVersion(model: "provenance", version: 1) { metadata } }`,
          {},
          auditor,
        );
        expect(read.data?.modelVersion.metadata).toEqual(PROVENANCE);
      });

      it.each([
        [
          '33 keys',
          'metadata',
          Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])),
        ],
        ['an uppercase key', 'metadata.Git.Commit', { 'Git.Commit': 'abc' }],
        ['a key of 65 characters', `metadata.${'k'.repeat(65)}`, { ['k'.repeat(65)]: 'v' }],
        ['a number', 'metadata.mlflow.run_id', { 'mlflow.run_id': 7 }],
        ['null', 'metadata.mlflow.run_id', { 'mlflow.run_id': null }],
        ['an object', 'metadata.mlflow.run_id', { 'mlflow.run_id': { nested: 'no' } }],
        ['2049 characters', 'metadata.mlflow.run_id', { 'mlflow.run_id': 'x'.repeat(2049) }],
      ])('refuses metadata with %s, naming %s', async (_, field, metadata) => {
        const r = await app.gql(REGISTER_VERSION, { input: provenance({ metadata }) }, scientist);
        expect(r.errors?.[0]?.extensions).toMatchObject({
          code: 'BAD_USER_INPUT',
          details: { field },
        });
      });

      it('refuses a __proto__ key in the variables before they are read, and in the document', async () => {
        const inVariables = await app.gql(
          REGISTER_VERSION,
          { input: provenance({ metadata: JSON.parse('{"__proto__": {"polluted": "yes"}}') }) },
          scientist,
        );
        // Fastify's JSON body parser refuses a prototype key outright.
        expect(inVariables.status).toBe(400);
        expect(inVariables.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });

        const inDocument = await app.gql(
          `mutation($digest: String!, $columns: [String!]!) { registerModelVersion(input: {
             model: "provenance", artifactSha256: $digest, task: BINARY_CLASSIFICATION,
             featureColumns: $columns, metadata: { __proto__: "x" } }) { version } }`,
          { digest: digests['trees'], columns: [...models.trees.featureNames] },
          scientist,
        );
        expect(inDocument.errors?.[0]?.extensions).toMatchObject({
          code: 'BAD_USER_INPUT',
          details: { field: 'metadata.__proto__' },
        });
      });

      it('refuses text no metadata may hold, naming the key', async () => {
        for (const value of ['a\u0000b', 'lone \ud800']) {
          const r = await app.gql(
            REGISTER_VERSION,
            { input: provenance({ metadata: { 'git.commit': value } }) },
            scientist,
          );
          expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
          expect(r.errors?.[0]?.extensions?.['details']).toMatchObject({
            field: 'input.metadata.git.commit',
          });
        }
        const read = await app.gql<{ model: { versions: { version: number }[] } }>(
          `{ model(name: "provenance") { versions { version } } }`,
          {},
          auditor,
        );
        expect(read.data?.model.versions).toEqual([{ version: 1 }]);
      });

      it('registers what an MLflow model directory holds: its columns and where it came from', async () => {
        const dir = writeMlflowModel(join(scratch, 'mlflow-model'), 'column-signature', {
          onnx: models.unfair.bytes,
        });
        const read = readMlflowModel(dir);
        const { sha256 } = await uploadArtifact(app, scientist, readFileSync(read.onnxPath));
        const r = await app.gql<{
          registerModelVersion: { version: number; featureColumns: string[]; metadata: unknown };
        }>(
          `mutation($input: RegisterModelVersionInput!) { registerModelVersion(input: $input) { version featureColumns metadata } }`,
          {
            input: {
              model: 'provenance',
              artifactSha256: sha256,
              task: 'BINARY_CLASSIFICATION',
              featureColumns: read.featureColumns,
              metadata: read.metadata,
            },
          },
          scientist,
        );
        expect(r.errors).toBeUndefined();
        expect(r.data?.registerModelVersion).toEqual({
          version: 2,
          featureColumns: [...models.unfair.featureNames],
          metadata: read.metadata,
        });
        expect(read.metadata['mlflow.run_id']).toBe('8c9f0e3b1c2d4e5f8a7b6c5d4e3f2a1b');
      });
    });

    it('shows a model with its versions, and one version', async () => {
      const r = await app.gql<{
        model: { versions: { version: number; artifactSha256: string }[] };
        modelVersion: { version: number; parentVersion: number };
      }>(
        `{ model(name: "credit-risk") { versions { version artifactSha256 } }
           modelVersion(model: "credit-risk", version: 2) { version parentVersion } }`,
        {},
        auditor,
      );
      expect(r.data?.model.versions).toEqual([
        { version: 1, artifactSha256: digests['fair'] },
        { version: 2, artifactSha256: digests['unfair'] },
      ]);
      expect(r.data?.modelVersion).toEqual({ version: 2, parentVersion: 1 });
    });
  });

  describe('models', () => {
    it('pages through models with a cursor and filters them', async () => {
      for (const name of ['page-a', 'page-b', 'page-c'])
        await registerModel(app, scientist, name, { riskTier: 'MEDIUM' });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r: Awaited<
          ReturnType<
            typeof app.gql<{ models: { items: { name: string }[]; nextCursor: string | null } }>
          >
        > = await app.gql(
          `query($cursor: String) { models(limit: 2, cursor: $cursor) { items { name } nextCursor } }`,
          { cursor },
          auditor,
        );
        seen.push(...(r.data?.models.items.map((m) => m.name) ?? []));
        cursor = r.data?.models.nextCursor ?? null;
        pages++;
      } while (cursor !== null && pages < 10);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(
        expect.arrayContaining([
          'credit-risk',
          'churn-score',
          'parallel',
          'page-a',
          'page-b',
          'page-c',
        ]),
      );
      expect(pages).toBe(Math.ceil(seen.length / 2));

      const medium = await app.gql<{ models: { items: { name: string }[] } }>(
        `{ models(riskTier: MEDIUM, nameContains: "page-") { items { name } } }`,
        {},
        auditor,
      );
      expect(medium.data?.models.items.map((m) => m.name)).toEqual(['page-a', 'page-b', 'page-c']);
      const bad = await app.gql(`{ models(limit: 500) { items { name } } }`, {}, auditor);
      expect(bad.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'limit' },
      });
      const badCursor = await app.gql(`{ models(cursor: "xyz") { items { name } } }`, {}, auditor);
      expect(badCursor.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'cursor' },
      });
    });
  });

  describe('endpoints', () => {
    it('creates an endpoint with nothing live, records endpoint.created', async () => {
      const r = await app.gql(
        `mutation { createEndpoint(name: "credit", model: "credit-risk") { name model liveVersion candidateVersion mode candidateWeight revision } }`,
        {},
        engineer,
      );
      expect(r.errors).toBeUndefined();
      expect(r.data?.['createEndpoint']).toEqual({
        name: 'credit',
        model: 'credit-risk',
        liveVersion: null,
        candidateVersion: null,
        mode: 'NONE',
        candidateWeight: 0,
        revision: 1,
      });
      expect((await events('endpoint.created'))[0]).toMatchObject({
        subject: 'endpoint:credit',
        payload: { name: 'credit', model: 'credit-risk' },
      });
    });

    it('refuses a duplicate, an unknown model, a bad name and a role without the permission', async () => {
      const create = (name: string, model: string, token = engineer) =>
        app.gql(
          `mutation($n: String!, $m: String!) { createEndpoint(name: $n, model: $m) { id } }`,
          { n: name, m: model },
          token,
        );
      expect((await create('credit', 'credit-risk')).errors?.[0]?.extensions?.code).toBe(
        'CONFLICT',
      );
      expect((await create('other', 'nope')).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect((await create('Bad Name', 'credit-risk')).errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'name' },
      });
      expect((await create('other', 'credit-risk', scientist)).errors?.[0]?.extensions?.code).toBe(
        'FORBIDDEN',
      );
    });

    it('changes traffic only through the deployment service: ledgered, revision bumped, replicas notified', async () => {
      const listener = new pg.Client({ connectionString: app.database.url });
      await listener.connect();
      const notified: string[] = [];
      listener.on('notification', (n) => notified.push(n.payload ?? ''));
      await listener.query(`LISTEN ${ENDPOINTS_CHANNEL}`);
      try {
        await setTraffic(app, 'credit', { liveVersion: 1 });
        await setTraffic(app, 'credit', {
          candidateVersion: 2,
          mode: 'CANARY',
          candidateWeight: 1000,
        });
        const r = await app.gql<{ endpoint: Record<string, unknown> }>(
          `{ endpoint(name: "credit") { liveVersion candidateVersion mode candidateWeight revision } }`,
          {},
          auditor,
        );
        expect(r.data?.endpoint).toEqual({
          liveVersion: 1,
          candidateVersion: 2,
          mode: 'CANARY',
          candidateWeight: 1000,
          revision: 3,
        });
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(notified).toEqual(['credit', 'credit']);
      } finally {
        await listener.end();
      }
      const live = await events('deployment.live.changed');
      expect(live).toHaveLength(1);
      expect(live[0]?.payload).toMatchObject({
        endpoint: 'credit',
        from: { liveVersion: null },
        to: { liveVersion: 1 },
      });
      expect(await events('deployment.traffic.changed')).toHaveLength(1);
    });

    it('refuses traffic to a version that does not exist or an inconsistent state', async () => {
      await expect(setTraffic(app, 'credit', { liveVersion: 9 })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      await expect(setTraffic(app, 'credit', { candidateVersion: 1 })).rejects.toMatchObject({
        code: 'CONFLICT',
      });
      await expect(setTraffic(app, 'credit', { candidateWeight: 20_000 })).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
      });
    });

    it('offers no mutation that sets traffic directly', async () => {
      const r = await app.gql<{ __schema: { mutationType: { fields: { name: string }[] } } }>(
        `{ __schema { mutationType { fields { name } } } }`,
      );
      const names = r.data?.__schema.mutationType.fields.map((f) => f.name) ?? [];
      expect(names).toContain('createEndpoint');
      expect(names.filter((n) => /traffic|live|deploy/i.test(n))).toEqual([]);
    });

    it('lists endpoints, optionally of one model', async () => {
      await createEndpoint(app, engineer, 'churn', 'churn-score');
      const r = await app.gql<{ endpoints: { items: { name: string; model: string }[] } }>(
        `{ endpoints(model: "churn-score") { items { name model } } }`,
        {},
        auditor,
      );
      expect(r.data?.endpoints.items).toEqual([{ name: 'churn', model: 'churn-score' }]);
    });
  });
});
