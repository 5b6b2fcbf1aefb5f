/**
 * An edge bundle over a ledger built in memory, for the verifier's unit specs: a few events,
 * the go-live among them, a checkpoint and the go-live's inclusion proof, made with the
 * ledger's own primitives as the sequencer and the checkpoint service make them. `tamper`
 * changes the input before it is signed, so that a spec can reach the checks behind the
 * signature and the digests with a bundle whose manifest is genuine.
 */
import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import {
  buildEdgeBundle,
  bundleBytes,
  type EdgeBundleInput,
  type EdgeModelSource,
} from '../../src/edge/edge-bundle-build.js';
import type { EdgePromotion, EdgeSpec } from '../../src/edge/edge-bundle-format.js';
import { canonicalEvent, GENESIS_PREV, type LedgerEvent } from '../../src/ledger/ledger-event.js';
import { eventHash } from '../../src/ledger/event-hash.js';
import { signAttached, signDetached } from '../../src/ledger/jws.js';
import { thumbprintKid, type PublicJwk } from '../../src/ledger/jws-verify.js';
import { inclusionProof, rootOf } from '../../src/ledger/merkle.js';

export interface TestKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: PublicJwk;
}

export async function newTestKey(): Promise<TestKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = (publicKey.export({ format: 'jwk' }) as { x: string }).x;
  const kid = await thumbprintKid({ kty: 'OKP', crv: 'Ed25519', x });
  return { kid, privateKey, jwk: { kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' } };
}

export interface SyntheticEdgeBundle {
  readonly bytes: Uint8Array;
  /** The model's bytes as the bundle holds them. */
  readonly model: Uint8Array;
  readonly jwks: { keys: PublicJwk[] };
  readonly key: TestKey;
  readonly input: EdgeBundleInput;
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** A model in memory as the bundle's writer reads one. */
export function modelSource(bytes: Uint8Array): EdgeModelSource {
  return {
    sha256: sha256(bytes),
    size: bytes.length,
    chunks: () => [bytes],
  };
}
const STATEMENT = 'I reviewed the fairness audit and the rollback criteria, and sign off.';

export async function syntheticEdgeBundle(
  options: {
    key?: TestKey;
    /** Signs the ledger's events and checkpoint; the manifest key when not given. */
    ledgerKey?: TestKey;
    tamper?: (input: EdgeBundleInput) => EdgeBundleInput;
    /** A rollout's candidate (version 4) at this stage of the bundle's devices. */
    candidate?: 'shadow' | 'canary';
  } = {},
): Promise<SyntheticEdgeBundle> {
  const key = options.key ?? (await newTestKey());
  const ledgerKey = options.ledgerKey ?? key;
  const model = new Uint8Array(3000).map((_, i) => (i * 7) % 251);
  const artifactSha256 = sha256(model);
  const requestDigest = 'd'.repeat(64);
  const policySha256 = 'e'.repeat(64);
  const promotionId = randomUUID();

  const types: [string, string, Record<string, unknown>][] = [
    ['model.registered', 'model:credit-risk', { name: 'credit-risk' }],
    ['endpoint.created', 'endpoint:credit', { endpoint: 'credit' }],
    ['promotion.approved', `promotion:${promotionId}`, { promotionId, requestDigest }],
    [
      'deployment.live.changed',
      'endpoint:credit',
      {
        endpoint: 'credit',
        revision: 2,
        from: { liveVersion: null, candidateVersion: null, mode: 'NONE' },
        to: { liveVersion: 3, candidateVersion: null, mode: 'NONE' },
        reason: `promotion ${promotionId} (INITIAL)`,
      },
    ],
    ['rollout.completed', 'rollout:r', { version: 3 }],
  ];
  const rolloutId = randomUUID();
  const stagePayload =
    options.candidate === 'canary'
      ? {
          stage: 'canary-25',
          index: 1,
          kind: 'CANARY',
          weightBasisPoints: 2500,
          sampleBasisPoints: 0,
        }
      : {
          stage: 'shadow',
          index: 0,
          kind: 'SHADOW',
          weightBasisPoints: 0,
          sampleBasisPoints: 5000,
        };
  if (options.candidate)
    types.push(
      ['deployment.traffic.changed', 'endpoint:credit', { endpoint: 'credit', revision: 3 }],
      [
        'rollout.stage.entered',
        `rollout:${rolloutId}`,
        {
          rolloutId,
          endpoint: 'credit',
          version: 4,
          ...stagePayload,
          settings: {},
          manual: false,
        },
      ],
      ['ledger.checkpoint', 'ledger', {}],
    );
  const rows: { event: LedgerEvent; canonical: string; hash: string; jws: string }[] = [];
  let prev = GENESIS_PREV;
  for (const [i, [type, subject, payload]] of types.entries()) {
    const event: LedgerEvent = {
      v: 1,
      seq: i + 1,
      id: randomUUID(),
      ts: new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(),
      type,
      actor: { sub: 'system:test' },
      subject,
      payload,
      traceId: null,
      prev,
    };
    const canonical = canonicalEvent(event);
    const hash = eventHash(canonical);
    const jws = await signDetached(
      Buffer.from(canonical, 'utf8'),
      ledgerKey.privateKey,
      ledgerKey.kid,
    );
    rows.push({ event, canonical, hash, jws });
    prev = hash;
  }
  const leaves = rows.map((r) => Buffer.from(r.hash, 'hex'));
  const treeSize = leaves.length;
  const checkpoint = {
    v: 1 as const,
    treeSize,
    rootHash: rootOf(leaves).toString('hex'),
    ts: '2026-12-01T00:01:00.000Z',
  };
  const golive = rows[3]!;
  const spec: EdgeSpec = {
    v: 1,
    endpoint: 'credit',
    model: 'credit-risk',
    version: 3,
    task: 'BINARY_CLASSIFICATION',
    artifactSha256,
    inputName: 'features',
    featureColumns: ['duration_months', 'credit_amount'],
    scoreOutput: 'probabilities',
    scoreIndex: 1,
    threshold: 0.5,
    signature: {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 2] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }],
    },
  };
  const promotion: EdgePromotion = {
    v: 1,
    promotionId,
    rolloutId: randomUUID(),
    endpoint: 'credit',
    model: 'credit-risk',
    version: 3,
    strategy: 'INITIAL',
    riskTier: 'HIGH',
    requestedBy: 'dana',
    requestDigest,
    policySha256,
    judgedUnderPolicySha256: policySha256,
    requiredRoles: ['ml-engineer', 'compliance-officer'],
    approvals: [
      {
        role: 'ml-engineer',
        approver: 'erin',
        approverRoles: ['ml-engineer'],
        approvedAt: '2026-12-01T00:00:01.000Z',
        requestDigest,
        signOff: false,
        statement: null,
        statementSha256: null,
        policySha256,
      },
      {
        role: 'compliance-officer',
        approver: 'cora',
        approverRoles: ['compliance-officer'],
        approvedAt: '2026-12-01T00:00:02.000Z',
        requestDigest,
        signOff: true,
        statement: STATEMENT,
        statementSha256: sha256(STATEMENT),
        policySha256,
      },
    ],
  };
  let genuine: EdgeBundleInput = {
    model: modelSource(model),
    spec,
    modelCard: { intendedUse: 'Scores credit applications for a human underwriter.' },
    promotion,
    evidence: {
      canonical: golive.canonical,
      hash: golive.hash,
      jws: golive.jws,
      checkpoint: {
        checkpoint,
        jws: await signAttached(checkpoint, ledgerKey.privateKey, ledgerKey.kid),
      },
      proof: {
        seq: golive.event.seq,
        treeSize,
        leafHash: golive.hash,
        rootHash: checkpoint.rootHash,
        proof: inclusionProof(golive.event.seq - 1, treeSize, leaves).map((h) => h.toString('hex')),
      },
    },
  };
  if (options.candidate) {
    const stage = rows[6]!;
    const candidateModel = new Uint8Array(2000).map((_, i) => (i * 13) % 241);
    const candidateSha256 = sha256(candidateModel);
    genuine = {
      ...genuine,
      candidate: {
        model: modelSource(candidateModel),
        spec: { ...spec, version: 4, artifactSha256: candidateSha256 },
        promotion: {
          ...promotion,
          promotionId: randomUUID(),
          rolloutId,
          version: 4,
          strategy: 'SHADOW_THEN_CANARY',
        },
        evidence: {
          canonical: stage.canonical,
          hash: stage.hash,
          jws: stage.jws,
          proof: {
            seq: stage.event.seq,
            treeSize,
            leafHash: stage.hash,
            rootHash: checkpoint.rootHash,
            proof: inclusionProof(stage.event.seq - 1, treeSize, leaves).map((h) =>
              h.toString('hex'),
            ),
          },
        },
        assignment: {
          v: 1,
          endpoint: 'credit',
          mode: options.candidate,
          rolloutId,
          stage: stagePayload.stage,
          stageIndex: stagePayload.index,
          basisPoints:
            options.candidate === 'canary'
              ? stagePayload.weightBasisPoints
              : stagePayload.sampleBasisPoints,
          liveVersion: 3,
          candidateVersion: 4,
        },
      },
    };
  }
  const input = options.tamper ? options.tamper(genuine) : genuine;
  const bytes = await bundleBytes(
    await buildEdgeBundle(input, (manifest) => signDetached(manifest, key.privateKey, key.kid)),
  );
  const keys = [key.jwk];
  if (ledgerKey !== key) keys.push(ledgerKey.jwk);
  return { bytes, model, jwks: { keys }, key, input };
}
