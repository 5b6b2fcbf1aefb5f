import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type RunningApp } from '../../src/app.js';
import { issueDevToken, loadOrCreateDevIssuerKey } from '../../src/auth/dev-issuer.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { buildGermanCreditModels, defaultGermanCreditPath } from '../../src/model-builder/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  evaluate,
  gql,
  gqlRaw,
  PEOPLE,
  RATIONALE,
  registerCreditModel,
  requestPromotion,
  SIGN_OFF,
  uploadDataset,
  type Client,
  type GqlError,
} from '../support/rollout-story.js';

interface Request {
  id: string;
  status: string;
  requestDigest: string;
  policySha256: string;
  judgedUnderPolicySha256: string;
  requiredRoles: string[];
  missingRoles: string[];
}
interface LedgerEvent {
  seq: number;
  type: string;
  actor: { sub: string };
  payload: Record<string, unknown>;
}
interface GateResult {
  gate: string;
  passed: boolean;
  summary: string;
  evidence: Record<string, unknown>;
}

const REQUEST_FIELDS = `id status requestDigest policySha256 judgedUnderPolicySha256 requiredRoles
  missingRoles`;
const APPROVE = `mutation($id: ID!, $role: String!, $statement: String, $digest: String!) {
  approvePromotion(id: $id, role: $role, statement: $statement, requestDigest: $digest) { ${REQUEST_FIELDS} } }`;
const START = `mutation($id: ID!) { startRollout(promotionId: $id) { id status candidateVersion } }`;
const GATES = `mutation($id: ID!) { evaluateGates(id: $id) {
  passed failedGates policySha256 gates { gate passed summary evidence } } }`;
const WITHDRAW = `mutation($id: ID!) { withdrawPromotion(id: $id) { ${REQUEST_FIELDS} } }`;

const THREE = ['ml-engineer', 'model-validator', 'compliance-officer'];
const TWO = ['ml-engineer', 'model-validator'];
const window = { minRequests: 500, seconds: 600 };
const CRITERIA = {
  maxErrorRate: { value: 0.01, window },
  minDisparateImpact: { value: 0.8, window },
  rationale: RATIONALE,
};

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * A promotion request outlives the promotion policy it was requested under: the service is
 * restarted (or a second replica starts) with a promotion.yaml whose HIGH tier needs other
 * roles. The request is then judged under the policy in force, the change is ledgered as
 * `promotion.repolicied`, and `missingRoles`, the APPROVALS gate and `startRollout` agree:
 * every open request can be completed or withdrawn.
 */
describe('a pending promotion when the promotion policy changes', () => {
  let database: TestDatabase;
  let dataDir: string;
  let base: Config;
  /** Policy folders: the shipped HIGH tier (three roles) and one that needs two. */
  let threeRoles: string;
  let twoRoles: string;
  let threeSha: string;
  let twoSha: string;
  let running: RunningApp;
  const tokens: Record<string, string> = {};
  const client: Client = { url: () => running.url, token: (who) => tokens[who] ?? '' };
  let evaluationId: string;

  const startWith = (policiesDir: string) => startApp({ ...base, policiesDir });

  async function restartWith(policiesDir: string): Promise<void> {
    await running.close();
    running = await startWith(policiesDir);
  }

  function writePolicies(dir: string, approvers: readonly string[]): string {
    mkdirSync(dir, { recursive: true });
    const shipped = new URL('../../policies/', import.meta.url).pathname;
    for (const file of ['roles.yaml', 'evaluation.yaml'])
      copyFileSync(join(shipped, file), join(dir, file));
    const text = readFileSync(join(shipped, 'promotion.yaml'), 'utf8');
    const changed = text.replace(
      `approvers: [${THREE.join(', ')}]`,
      `approvers: [${approvers.join(', ')}]`,
    );
    writeFileSync(join(dir, 'promotion.yaml'), changed);
    return dir;
  }

  async function request(endpoint: string): Promise<{ id: string; requestDigest: string }> {
    return requestPromotion(client, {
      endpoint,
      model: 'credit-risk',
      version: 1,
      evaluationId,
      strategy: 'INITIAL',
      plan: null,
      rollbackCriteria: CRITERIA,
    });
  }

  async function view(id: string, on: Client = client): Promise<Request> {
    const r = await gql<{ promotionRequest: Request }>(
      on,
      `query($id: ID!) { promotionRequest(id: $id) { ${REQUEST_FIELDS} } }`,
      { id },
      'audrey',
    );
    return r.promotionRequest;
  }

  async function history(id: string, on: Client = client): Promise<LedgerEvent[]> {
    const r = await gql<{ promotionRequest: { history: LedgerEvent[] } }>(
      on,
      `query($id: ID!) { promotionRequest(id: $id) { history { seq type actor { sub } payload } } }`,
      { id },
      'audrey',
    );
    return r.promotionRequest.history;
  }

  /** Refused attempts are ledgered just after the refusal: wait briefly for them. */
  async function historyWith(id: string, type: string, count: number): Promise<LedgerEvent[]> {
    for (let i = 0; i < 50; i++) {
      const events = await history(id);
      if (events.filter((e) => e.type === type).length >= count) return events;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return history(id);
  }

  const approve = (id: string, digest: string, who: string, role: string, statement?: string) =>
    gqlRaw<{ approvePromotion: Request }>(
      client,
      APPROVE,
      { id, role, digest, statement: statement ?? null },
      who,
    );

  async function approved(
    id: string,
    digest: string,
    who: string,
    role: string,
    statement?: string,
  ): Promise<Request> {
    const r = await approve(id, digest, who, role, statement);
    if (r.errors || !r.data) throw new Error(JSON.stringify(r.errors));
    return r.data.approvePromotion;
  }

  /**
   * What a person reading the request and the one starting the rollout are told agree: a
   * PENDING request names the roles still missing, an APPROVED one none, and a refusal for a
   * missing approval names exactly the roles the request shows as missing.
   */
  async function expectConsistent(on: Client = client): Promise<void> {
    const r = await gql<{ promotionRequests: { items: Request[] } }>(
      on,
      `query { promotionRequests(limit: 100) { items { ${REQUEST_FIELDS} } } }`,
      {},
      'audrey',
    );
    for (const p of r.promotionRequests.items) {
      if (p.status === 'PENDING') expect(p.missingRoles).not.toEqual([]);
      if (p.status === 'APPROVED') expect(p.missingRoles).toEqual([]);
      for (const role of p.missingRoles) expect(p.requiredRoles).toContain(role);
    }
  }

  /** Whether a replica's router serves the endpoint (it reloads after the go-live's commit). */
  async function servesOn(url: string, endpoint: string): Promise<boolean> {
    for (let i = 0; i < 100; i++) {
      const response = await fetch(`${url}/v2/models/${endpoint}/ready`, {
        headers: { authorization: `Bearer ${tokens['ivan'] ?? ''}` },
      });
      if (response.status === 200) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return false;
  }

  function missingApprovalRefusal(errors: GqlError[] | undefined, missing: readonly string[]) {
    expect(errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(errors?.[0]?.message).toBe(
      `the request is not approved yet: missing approval of ${missing.join(', ')}`,
    );
    expect(errors?.[0]?.extensions?.details?.['missingRoles']).toEqual(missing);
  }

  beforeAll(async () => {
    const models = buildGermanCreditModels();
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-repolicy-'));
    threeRoles = writePolicies(join(dataDir, 'policies-three'), THREE);
    twoRoles = writePolicies(join(dataDir, 'policies-two'), TWO);
    threeSha = sha256(readFileSync(join(threeRoles, 'promotion.yaml'), 'utf8'));
    twoSha = sha256(readFileSync(join(twoRoles, 'promotion.yaml'), 'utf8'));
    expect(twoSha).not.toBe(threeSha);
    base = loadConfig({
      NODE_ENV: 'test',
      GATEHOUSE_PORT: '0',
      GATEHOUSE_DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      GATEHOUSE_POLICIES_DIR: threeRoles,
      GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
    });
    running = await startWith(threeRoles);
    const key = await loadOrCreateDevIssuerKey(dataDir);
    for (const [who, roles] of Object.entries(PEOPLE))
      tokens[who] = await issueDevToken(key, {
        sub: who,
        roles,
        ttlSeconds: 1800,
        audience: base.auth.audience,
        rolesClaim: base.auth.rolesClaim,
      });
    await registerCreditModel(client, [models.fair]);
    const dataset = await uploadDataset(client, defaultGermanCreditPath());
    evaluationId = await evaluate(client, 'credit-risk', 1, dataset);
    for (const name of ['credit-a', 'credit-b', 'credit-c', 'credit-d', 'credit-e'])
      await gql(
        client,
        `mutation($name: String!) { createEndpoint(name: $name, model: "credit-risk") { id } }`,
        { name },
        'erin',
      );
  }, 180_000);

  afterAll(async () => {
    await running.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const pending: Record<string, { id: string; requestDigest: string }> = {};

  it('approves a request left waiting for a role the new policy no longer requires, and it goes live', async () => {
    const a = await request('credit-a');
    await approved(a.id, a.requestDigest, 'erin', 'ml-engineer');
    const before = await approved(a.id, a.requestDigest, 'vera', 'model-validator');
    expect(before).toMatchObject({
      status: 'PENDING',
      policySha256: threeSha,
      judgedUnderPolicySha256: threeSha,
      requiredRoles: THREE,
      missingRoles: ['compliance-officer'],
    });
    // Two more, for the withdrawals below: one with two approvals, one with one.
    const c = await request('credit-c');
    await approved(c.id, c.requestDigest, 'erin', 'ml-engineer');
    await approved(c.id, c.requestDigest, 'vera', 'model-validator');
    const d = await request('credit-d');
    await approved(d.id, d.requestDigest, 'erin', 'ml-engineer');
    pending['a'] = a;
    pending['c'] = c;
    pending['d'] = d;

    await restartWith(twoRoles);
    await expectConsistent();

    expect(await view(a.id)).toMatchObject({
      status: 'APPROVED',
      // What was requested, and under which policy, never changes.
      policySha256: threeSha,
      requestDigest: a.requestDigest,
      judgedUnderPolicySha256: twoSha,
      requiredRoles: TWO,
      missingRoles: [],
    });
    const events = await history(a.id);
    const repolicied = events.filter((e) => e.type === 'promotion.repolicied');
    expect(repolicied).toHaveLength(1);
    expect(repolicied[0]).toMatchObject({
      actor: { sub: 'system:policy' },
      payload: {
        promotionId: a.id,
        requestDigest: a.requestDigest,
        previousPolicySha256: threeSha,
        policySha256: twoSha,
        previousRequiredRoles: THREE,
        requiredRoles: TWO,
        addedRoles: [],
        removedRoles: ['compliance-officer'],
        previousStatus: 'PENDING',
        status: 'APPROVED',
        missingRoles: [],
      },
    });
    // The request is approved in the same unit of work, with the approvals that were given.
    const approvedEvent = events.find((e) => e.type === 'promotion.approved');
    expect(approvedEvent?.seq).toBe((repolicied[0]?.seq ?? 0) + 1);
    expect(approvedEvent?.payload).toMatchObject({
      requestDigest: a.requestDigest,
      policySha256: twoSha,
      approvals: [
        { role: 'ml-engineer', approver: 'erin' },
        { role: 'model-validator', approver: 'vera' },
      ],
    });

    // Nobody needs to (or can) add the sign-off the old policy asked for.
    const late = await approve(a.id, a.requestDigest, 'cora', 'compliance-officer', SIGN_OFF);
    expect(late.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(late.errors?.[0]?.message).toBe('the request already has every approval it needs');

    const { evaluateGates: gates } = await gql<{
      evaluateGates: { passed: boolean; policySha256: string; gates: GateResult[] };
    }>(client, GATES, { id: a.id }, 'erin');
    expect(gates.policySha256).toBe(twoSha);
    const approvals = gates.gates.find((g) => g.gate === 'APPROVALS');
    expect(approvals).toMatchObject({
      passed: true,
      evidence: { requiredRoles: TWO, missingRoles: [] },
    });
    expect(gates.passed).toBe(true);

    const { startRollout } = await gql<{ startRollout: { status: string } }>(
      client,
      START,
      { id: a.id },
      'erin',
    );
    expect(startRollout.status).toBe('COMPLETED');
    expect((await view(a.id)).status).toBe('COMPLETED');
    // A finished request is not re-judged: the next restart leaves it alone.
    await restartWith(threeRoles);
    expect(await view(a.id)).toMatchObject({
      status: 'COMPLETED',
      judgedUnderPolicySha256: twoSha,
    });
    expect((await history(a.id)).filter((e) => e.type === 'promotion.repolicied')).toHaveLength(1);
    await restartWith(twoRoles);
  }, 120_000);

  it('lets the requester withdraw a request re-judged under the new policy, ledgered', async () => {
    const c = pending['c'];
    const d = pending['d'];
    if (!c || !d) throw new Error('the first test made the requests');
    expect(await view(c.id)).toMatchObject({ status: 'APPROVED', missingRoles: [] });
    // Still missing a role under the new policy: starting is refused naming exactly it.
    expect(await view(d.id)).toMatchObject({
      status: 'PENDING',
      requiredRoles: TWO,
      missingRoles: ['model-validator'],
    });
    const refused = await gqlRaw(client, START, { id: d.id }, 'erin');
    missingApprovalRefusal(refused.errors, ['model-validator']);

    for (const { id, requestDigest } of [c, d]) {
      const previous = (await view(id)).status;
      const r = await gql<{ withdrawPromotion: Request }>(client, WITHDRAW, { id }, 'dana');
      expect(r.withdrawPromotion.status).toBe('WITHDRAWN');
      const withdrawn = (await history(id)).filter((e) => e.type === 'promotion.withdrawn');
      expect(withdrawn).toHaveLength(1);
      expect(withdrawn[0]).toMatchObject({
        actor: { sub: 'dana' },
        payload: { promotionId: id, requestDigest, previousStatus: previous, policySha256: twoSha },
      });
    }
    // Closed requests stay closed whatever the policy.
    await restartWith(threeRoles);
    expect((await view(c.id)).status).toBe('WITHDRAWN');
    expect((await view(d.id)).status).toBe('WITHDRAWN');
    await expectConsistent();
    await restartWith(twoRoles);
  }, 120_000);

  it('sends an approved request back to pending when the new policy needs one more role, naming exactly that role', async () => {
    const b = await request('credit-b');
    await approved(b.id, b.requestDigest, 'erin', 'ml-engineer');
    const before = await approved(b.id, b.requestDigest, 'vera', 'model-validator');
    expect(before).toMatchObject({ status: 'APPROVED', requiredRoles: TWO, missingRoles: [] });

    await restartWith(threeRoles);
    await expectConsistent();
    expect(await view(b.id)).toMatchObject({
      status: 'PENDING',
      policySha256: twoSha,
      judgedUnderPolicySha256: threeSha,
      requiredRoles: THREE,
      missingRoles: ['compliance-officer'],
    });
    const repolicied = (await history(b.id)).filter((e) => e.type === 'promotion.repolicied');
    expect(repolicied.map((e) => e.payload)).toEqual([
      expect.objectContaining({
        previousPolicySha256: twoSha,
        policySha256: threeSha,
        previousRequiredRoles: TWO,
        requiredRoles: THREE,
        addedRoles: ['compliance-officer'],
        removedRoles: [],
        previousStatus: 'APPROVED',
        status: 'PENDING',
        missingRoles: ['compliance-officer'],
      }),
    ]);

    // startRollout, the gate and the request name the same missing role.
    missingApprovalRefusal((await gqlRaw(client, START, { id: b.id }, 'erin')).errors, [
      'compliance-officer',
    ]);
    const refusal = (await historyWith(b.id, 'rollout.start.refused', 1)).find(
      (e) => e.type === 'rollout.start.refused',
    );
    expect(refusal?.payload).toMatchObject({ code: 'CONFLICT', policySha256: threeSha });
    const { evaluateGates: gates } = await gql<{
      evaluateGates: { passed: boolean; failedGates: string[]; gates: GateResult[] };
    }>(client, GATES, { id: b.id }, 'erin');
    expect(gates.failedGates).toEqual(['APPROVALS']);
    expect(gates.gates.find((g) => g.gate === 'APPROVALS')).toMatchObject({
      passed: false,
      summary: 'missing approval of compliance-officer',
      evidence: { requiredRoles: THREE, missingRoles: ['compliance-officer'] },
    });

    const signed = await approved(b.id, b.requestDigest, 'cora', 'compliance-officer', SIGN_OFF);
    expect(signed).toMatchObject({ status: 'APPROVED', missingRoles: [] });
    const { startRollout } = await gql<{ startRollout: { status: string } }>(
      client,
      START,
      { id: b.id },
      'erin',
    );
    expect(startRollout.status).toBe('COMPLETED');
  }, 120_000);

  it('judges a request under the policy of the replica that takes each decision, when two run side by side', async () => {
    // The running service has the three-role policy; a second one on the same database has
    // the two-role policy.
    const e = await request('credit-e');
    await approved(e.id, e.requestDigest, 'erin', 'ml-engineer');
    await approved(e.id, e.requestDigest, 'vera', 'model-validator');
    const other = await startWith(twoRoles);
    const second: Client = { url: () => other.url, token: (who) => client.token(who) };
    try {
      // The second replica re-judged the request as it started.
      const seen = await view(e.id, second);
      expect(seen).toMatchObject({ status: 'APPROVED', requiredRoles: TWO, missingRoles: [] });
      expect(await view(e.id)).toEqual(seen);
      await expectConsistent();

      // Starting on the three-role replica: judged under its policy, refused naming the role.
      missingApprovalRefusal((await gqlRaw(client, START, { id: e.id }, 'erin')).errors, [
        'compliance-officer',
      ]);
      for (const on of [client, second])
        expect(await view(e.id, on)).toMatchObject({
          status: 'PENDING',
          judgedUnderPolicySha256: threeSha,
          missingRoles: ['compliance-officer'],
        });
      await expectConsistent(second);

      // Starting on the two-role replica: approved under its policy, and live.
      const { startRollout } = await gql<{ startRollout: { status: string } }>(
        second,
        START,
        { id: e.id },
        'erin',
      );
      expect(startRollout.status).toBe('COMPLETED');
      for (const url of [running.url, other.url])
        expect(await servesOn(url, 'credit-e')).toBe(true);
      const changes = (await history(e.id)).filter((x) => x.type === 'promotion.repolicied');
      expect(changes.map((x) => [x.payload['policySha256'], x.payload['status']])).toEqual([
        [twoSha, 'APPROVED'],
        [threeSha, 'PENDING'],
        [twoSha, 'APPROVED'],
      ]);
    } finally {
      await other.close();
    }
  }, 120_000);
});
