import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalize } from '../../src/ledger/canonical-json.js';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/app.js';
import { createEndpoint, registerModel, registerVersion } from '../support/registry.js';

interface Approval {
  role: string;
  approver: string;
  requestDigest: string;
  statement: string | null;
  signOff: boolean;
}
interface Request {
  id: string;
  status: string;
  endpoint: string;
  version: number;
  strategy: string;
  requestDigest: string;
  content: Record<string, unknown>;
  requiredRoles: string[];
  missingRoles: string[];
  approvals: Approval[];
}
interface GateResult {
  gate: string;
  passed: boolean;
  summary: string;
  evidence: Record<string, unknown>;
}
interface GateEvaluation {
  id: string;
  passed: boolean;
  purpose: string;
  failedGates: string[];
  gates: GateResult[];
  evidenceSha256: string;
  policySha256: string;
}
interface LedgerEvent {
  seq: number;
  type: string;
  subject: string;
  actor: { sub: string; roles: string[] | null };
  payload: Record<string, unknown>;
}
type Variables = Record<string, unknown>;

const REQUEST_FIELDS = `id status endpoint version strategy requestDigest content requiredRoles
  missingRoles approvals { role approver requestDigest statement signOff }`;
const GATE_FIELDS = `id passed purpose failedGates evidenceSha256 policySha256
  gates { gate passed summary evidence }`;

const REQUEST = `mutation($endpoint: String!, $model: String!, $version: Int!, $evaluationId: ID!,
  $strategy: PromotionStrategy!, $plan: RolloutPlanInput, $rollbackCriteria: RollbackCriteriaInput!,
  $successCriteria: SuccessCriteriaInput, $justification: String!) {
  requestPromotion(endpoint: $endpoint, model: $model, version: $version, evaluationId: $evaluationId,
    strategy: $strategy, plan: $plan, rollbackCriteria: $rollbackCriteria,
    successCriteria: $successCriteria, justification: $justification) { ${REQUEST_FIELDS} }
}`;
const APPROVE = `mutation($id: ID!, $role: String!, $statement: String, $digest: String!) {
  approvePromotion(id: $id, role: $role, statement: $statement, requestDigest: $digest) { ${REQUEST_FIELDS} }
}`;
const REJECT = `mutation($id: ID!, $reason: String!) { rejectPromotion(id: $id, reason: $reason) { ${REQUEST_FIELDS} } }`;
const WITHDRAW = `mutation($id: ID!) { withdrawPromotion(id: $id) { ${REQUEST_FIELDS} } }`;
const GATES = `mutation($id: ID!) { evaluateGates(id: $id) { ${GATE_FIELDS} } }`;
const START = `mutation($id: ID!) { startRollout(promotionId: $id) {
  id promotionId endpoint strategy candidateVersion previousVersion status currentStage
  stages { name kind status passedAt } gateEvaluationId startedBy
  history { type subject payload } } }`;

const window = { minRequests: 500, seconds: 600 };
const RATIONALE =
  'Above one percent errors the underwriters cannot review every refusal; disparate impact below 0.8 breaches the four-fifths rule we report on.';
const JUSTIFICATION =
  'First credit-risk model for the underwriting queue, audited fair on sex and age.';
const SIGN_OFF =
  'I reviewed the fairness audit, the model card and the rollback criteria, and sign off for production.';
const INITIAL_CRITERIA = {
  maxErrorRate: { value: 0.01, window },
  minDisparateImpact: { value: 0.8, window },
  rationale: RATIONALE,
};
const STAGED_PLAN = {
  shadow: { sampleRate: 1, minRequests: 1000, minDurationSeconds: 86_400 },
  canary: { steps: [5, 25, 50], minRequestsPerStep: 500, bakeSeconds: 3600 },
};

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
// Re-created in this realm: canonicalize accepts plain objects of its own realm only.
const jcsDigest = (value: unknown) => sha256(canonicalize(JSON.parse(JSON.stringify(value))));

describe('promotion governance: requests, approvals, gates and the INITIAL go-live', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let policiesDir: string;
  const tokens: Record<string, string> = {};
  const evaluations: Record<string, string> = {};
  let dataset: string;

  async function gql<T>(
    query: string,
    variables: Variables,
    who: string,
  ): Promise<GraphQLResponse<T>> {
    const token = tokens[who];
    if (token === undefined) throw new Error(`no token for ${who}`);
    return app.gql<T>(query, variables, token);
  }

  async function ok<T>(query: string, variables: Variables, who: string): Promise<T> {
    const r = await gql<T>(query, variables, who);
    if (r.errors || !r.data) throw new Error(JSON.stringify(r.errors));
    return r.data;
  }

  function refusedWith(r: GraphQLResponse<unknown>, code: string, message?: RegExp | string) {
    expect(r.errors?.[0]?.extensions?.code).toBe(code);
    if (message !== undefined) expect(r.errors?.[0]?.message).toMatch(message);
  }

  function requestVars(overrides: Variables = {}): Variables {
    return {
      endpoint: 'credit',
      model: 'credit-risk',
      version: 1,
      evaluationId: evaluations['v1'],
      strategy: 'INITIAL',
      rollbackCriteria: INITIAL_CRITERIA,
      justification: JUSTIFICATION,
      ...overrides,
    };
  }

  async function request(overrides: Variables = {}, who = 'dana') {
    return gql<{ requestPromotion: Request }>(REQUEST, requestVars(overrides), who);
  }

  async function requested(overrides: Variables = {}, who = 'dana'): Promise<Request> {
    return (await ok<{ requestPromotion: Request }>(REQUEST, requestVars(overrides), who))
      .requestPromotion;
  }

  const approve = (req: Request, who: string, role: string, statement?: string, digest?: string) =>
    gql<{ approvePromotion: Request }>(
      APPROVE,
      { id: req.id, role, statement: statement ?? null, digest: digest ?? req.requestDigest },
      who,
    );

  async function approvedByAll(req: Request): Promise<Request> {
    await ok(APPROVE, { id: req.id, role: 'ml-engineer', digest: req.requestDigest }, 'erin');
    await ok(APPROVE, { id: req.id, role: 'model-validator', digest: req.requestDigest }, 'vera');
    const r = await ok<{ approvePromotion: Request }>(
      APPROVE,
      { id: req.id, role: 'compliance-officer', statement: SIGN_OFF, digest: req.requestDigest },
      'cora',
    );
    return r.approvePromotion;
  }

  async function ledger(filter: { subject?: string; type?: string }): Promise<LedgerEvent[]> {
    const r = await ok<{ ledgerEvents: { events: LedgerEvent[] } }>(
      `query($subject: String, $type: String) { ledgerEvents(limit: 200, subject: $subject, type: $type) {
        events { seq type subject actor { sub roles } payload } } }`,
      filter,
      'audrey',
    );
    return r.ledgerEvents.events;
  }

  /** Events are sealed just after their commit: wait briefly for the one expected. */
  async function ledgerWith(
    filter: { subject?: string; type?: string },
    found: (events: LedgerEvent[]) => boolean,
  ): Promise<LedgerEvent[]> {
    for (let i = 0; i < 50; i++) {
      const events = await ledger(filter);
      if (found(events)) return events;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return ledger(filter);
  }

  const refusals = (promotionId: string, type: string) =>
    ledgerWith({ subject: `promotion:${promotionId}`, type }, (e) => e.length > 0);

  async function evaluate(model: string, version: number): Promise<string> {
    const r = await ok<{ runEvaluation: { id: string } }>(
      `mutation($model: String!, $version: Int!, $dataset: ID!) {
        runEvaluation(model: $model, version: $version, dataset: $dataset, labelColumn: "good_credit") { id } }`,
      { model, version, dataset },
      'vera',
    );
    const id = r.runEvaluation.id;
    for (let i = 0; i < 600; i++) {
      const e = await ok<{ evaluation: { status: string; error: string | null } }>(
        `query($id: ID!) { evaluation(id: $id) { status error } }`,
        { id },
        'vera',
      );
      if (e.evaluation.status === 'SUCCEEDED') return id;
      if (e.evaluation.status === 'FAILED') throw new Error(e.evaluation.error ?? 'failed');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the evaluation did not finish');
  }

  async function liveVersionOf(endpoint: string): Promise<number | null> {
    const r = await ok<{ endpoint: { liveVersion: number | null } }>(
      `query($name: String!) { endpoint(name: $name) { liveVersion } }`,
      { name: endpoint },
      'audrey',
    );
    return r.endpoint.liveVersion;
  }

  beforeAll(async () => {
    models = buildGermanCreditModels();
    // The shipped policies, except that LOW-risk evaluations expire after 2 s, so that an
    // expired evaluation can be shown without waiting 180 days.
    policiesDir = mkdtempSync(join(tmpdir(), 'gatehouse-policies-'));
    const shipped = new URL('../../policies/', import.meta.url).pathname;
    for (const file of ['roles.yaml', 'evaluation.yaml'])
      copyFileSync(join(shipped, file), join(policiesDir, file));
    const promotion = readFileSync(join(shipped, 'promotion.yaml'), 'utf8');
    const lowAge = promotion.replace('maxEvaluationAge: 180d', 'maxEvaluationAge: 2s');
    expect(lowAge).not.toBe(promotion);
    writeFileSync(join(policiesDir, 'promotion.yaml'), lowAge);

    app = await startTestApp({
      GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
      GATEHOUSE_POLICIES_DIR: policiesDir,
    });
    const people: [string, ...string[]][] = [
      ['dana', 'data-scientist'],
      ['paul', 'data-scientist'],
      ['erin', 'ml-engineer'],
      ['vera', 'model-validator'],
      ['cora', 'compliance-officer'],
      ['audrey', 'auditor'],
      ['ivan', 'inference-client'],
      // One person holding two approver roles.
      ['mallory', 'ml-engineer', 'model-validator'],
      // The requester also holding an approver role.
      ['dana-as-engineer', 'data-scientist', 'ml-engineer'],
    ];
    for (const [name, ...roles] of people)
      tokens[name] = await app.token(name === 'dana-as-engineer' ? 'dana' : name, ...roles);

    const scientist = tokens['dana']!;
    await registerModel(app, scientist, 'credit-risk', { riskTier: 'HIGH' });
    await registerVersion(app, scientist, 'credit-risk', models.fair);
    await registerVersion(app, scientist, 'credit-risk', models.unfair);
    await registerVersion(app, scientist, 'credit-risk', models.trees);
    await registerModel(app, scientist, 'marketing-score', {
      riskTier: 'LOW',
      protectedAttributes: ['sex'],
    });
    await registerVersion(app, scientist, 'marketing-score', models.fair);
    for (const endpoint of [
      'credit',
      'credit-refusals',
      'credit-stale',
      'credit-reject',
      'credit-unfair',
    ])
      await createEndpoint(app, tokens['erin']!, endpoint, 'credit-risk');
    await createEndpoint(app, tokens['erin']!, 'marketing', 'marketing-score');

    const upload = await fetch(`${app.url}/v1/datasets?name=german-credit`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tokens['vera']!}`, 'content-type': 'text/csv' },
      body: readFileSync(defaultGermanCreditPath()),
    });
    dataset = ((await upload.json()) as { id: string }).id;
    evaluations['v1'] = await evaluate('credit-risk', 1);
    evaluations['v2'] = await evaluate('credit-risk', 2);
    evaluations['v3'] = await evaluate('credit-risk', 3);
  }, 180_000);

  afterAll(async () => {
    await app.close();
    rmSync(policiesDir, { recursive: true, force: true });
  });

  describe('requests', () => {
    it('refuses a request without rollback thresholds, without rationale or without criteria at all', async () => {
      const endpoint = 'credit-refusals';
      refusedWith(
        await request({ endpoint, rollbackCriteria: { rationale: RATIONALE } }),
        'BAD_USER_INPUT',
        /^rollbackCriteria: name at least one threshold/,
      );
      refusedWith(
        await request({ endpoint, rollbackCriteria: { ...INITIAL_CRITERIA, rationale: 'ok' } }),
        'BAD_USER_INPUT',
        /^rollbackCriteria\.rationale: must be written out/,
      );
      const without = requestVars({ endpoint });
      delete without['rollbackCriteria'];
      refusedWith(await gql(REQUEST, without, 'dana'), 'BAD_USER_INPUT', /rollbackCriteria/);
      refusedWith(
        await request({
          endpoint,
          rollbackCriteria: { maxErrorRate: { value: 0.01, window }, rationale: RATIONALE },
        }),
        'BAD_USER_INPUT',
        'rollbackCriteria: the HIGH policy requires minDisparateImpact',
      );
    });

    it('refuses criteria that cannot be measured under the strategy, and values out of range', async () => {
      const endpoint = 'credit-refusals';
      refusedWith(
        await request({
          endpoint,
          rollbackCriteria: { ...INITIAL_CRITERIA, minAgreementWithLive: { value: 0.95, window } },
        }),
        'BAD_USER_INPUT',
        'rollbackCriteria.minAgreementWithLive: cannot be measured under INITIAL: there is no live version to agree with',
      );
      refusedWith(
        await request({
          endpoint,
          rollbackCriteria: { ...INITIAL_CRITERIA, maxErrorRate: { value: 2, window } },
        }),
        'BAD_USER_INPUT',
        /^rollbackCriteria\.maxErrorRate\.value: /,
      );
      refusedWith(
        await request({
          endpoint,
          rollbackCriteria: {
            ...INITIAL_CRITERIA,
            maxErrorRate: { value: 0.01, window: { minRequests: 3, seconds: 600 } },
          },
        }),
        'BAD_USER_INPUT',
        /^rollbackCriteria\.maxErrorRate\.window\.minRequests: /,
      );
    });

    it('refuses a staged strategy for the first version, and an evaluation of another version', async () => {
      const endpoint = 'credit-refusals';
      refusedWith(
        await request({ endpoint, strategy: 'SHADOW_THEN_CANARY', plan: STAGED_PLAN }),
        'BAD_USER_INPUT',
        'strategy: endpoint credit-refusals has no live version: its first version goes live with INITIAL',
      );
      refusedWith(
        await request({ endpoint, evaluationId: evaluations['v2'] }),
        'BAD_USER_INPUT',
        `evaluationId: evaluation ${evaluations['v2']} is not of credit-risk@1`,
      );
      refusedWith(
        await request({ endpoint, justification: 'ship it' }),
        'BAD_USER_INPUT',
        /^justification: /,
      );
    });

    it('refuses an expired evaluation', async () => {
      const evaluation = await evaluate('marketing-score', 1);
      // The test policy lets LOW-risk evaluations expire after 2 s.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      refusedWith(
        await request({
          endpoint: 'marketing',
          model: 'marketing-score',
          evaluationId: evaluation,
          rollbackCriteria: { maxErrorRate: { value: 0.02, window }, rationale: RATIONALE },
        }),
        'BAD_USER_INPUT',
        new RegExp(`^evaluationId: evaluation ${evaluation} finished \\d+ s ago and has expired`),
      );
    });

    it('shows the SHA-256 of the canonical request and refuses a second open request', async () => {
      const sut = await requested();
      expect(sut).toMatchObject({
        status: 'PENDING',
        endpoint: 'credit',
        version: 1,
        strategy: 'INITIAL',
        requiredRoles: ['ml-engineer', 'model-validator', 'compliance-officer'],
        missingRoles: ['ml-engineer', 'model-validator', 'compliance-officer'],
        approvals: [],
      });
      expect(sut.requestDigest).toBe(jcsDigest(sut.content));
      expect(sut.content).toMatchObject({
        id: sut.id,
        endpoint: 'credit',
        model: 'credit-risk',
        version: 1,
        liveVersion: null,
        requestedBy: 'dana',
        evaluation: { id: evaluations['v1'] },
        rollbackCriteria: INITIAL_CRITERIA,
      });
      const second = await request({ version: 3, evaluationId: evaluations['v3'] });
      refusedWith(
        second,
        'CONFLICT',
        new RegExp(`already has an open promotion request ${sut.id}`),
      );
      const events = await refusals(sut.id, 'promotion.requested');
      expect(events[0]?.payload).toMatchObject({ requestDigest: sut.requestDigest });
      expect(jcsDigest(events[0]?.payload['content'])).toBe(sut.requestDigest);
    });
  });

  describe('approvals and the INITIAL go-live of a HIGH-risk model', () => {
    let main: Request;

    beforeAll(async () => {
      const page = await ok<{ promotionRequests: { items: Request[] } }>(
        `{ promotionRequests(status: PENDING, endpoint: "credit") { items { ${REQUEST_FIELDS} } } }`,
        {},
        'dana',
      );
      main = page.promotionRequests.items[0]!;
    });

    it('lets the auditor change nothing', async () => {
      const attempts: [string, Variables][] = [
        [REQUEST, requestVars({ endpoint: 'credit-refusals' })],
        [APPROVE, { id: main.id, role: 'ml-engineer', digest: main.requestDigest }],
        [REJECT, { id: main.id, reason: 'The auditor does not like this model at all.' }],
        [WITHDRAW, { id: main.id }],
        [GATES, { id: main.id }],
        [START, { id: main.id }],
      ];
      for (const [query, variables] of attempts)
        refusedWith(await gql(query, variables, 'audrey'), 'FORBIDDEN');
    });

    it('never lets the requester approve their own request', async () => {
      const r = await approve(main, 'dana-as-engineer', 'ml-engineer');
      refusedWith(r, 'SEPARATION_OF_DUTIES', 'dana requested this promotion and cannot approve it');
      const events = await refusals(main.id, 'promotion.approval.refused');
      expect(events.at(-1)).toMatchObject({
        actor: { sub: 'dana', roles: ['data-scientist', 'ml-engineer'] },
        payload: { code: 'SEPARATION_OF_DUTIES', role: 'ml-engineer' },
      });
    });

    it('refuses a role the approver does not hold in the token', async () => {
      const r = await approve(main, 'erin', 'model-validator');
      refusedWith(r, 'FORBIDDEN', /you do not hold the role model-validator in your token/);
    });

    it('lets one person fill at most one required role', async () => {
      const first = await approve(main, 'mallory', 'ml-engineer');
      expect(first.errors).toBeUndefined();
      expect(first.data?.approvePromotion.missingRoles).toEqual([
        'model-validator',
        'compliance-officer',
      ]);
      const second = await approve(main, 'mallory', 'model-validator');
      refusedWith(
        second,
        'SEPARATION_OF_DUTIES',
        'mallory already approved this request as ml-engineer: one person fills at most one required role',
      );
      refusedWith(
        await approve(main, 'erin', 'ml-engineer'),
        'CONFLICT',
        /already given by mallory/,
      );
    });

    it('refuses to start a rollout before every approval', async () => {
      const r = await gql(START, { id: main.id }, 'erin');
      refusedWith(
        r,
        'CONFLICT',
        'the request is not approved yet: missing approval of model-validator, compliance-officer',
      );
      const events = await refusals(main.id, 'rollout.start.refused');
      expect(events.at(-1)).toMatchObject({
        actor: { sub: 'erin' },
        payload: { code: 'CONFLICT' },
      });
    });

    it('requires the compliance officer’s statement and approves on the last required role', async () => {
      expect((await approve(main, 'vera', 'model-validator')).errors).toBeUndefined();
      refusedWith(
        await approve(main, 'cora', 'compliance-officer'),
        'BAD_USER_INPUT',
        'statement: a sign-off needs a written statement',
      );
      refusedWith(
        await approve(main, 'cora', 'compliance-officer', 'fine by me'),
        'BAD_USER_INPUT',
      );
      const done = await approve(main, 'cora', 'compliance-officer', SIGN_OFF);
      expect(done.errors).toBeUndefined();
      expect(done.data?.approvePromotion).toMatchObject({ status: 'APPROVED', missingRoles: [] });
      expect(done.data?.approvePromotion.approvals).toEqual([
        {
          role: 'ml-engineer',
          approver: 'mallory',
          requestDigest: main.requestDigest,
          statement: null,
          signOff: false,
        },
        {
          role: 'model-validator',
          approver: 'vera',
          requestDigest: main.requestDigest,
          statement: null,
          signOff: false,
        },
        {
          role: 'compliance-officer',
          approver: 'cora',
          requestDigest: main.requestDigest,
          statement: SIGN_OFF,
          signOff: true,
        },
      ]);
    });

    it('evaluates every gate with its evidence, and ledgers the evidence digest', async () => {
      const { evaluateGates: sut } = await ok<{ evaluateGates: GateEvaluation }>(
        GATES,
        { id: main.id },
        'vera',
      );
      expect(sut.gates.map((g) => [g.gate, g.passed])).toEqual([
        ['APPROVALS', true],
        ['FAIRNESS', true],
        ['PERFORMANCE', true],
        ['ROLLBACK_CRITERIA', true],
        ['ROLLOUT_PLAN', true],
        ['MODEL_CARD', true],
        ['ARTIFACT_INTEGRITY', true],
        ['EVALUATION_FRESH', true],
      ]);
      expect(sut.passed).toBe(true);
      expect(sut.evidenceSha256).toBe(jcsDigest(sut.gates));
      const policies = await ok<{ policies: { name: string; sha256: string }[] }>(
        '{ policies { name sha256 } }',
        {},
        'audrey',
      );
      expect(sut.policySha256).toBe(
        policies.policies.find((p) => p.name === 'promotion.yaml')?.sha256,
      );
      const fairness = sut.gates.find((g) => g.gate === 'FAIRNESS')!;
      expect(fairness.evidence['attributes']).toEqual([
        expect.objectContaining({ attribute: 'sex', passed: true }),
        expect.objectContaining({ attribute: 'age_group', passed: true }),
      ]);
      const events = await ledgerWith(
        { subject: `promotion:${main.id}`, type: 'gate.evaluated' },
        (e) => e.some((x) => x.payload['gateEvaluationId'] === sut.id),
      );
      expect(events.find((e) => e.payload['gateEvaluationId'] === sut.id)).toMatchObject({
        actor: { sub: 'vera' },
        payload: {
          passed: true,
          evidenceSha256: sut.evidenceSha256,
          policySha256: sut.policySha256,
        },
      });
    });

    it('goes live on startRollout and then serves inference with that version', async () => {
      expect(await liveVersionOf('credit')).toBeNull();
      const { startRollout: sut } = await ok<{
        startRollout: {
          id: string;
          status: string;
          candidateVersion: number;
          stages: unknown[];
          history: LedgerEvent[];
        };
      }>(START, { id: main.id }, 'erin');
      expect(sut).toMatchObject({
        status: 'COMPLETED',
        candidateVersion: 1,
        strategy: 'INITIAL',
        previousVersion: null,
        stages: [{ name: 'live', kind: 'LIVE', status: 'PASSED', passedAt: expect.any(String) }],
        startedBy: 'erin',
      });
      expect(sut.history.map((e) => e.type)).toEqual(['rollout.started', 'rollout.completed']);
      expect(await liveVersionOf('credit')).toBe(1);

      const row = Array.from(models.data.X[0] ?? []);
      let answer: { status: number; body: Record<string, unknown> } = { status: 0, body: {} };
      for (let i = 0; i < 100; i++) {
        const response = await fetch(`${app.url}/v2/models/credit/infer`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${tokens['ivan']!}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            inputs: [{ name: 'features', datatype: 'FP32', shape: [1, row.length], data: row }],
          }),
        });
        answer = {
          status: response.status,
          body: (await response.json()) as Record<string, unknown>,
        };
        if (answer.status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ model_name: 'credit', model_version: '1' });
      const score = (answer.body['outputs'] as { data: number[] }[])[0]?.data[0] ?? Number.NaN;
      expect(
        Math.abs(score - (models.fair.predict([Float32Array.from(row)])[0] ?? 0)),
      ).toBeLessThan(1e-5);

      const request = await ok<{ promotionRequest: { status: string } }>(
        `query($id: ID!) { promotionRequest(id: $id) { status } }`,
        { id: main.id },
        'dana',
      );
      expect(request.promotionRequest.status).toBe('COMPLETED');
      refusedWith(
        await gql(START, { id: main.id }, 'erin'),
        'CONFLICT',
        'the request is COMPLETED: there is nothing to start',
      );
    });

    it('tells the whole story in the ledger, refusals included', async () => {
      const events = await ledgerWith({ subject: `promotion:${main.id}` }, (e) =>
        e.some(
          (x) =>
            x.type === 'rollout.start.refused' &&
            x.payload['reason'] === 'the request is COMPLETED: there is nothing to start',
        ),
      );
      const story = events.map((e) => [
        e.type,
        e.actor.sub,
        (e.payload['role'] as string | undefined) ?? e.payload['code'] ?? null,
      ]);
      expect(story).toEqual([
        ['promotion.requested', 'dana', null],
        ['promotion.approval.refused', 'dana', 'ml-engineer'],
        ['promotion.approval.refused', 'erin', 'model-validator'],
        ['promotion.approval.recorded', 'mallory', 'ml-engineer'],
        ['promotion.approval.refused', 'mallory', 'model-validator'],
        ['promotion.approval.refused', 'erin', 'ml-engineer'],
        ['rollout.start.refused', 'erin', 'CONFLICT'],
        ['promotion.approval.recorded', 'vera', 'model-validator'],
        ['promotion.approval.refused', 'cora', 'compliance-officer'],
        ['promotion.approval.refused', 'cora', 'compliance-officer'],
        ['promotion.approval.recorded', 'cora', 'compliance-officer'],
        ['promotion.approved', 'cora', null],
        ['gate.evaluated', 'vera', null],
        ['gate.evaluated', 'erin', null],
        ['rollout.start.refused', 'erin', 'CONFLICT'],
      ]);
      const codes = events
        .filter((e) => e.type === 'promotion.approval.refused')
        .map((e) => e.payload['code']);
      expect(codes).toEqual([
        'SEPARATION_OF_DUTIES',
        'FORBIDDEN',
        'SEPARATION_OF_DUTIES',
        'CONFLICT',
        'BAD_USER_INPUT',
        'BAD_USER_INPUT',
      ]);
      const approved = events.find((e) => e.type === 'promotion.approved');
      expect(approved?.payload).toMatchObject({
        requestDigest: main.requestDigest,
        approvals: [
          { role: 'ml-engineer', approver: 'mallory' },
          { role: 'model-validator', approver: 'vera' },
          { role: 'compliance-officer', approver: 'cora' },
        ],
      });
      const live = await ledgerWith(
        { subject: 'endpoint:credit', type: 'deployment.live.changed' },
        (e) => e.length > 0,
      );
      expect(live[0]?.payload).toMatchObject({
        from: { liveVersion: null },
        to: { liveVersion: 1 },
      });

      const read = await ok<{
        promotionRequest: {
          history: { type: string }[];
          gateEvaluations: { purpose: string; passed: boolean }[];
          rollout: { status: string };
        };
      }>(
        `query($id: ID!) { promotionRequest(id: $id) { history { type } gateEvaluations { purpose passed } rollout { status } } }`,
        { id: main.id },
        'dana',
      );
      expect(read.promotionRequest.history.map((e) => e.type)).toEqual(events.map((e) => e.type));
      expect(read.promotionRequest.gateEvaluations).toEqual([
        { purpose: 'REVIEW', passed: true },
        { purpose: 'ROLLOUT_START', passed: true },
      ]);
      expect(read.promotionRequest.rollout.status).toBe('COMPLETED');
    });
  });

  describe('digests, rejections and withdrawals', () => {
    it('refuses an approval of a stale digest, naming both digests', async () => {
      const first = await requested({ endpoint: 'credit-stale' });
      refusedWith(
        await gql(WITHDRAW, { id: first.id }, 'paul'),
        'FORBIDDEN',
        'only the requester (dana) may withdraw this request',
      );
      const withdrawn = await ok<{ withdrawPromotion: Request }>(
        WITHDRAW,
        { id: first.id },
        'dana',
      );
      expect(withdrawn.withdrawPromotion.status).toBe('WITHDRAWN');
      const second = await requested({
        endpoint: 'credit-stale',
        justification: `${JUSTIFICATION} Resubmitted with the same evaluation.`,
      });
      expect(second.requestDigest).not.toBe(first.requestDigest);
      const r = await approve(second, 'vera', 'model-validator', undefined, first.requestDigest);
      refusedWith(r, 'CONFLICT');
      expect(r.errors?.[0]?.message).toContain(first.requestDigest);
      expect(r.errors?.[0]?.message).toContain(second.requestDigest);
      refusedWith(
        await approve(first, 'vera', 'model-validator'),
        'CONFLICT',
        'the request is WITHDRAWN: it can no longer be approved',
      );

      const stale = await refusals(second.id, 'promotion.approval.refused');
      expect(stale[0]?.payload).toMatchObject({
        code: 'CONFLICT',
        role: 'model-validator',
        digestSeen: first.requestDigest,
      });
      expect(stale[0]?.actor.sub).toBe('vera');
      expect((await refusals(first.id, 'promotion.withdrawal.refused'))[0]?.actor.sub).toBe('paul');
      expect((await refusals(first.id, 'promotion.withdrawn'))[0]?.actor.sub).toBe('dana');
      await ok(WITHDRAW, { id: second.id }, 'dana');
    });

    it('ends a request on rejection: a later approval is refused and recorded', async () => {
      const req = await requested({ endpoint: 'credit-reject' });
      refusedWith(
        await gql(REJECT, { id: req.id, reason: 'no' }, 'cora'),
        'BAD_USER_INPUT',
        /^reason: /,
      );
      refusedWith(
        await gql(
          REJECT,
          { id: req.id, reason: 'Not before the Q3 fairness review is complete.' },
          'erin',
        ),
        'FORBIDDEN',
      );
      const rejected = await ok<{ rejectPromotion: Request }>(
        REJECT,
        { id: req.id, reason: 'Not before the Q3 fairness review is complete.' },
        'cora',
      );
      expect(rejected.rejectPromotion.status).toBe('REJECTED');
      refusedWith(
        await approve(req, 'erin', 'ml-engineer'),
        'CONFLICT',
        'the request is REJECTED: it can no longer be approved',
      );
      const events = await ledgerWith({ subject: `promotion:${req.id}` }, (e) =>
        e.some((x) => x.type === 'promotion.approval.refused'),
      );
      expect(events.map((e) => [e.type, e.actor.sub])).toEqual([
        ['promotion.requested', 'dana'],
        ['promotion.rejection.refused', 'cora'],
        ['promotion.rejected', 'cora'],
        ['promotion.approval.refused', 'erin'],
      ]);
      expect(events[2]?.payload).toMatchObject({
        reason: 'Not before the Q3 fairness review is complete.',
      });
    });
  });

  describe('gates', () => {
    it('blocks the unfair German credit version, naming the failing attribute and groups', async () => {
      const req = await approvedByAll(
        await requested({ endpoint: 'credit-unfair', version: 2, evaluationId: evaluations['v2'] }),
      );
      expect(req.status).toBe('APPROVED');
      const r = await gql<unknown>(START, { id: req.id }, 'erin');
      refusedWith(
        r,
        'GATE_FAILED',
        /^gates failed: FAIRNESS \(sex: disparate impact 0\.\d{3} below 0\.8/,
      );
      const details = r.errors?.[0]?.extensions?.['details'] as {
        gates: { gate: string; summary: string }[];
      };
      expect(details.gates.map((g) => g.gate)).toEqual(['FAIRNESS']);
      expect(details.gates[0]?.summary).toMatch(
        /lowest selection rate: female 0\.\d+, highest: male/,
      );
      expect(details.gates[0]?.summary).toMatch(/age_group: .*lowest selection rate: under_25/);
      expect(await liveVersionOf('credit-unfair')).toBeNull();

      const gate = await ledgerWith(
        { subject: `promotion:${req.id}`, type: 'gate.evaluated' },
        (e) => e.length > 0,
      );
      expect(gate[0]?.payload).toMatchObject({
        purpose: 'ROLLOUT_START',
        passed: false,
        failedGates: ['FAIRNESS'],
      });
      const refused = await refusals(req.id, 'rollout.start.refused');
      expect(refused[0]?.payload).toMatchObject({ code: 'GATE_FAILED' });
      await ok(WITHDRAW, { id: req.id }, 'dana');
    });

    it('holds a replacement of a live version to the policy’s strategy, steps and performance', async () => {
      const staged = {
        version: 3,
        evaluationId: evaluations['v3'],
        strategy: 'SHADOW_THEN_CANARY',
        plan: STAGED_PLAN,
        rollbackCriteria: { ...INITIAL_CRITERIA, minAgreementWithLive: { value: 0.9, window } },
        successCriteria: { minAgreementWithLive: { value: 0.95, window } },
      };
      refusedWith(
        await request({ ...staged, strategy: 'CANARY', plan: { canary: STAGED_PLAN.canary } }),
        'BAD_USER_INPUT',
        'strategy: HIGH-risk models must use SHADOW_THEN_CANARY once a live version exists',
      );
      refusedWith(
        await request({
          ...staged,
          strategy: 'INITIAL',
          plan: null,
          successCriteria: null,
          rollbackCriteria: INITIAL_CRITERIA,
        }),
        'BAD_USER_INPUT',
        /already serves version 1: INITIAL is only for an endpoint's first version/,
      );
      refusedWith(
        await request({
          ...staged,
          plan: { ...STAGED_PLAN, canary: { ...STAGED_PLAN.canary, steps: [10, 50] } },
        }),
        'BAD_USER_INPUT',
        /^plan\.canary\.steps\[1\]: adds 40 % of traffic at once/,
      );
      refusedWith(
        await request({
          ...staged,
          plan: { ...STAGED_PLAN, canary: { ...STAGED_PLAN.canary, bakeSeconds: 60 } },
        }),
        'BAD_USER_INPUT',
        /^plan\.canary\.bakeSeconds: .*minimum bake time is 3600 s/,
      );

      const better = await approvedByAll(await requested(staged));
      const { evaluateGates: gates } = await ok<{ evaluateGates: GateEvaluation }>(
        GATES,
        { id: better.id },
        'erin',
      );
      expect(gates.failedGates).toEqual([]);
      const performance = gates.gates.find((g) => g.gate === 'PERFORMANCE')!;
      expect(performance.evidence).toMatchObject({
        live: { version: 1, evaluationId: evaluations['v1'] },
        sameDataset: true,
      });
      // The staged rollout starts in its shadow stage (the engine itself: rollouts.e2e-spec.ts);
      // a manual rollback ends it and closes the request.
      const { startRollout: started } = await ok<{
        startRollout: { id: string; status: string; stages: { name: string; status: string }[] };
      }>(START, { id: better.id }, 'erin');
      expect(started.status).toBe('RUNNING');
      expect(started.stages.map((s) => `${s.name}:${s.status}`)).toEqual([
        'shadow:IN_PROGRESS',
        'canary-5:PENDING',
        'canary-25:PENDING',
        'canary-50:PENDING',
        'live:PENDING',
      ]);
      refusedWith(await gql(WITHDRAW, { id: better.id }, 'dana'), 'CONFLICT');
      const { rollbackRollout: back } = await ok<{ rollbackRollout: { status: string } }>(
        `mutation($id: ID!, $reason: String!) { rollbackRollout(id: $id, reason: $reason) { status } }`,
        {
          id: started.id,
          reason: 'Stopped by hand: this test only checks that the shadow stage starts.',
        },
        'cora',
      );
      expect(back.status).toBe('ROLLED_BACK');

      const worse = await requested({ ...staged, version: 2, evaluationId: evaluations['v2'] });
      const { evaluateGates: verdict } = await ok<{ evaluateGates: GateEvaluation }>(
        GATES,
        { id: worse.id },
        'vera',
      );
      expect(verdict.failedGates).toEqual(['APPROVALS', 'FAIRNESS', 'PERFORMANCE']);
      expect(verdict.gates.find((g) => g.gate === 'PERFORMANCE')?.summary).toMatch(
        /^accuracy 0\.\d{3} against live 0\.\d{3}: worse by 0\.\d{3}, more than the margin 0\.01$/,
      );
      await ok(WITHDRAW, { id: worse.id }, 'dana');
    });

    it('lists requests by status for every role that may read', async () => {
      for (const who of ['dana', 'erin', 'vera', 'cora', 'audrey']) {
        const r = await ok<{
          promotionRequests: { items: { status: string; endpoint: string }[] };
        }>(`{ promotionRequests(status: COMPLETED) { items { status endpoint } } }`, {}, who);
        expect(r.promotionRequests.items).toEqual([{ status: 'COMPLETED', endpoint: 'credit' }]);
      }
      refusedWith(await gql(`{ promotionRequests { items { id } } }`, {}, 'ivan'), 'FORBIDDEN');
    });
  });
});
