/**
 * A signed audit report over a ledger built in memory, for the unit specs of the verifier,
 * the sections, the chart and the renderers: a staged rollout (shadow, canary steps, an
 * automatic rollback) with a key rotation half-way, none of which the service can produce yet.
 * Built with the ledger's own primitives, exactly as the sequencer and the report service do.
 */
import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { canonicalBytes, canonicalize } from '../../src/ledger/canonical-json.js';
import { canonicalEvent, GENESIS_PREV, type LedgerEvent } from '../../src/ledger/ledger-event.js';
import { eventHash } from '../../src/ledger/event-hash.js';
import { signAttached, signDetached } from '../../src/ledger/jws.js';
import { thumbprintKid } from '../../src/ledger/jws-verify.js';
import { inclusionProof, rootOf } from '../../src/ledger/merkle.js';
import {
  REPORT_TYPE,
  type Json,
  type JsonObject,
  type PublicKey,
  type ReportBody,
  type ReportFile,
} from '../../src/reports/report-document.js';
import { assembleSections } from '../../src/reports/report-sections.js';
import {
  cosignNoteText,
  ed25519VerifierKey,
  formatNote,
  NOTE_COSIGNATURE_V1,
  rawEd25519PublicKey,
  signNoteText,
  type NoteVerifierKey,
} from '../../src/ledger/signed-note.js';
import { checkpointText } from '../../src/ledger/tlog-checkpoint.js';

interface Key {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: PublicKey;
}

async function newKey(): Promise<Key> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = (publicKey.export({ format: 'jwk' }) as { x: string }).x;
  const kid = await thumbprintKid({ kty: 'OKP', crv: 'Ed25519', x });
  return { kid, privateKey, jwk: { kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' } };
}

const sha256 = (value: unknown) =>
  createHash('sha256').update(canonicalize(value), 'utf8').digest('hex');

export interface SyntheticReport {
  readonly text: string;
  readonly file: ReportFile;
  readonly jwks: { keys: PublicKey[] };
  /** The origin the checkpoint note names, and the two witnesses that cosigned it. */
  readonly origin: string;
  readonly witnesses: readonly SyntheticWitness[];
  /** The ledger's current private key, which signed the report, its checkpoint and note. */
  readonly ledgerKey: KeyObject;
  /** The file of `report` signed again by the ledger: what an operator holding its key can do. */
  readonly resign: (report: ReportBody) => Promise<string>;
}

export interface SyntheticWitness {
  readonly key: NoteVerifierKey;
  readonly privateKey: KeyObject;
  /** The POSIX time its cosignature states. */
  readonly timestamp: number;
}

export const SYNTHETIC_ORIGIN = 'gatehouse.example/v1/ledger/tlog';

/** A witness's key pair, as `gatehouse witness key` would make one. */
export function syntheticWitness(name: string, timestamp: number): SyntheticWitness {
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    key: ed25519VerifierKey(name, rawEd25519PublicKey(privateKey), NOTE_COSIGNATURE_V1),
    privateKey,
    timestamp,
  };
}

/** The checkpoint note signed by `ledgerKey` under `origin`, with each witness's cosignature. */
export function syntheticNote(
  checkpoint: { treeSize: number; rootHash: string },
  ledgerKey: KeyObject,
  witnesses: readonly SyntheticWitness[],
  origin = SYNTHETIC_ORIGIN,
): string {
  const text = checkpointText({ origin, ...checkpoint });
  return formatNote({
    text,
    signatures: [
      signNoteText(text, origin, ledgerKey),
      ...witnesses.map((w) => cosignNoteText(text, w.key.name, w.privateKey, w.timestamp)),
    ],
  });
}

const PROMOTION = '6f1c2a52-0b0e-4b8e-9a53-3d1f0c2b7a10';
const ROLLOUT = '9b3e6f0d-2c1a-4f4e-8d7b-5a6c1e2f3d40';
const EVALUATION = '1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const GATES = '2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b';

export const SYNTHETIC_IDS = { PROMOTION, ROLLOUT, EVALUATION, GATES };

export async function syntheticReport(): Promise<SyntheticReport> {
  const first = await newKey();
  const second = await newKey();
  const result: JsonObject = {
    evaluationId: EVALUATION,
    model: 'credit-risk',
    version: 2,
    artifactSha256: 'a'.repeat(64),
    dataset: { id: 'd', name: 'german-credit', sha256: 'd'.repeat(64), rows: 1000 },
    classification: {
      performance: {
        accuracy: 0.78,
        precision: 0.81,
        recall: 0.9,
        f1: 0.85,
        rocAuc: 0.83,
        logLoss: 0.45,
        brierScore: 0.15,
        threshold: 0.5,
      },
      fairness: [
        {
          attribute: 'sex',
          disparateImpact: 0.72,
          demographicParityDifference: 0.2,
          equalizedOddsDifference: 0.1,
          equalOpportunityDifference: 0.05,
          passesFourFifths: false,
          disparateImpactThreshold: 0.8,
          minGroupSize: 30,
          groups: [
            {
              group: 'female',
              count: 310,
              belowMinimumSize: false,
              baseRate: 0.65,
              selectionRate: 0.55,
              truePositiveRate: 0.8,
              falsePositiveRate: 0.4,
            },
            {
              group: 'male',
              count: 690,
              belowMinimumSize: false,
              baseRate: 0.72,
              selectionRate: 0.76,
              truePositiveRate: 0.9,
              falsePositiveRate: 0.5,
            },
            {
              group: 'other',
              count: 4,
              belowMinimumSize: true,
              baseRate: 0.5,
              selectionRate: 0.25,
              truePositiveRate: null,
              falsePositiveRate: null,
            },
          ],
        },
      ],
      bootstrap: null,
    },
  };
  const headline = {
    accuracy: 0.78,
    precision: 0.81,
    recall: 0.9,
    f1: 0.85,
    rocAuc: 0.83,
    logLoss: 0.45,
    brierScore: 0.15,
    fairness: [
      {
        attribute: 'sex',
        disparateImpact: 0.72,
        demographicParityDifference: 0.2,
        equalizedOddsDifference: 0.1,
        equalOpportunityDifference: 0.05,
        passesFourFifths: false,
      },
    ],
  };
  const content: JsonObject = {
    id: PROMOTION,
    endpoint: 'credit',
    model: 'credit-risk',
    version: 2,
    riskTier: 'HIGH',
    strategy: 'SHADOW_THEN_CANARY',
    liveVersion: 1,
    plan: {
      shadow: { sampleRate: 1, minRequests: 1000, minDurationSeconds: 3600 },
      canary: { steps: [5, 25], minRequestsPerStep: 500, bakeSeconds: 600 },
    },
    rollbackCriteria: {
      maxErrorRate: { value: 0.01, window: { minRequests: 500, seconds: 600 } },
      maxP99LatencyMs: { value: 200, window: { minRequests: 500, seconds: 600 } },
      rationale: 'Errors and latency beyond these hurt underwriters.',
    },
    justification: 'A fairer model.',
  };
  const gates: Json[] = [
    {
      gate: 'APPROVALS',
      passed: true,
      summary: 'approved by erin, vera, cora',
      evidence: { roles: ['ml-engineer'] },
    },
    { gate: 'FAIRNESS', passed: true, summary: 'sex within the thresholds', evidence: {} },
  ];
  const traffic = (from: JsonObject, to: JsonObject, revision: number): JsonObject => ({
    endpoint: 'credit',
    revision,
    from,
    to,
    reason: `rollout ${ROLLOUT}`,
  });
  const none = {
    liveVersion: 1,
    candidateVersion: null,
    mode: 'NONE',
    candidateWeight: 0,
    shadowSample: 0,
  };
  const shadow = {
    liveVersion: 1,
    candidateVersion: 2,
    mode: 'SHADOW',
    candidateWeight: 0,
    shadowSample: 10000,
  };
  const canary5 = { ...shadow, mode: 'CANARY', candidateWeight: 500, shadowSample: 0 };
  const canary25 = { ...canary5, candidateWeight: 2500 };
  // Verdicts as the rollout engine records them (src/rollouts/criteria-judge.ts): a test only
  // for a figure past its threshold.
  const window = { minRequests: 500, seconds: 600 };
  const verdict = (
    criterion: string,
    threshold: number,
    measured: number,
    live: number,
    n: number,
    status: string,
    test: Json = null,
  ): Json => ({
    criterion,
    kind: 'rollback',
    threshold,
    window,
    status,
    measured,
    live,
    n,
    test,
    note: `${criterion}: ${measured} over ${n} (threshold ${threshold})`,
  });
  const criteria = (errorRate: number, p99: number, n: number): Json[] => [
    verdict('maxErrorRate', 0.01, errorRate, 0.0025, n, 'PASS'),
    verdict('maxP99LatencyMs', 200, p99, 95, n, 'PASS'),
  ];
  const arm = (name: string, version: number, requests: number, errors: number, p99: number) => ({
    arm: name,
    version,
    requests,
    errors,
    errorRate: errors / requests,
    p50Ms: 12,
    p99Ms: p99,
    rows: requests,
    selectionRate: 0.7,
    agreement: name === 'shadow' ? 0.97 : null,
    compared: name === 'shadow' ? requests : 0,
    shadowDropped: 0,
    groups: {},
  });
  const evidence = (
    stage: string,
    kind: string,
    verdicts: Json[],
    arms: JsonObject,
  ): JsonObject => ({
    decidedAt: '2026-11-20T12:00:00.000Z',
    replica: 'vm:1:synthetic',
    stage,
    kind,
    enteredAt: '2026-11-20T11:00:00.000Z',
    minimums: { requests: 500, seconds: 3600 },
    candidateRequests: 1200,
    significanceLevel: 0.01,
    arms,
    rollbackCriteria: verdicts,
    successCriteria: [],
  });
  const ds = { sub: 'dana', roles: ['data-scientist'] };
  const erin = { sub: 'erin', roles: ['ml-engineer'] };
  const system = { sub: 'system:rollout' };
  const inputs: {
    type: string;
    subject: string;
    actor: LedgerEvent['actor'];
    payload: JsonObject;
  }[] = [
    {
      type: 'policy.loaded',
      subject: 'policy:roles.yaml',
      actor: { sub: 'system:policy' },
      payload: { name: 'roles.yaml', sha256: 'b'.repeat(64) },
    },
    {
      type: 'model.registered',
      subject: 'model:credit-risk',
      actor: ds,
      payload: {
        id: 'm',
        name: 'credit-risk',
        riskTier: 'HIGH',
        owner: 'credit-risk-team',
        protectedAttributes: ['sex'],
        modelCard: {
          intendedUse: 'Scores credit applications.',
          outOfScopeUses: ['Employment screening'],
          limitations: 'Old data.',
          trainingData: 'Statlog German Credit.',
          ethicalConsiderations: 'Sex is protected.',
        },
      },
    },
    {
      type: 'model.version.registered',
      subject: 'model:credit-risk@2',
      actor: ds,
      payload: {
        id: 'v',
        model: 'credit-risk',
        version: 2,
        artifactSha256: 'a'.repeat(64),
        task: 'BINARY_CLASSIFICATION',
        threshold: 0.5,
        futureMember: { kept: true },
      },
    },
    {
      type: 'evaluation.completed',
      subject: 'model:credit-risk@2',
      actor: { sub: 'system:evaluation' },
      payload: {
        evaluationId: EVALUATION,
        resultSha256: sha256(result),
        artifactSha256: 'a'.repeat(64),
        datasetSha256: 'd'.repeat(64),
        policySha256: 'c'.repeat(64),
        rows: 1000,
        headline,
      },
    },
    {
      type: 'promotion.requested',
      subject: `promotion:${PROMOTION}`,
      actor: ds,
      payload: {
        promotionId: PROMOTION,
        requestDigest: sha256(content),
        content,
        requiredRoles: ['ml-engineer', 'model-validator', 'compliance-officer'],
        policySha256: 'e'.repeat(64),
      },
    },
    {
      type: 'promotion.approval.recorded',
      subject: `promotion:${PROMOTION}`,
      actor: erin,
      payload: {
        promotionId: PROMOTION,
        role: 'ml-engineer',
        signOff: false,
        statement: null,
        requestDigest: sha256(content),
        remainingRoles: ['model-validator', 'compliance-officer'],
        policySha256: 'e'.repeat(64),
      },
    },
    {
      type: 'ledger.key.rotated',
      subject: 'ledger:keys',
      actor: { sub: 'system:cli' },
      payload: { previousKid: first.kid, kid: second.kid, publicJwk: { ...second.jwk } },
    },
    {
      type: 'promotion.approval.recorded',
      subject: `promotion:${PROMOTION}`,
      actor: { sub: 'vera', roles: ['model-validator'] },
      payload: {
        promotionId: PROMOTION,
        role: 'model-validator',
        signOff: false,
        statement: null,
        requestDigest: sha256(content),
        remainingRoles: ['compliance-officer'],
        policySha256: 'e'.repeat(64),
      },
    },
    {
      type: 'promotion.approval.recorded',
      subject: `promotion:${PROMOTION}`,
      actor: { sub: 'cora', roles: ['compliance-officer'] },
      payload: {
        promotionId: PROMOTION,
        role: 'compliance-officer',
        signOff: true,
        statement: 'Reviewed ≥ all evidence; I sign off.',
        requestDigest: sha256(content),
        remainingRoles: [],
        policySha256: 'e'.repeat(64),
      },
    },
    {
      type: 'promotion.approved',
      subject: `promotion:${PROMOTION}`,
      actor: { sub: 'cora', roles: ['compliance-officer'] },
      payload: {
        promotionId: PROMOTION,
        requestDigest: sha256(content),
        approvals: [
          { role: 'ml-engineer', approver: 'erin' },
          { role: 'model-validator', approver: 'vera' },
          { role: 'compliance-officer', approver: 'cora' },
        ],
        policySha256: 'e'.repeat(64),
      },
    },
    {
      type: 'gate.evaluated',
      subject: `promotion:${PROMOTION}`,
      actor: erin,
      payload: {
        promotionId: PROMOTION,
        gateEvaluationId: GATES,
        purpose: 'ROLLOUT_START',
        passed: true,
        failedGates: [],
        gates: gates.map((g) => {
          const o = g as JsonObject;
          return {
            gate: o['gate'] ?? null,
            passed: o['passed'] ?? null,
            summary: o['summary'] ?? null,
          };
        }),
        evidenceSha256: sha256(gates),
        requestDigest: sha256(content),
        policySha256: 'e'.repeat(64),
      },
    },
    {
      type: 'deployment.traffic.changed',
      subject: 'endpoint:credit',
      actor: erin,
      payload: traffic(none, shadow, 2),
    },
    {
      type: 'rollout.started',
      subject: `rollout:${ROLLOUT}`,
      actor: erin,
      payload: {
        rolloutId: ROLLOUT,
        promotionId: PROMOTION,
        endpoint: 'credit',
        model: 'credit-risk',
        version: 2,
        strategy: 'SHADOW_THEN_CANARY',
        previousVersion: 1,
        stages: [
          { name: 'shadow', kind: 'SHADOW' },
          { name: 'canary-5', kind: 'CANARY' },
          { name: 'canary-25', kind: 'CANARY' },
          { name: 'live', kind: 'LIVE' },
        ],
        gateEvaluationId: GATES,
      },
    },
    {
      type: 'rollout.stage.entered',
      subject: `rollout:${ROLLOUT}`,
      actor: system,
      payload: {
        rolloutId: ROLLOUT,
        stage: 'shadow',
        index: 0,
        kind: 'SHADOW',
        sampleBasisPoints: 10000,
      },
    },
    {
      type: 'predictions.logged',
      subject: 'endpoint:credit',
      actor: { sub: 'system:prediction-log' },
      payload: { count: 1200 },
    },
    {
      type: 'rollout.stage.passed',
      subject: `rollout:${ROLLOUT}`,
      actor: system,
      payload: {
        rolloutId: ROLLOUT,
        stage: 'shadow',
        index: 0,
        evidence: evidence('shadow', 'SHADOW', criteria(0.004, 120, 1200), {
          candidate: arm('shadow', 2, 1200, 5, 120),
          live: arm('live', 1, 1200, 3, 95),
        }),
      },
    },
    {
      type: 'deployment.traffic.changed',
      subject: 'endpoint:credit',
      actor: system,
      payload: traffic(shadow, canary5, 3),
    },
    {
      type: 'rollout.stage.entered',
      subject: `rollout:${ROLLOUT}`,
      actor: system,
      payload: {
        rolloutId: ROLLOUT,
        stage: 'canary-5',
        index: 1,
        kind: 'CANARY',
        weightBasisPoints: 500,
      },
    },
    {
      type: 'rollout.stage.passed',
      subject: `rollout:${ROLLOUT}`,
      actor: system,
      payload: {
        rolloutId: ROLLOUT,
        stage: 'canary-5',
        index: 1,
        evidence: evidence('canary-5', 'CANARY', criteria(0.006, 140, 500), {
          candidate: arm('candidate', 2, 500, 3, 140),
          live: arm('live', 1, 9500, 20, 96),
        }),
      },
    },
    {
      type: 'deployment.traffic.changed',
      subject: 'endpoint:credit',
      actor: system,
      payload: traffic(canary5, canary25, 4),
    },
    {
      type: 'rollout.stage.entered',
      subject: `rollout:${ROLLOUT}`,
      actor: system,
      payload: {
        rolloutId: ROLLOUT,
        stage: 'canary-25',
        index: 2,
        kind: 'CANARY',
        weightBasisPoints: 2500,
        unknownExtra: 'tolerated',
      },
    },
    {
      type: 'rollout.rolled_back',
      subject: `rollout:${ROLLOUT}`,
      actor: system,
      payload: {
        rolloutId: ROLLOUT,
        stage: 'canary-25',
        reason: 'maxErrorRate breached in stage canary-25: 0.021 over 2400',
        criterion: 'maxErrorRate',
        manual: false,
        by: 'system:rollout',
        breached: [
          verdict('maxErrorRate', 0.01, 0.021, 0.0025, 2400, 'BREACH', {
            test: 'two-proportion z',
            alternative: 'greater',
            n1: 2400,
            n2: 7200,
            statistic: 6.1,
            pValue: 4.2e-10,
          }),
        ],
      },
    },
    {
      type: 'deployment.traffic.changed',
      subject: 'endpoint:credit',
      actor: system,
      payload: traffic(canary25, none, 5),
    },
    {
      type: 'endpoint.created',
      subject: 'endpoint:other',
      actor: erin,
      payload: { name: 'other' },
    },
  ];

  const events: LedgerEvent[] = [];
  const stored: { canonical: string; hash: string; jws: string }[] = [];
  let key = first;
  let prev = GENESIS_PREV;
  const t0 = Date.parse('2026-11-20T09:00:00.000Z');
  for (const [i, input] of inputs.entries()) {
    const seq = i + 1;
    // Stages take hours; everything else minutes apart.
    const ts = new Date(t0 + i * 40 * 60_000).toISOString();
    const event: LedgerEvent = {
      v: 1,
      seq,
      id: randomUUID(),
      ts,
      type: input.type,
      actor: input.actor,
      subject: input.subject,
      payload: input.payload,
      traceId: null,
      prev,
    };
    const canonical = canonicalEvent(event);
    const hash = eventHash(canonical);
    const jws = await signDetached(Buffer.from(canonical, 'utf8'), key.privateKey, key.kid);
    // A rotation is signed by the old key; the new key signs what follows.
    if (input.type === 'ledger.key.rotated') key = second;
    events.push(JSON.parse(canonical) as LedgerEvent);
    stored.push({ canonical, hash, jws });
    prev = hash;
  }
  const leaves = stored.map((s) => Buffer.from(s.hash, 'hex'));
  const treeSize = leaves.length;
  const checkpoint = {
    v: 1 as const,
    treeSize,
    rootHash: rootOf(leaves).toString('hex'),
    ts: new Date(t0 + treeSize * 40 * 60_000).toISOString(),
  };
  const checkpointJws = await signAttached(checkpoint, key.privateKey, key.kid);
  const t = Math.floor(Date.parse(checkpoint.ts) / 1000);
  const witnesses = [
    syntheticWitness('witness.example/w1', t + 2),
    syntheticWitness('witness.example/w2', t + 5),
  ];
  // The report leaves out the unrelated events (the policy and the other endpoint).
  const chosen = events.filter((e) => e.type !== 'policy.loaded' && e.type !== 'endpoint.created');
  const facts = {
    evaluationResults: new Map([[EVALUATION, result]]),
    gateEvidence: new Map([[GATES, gates]]),
  };
  const body: ReportBody = {
    v: 1,
    type: REPORT_TYPE,
    id: randomUUID(),
    subject: { kind: 'rollout', text: `rollout:${ROLLOUT}`, id: ROLLOUT },
    period: { from: chosen[0]?.ts ?? null, to: chosen.at(-1)?.ts ?? null },
    generatedAt: checkpoint.ts,
    generatedBy: { sub: 'audrey', roles: ['auditor'] },
    checkpoint: { checkpoint, jws: checkpointJws },
    checkpointNote: syntheticNote(checkpoint, key.privateKey, witnesses),
    keys: {
      jwks: { keys: [first.jwk, second.jwk] },
      rotations: chosen.filter((e) => e.type === 'ledger.key.rotated').map((e) => e.seq),
    },
    ...assembleSections(chosen, facts),
    events: chosen.map((e) => {
      const s = stored[e.seq - 1] as { canonical: string; hash: string; jws: string };
      return {
        seq: e.seq,
        event: e,
        ...s,
        proof: inclusionProof(e.seq - 1, treeSize, leaves).map((h) => h.toString('hex')),
      };
    }),
  };
  const signature = await signDetached(canonicalBytes(body), key.privateKey, key.kid);
  const file: ReportFile = { report: body, signature };
  return {
    text: canonicalize(file),
    file,
    jwks: { keys: [first.jwk, second.jwk] },
    origin: SYNTHETIC_ORIGIN,
    witnesses,
    ledgerKey: key.privateKey,
    resign: async (report) =>
      canonicalize({
        report,
        signature: await signDetached(canonicalBytes(report), key.privateKey, key.kid),
      }),
  };
}
