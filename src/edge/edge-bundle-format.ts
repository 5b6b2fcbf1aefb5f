/**
 * The signed edge bundle (docs/edge.md): what a device needs to serve an endpoint's live
 * version offline, and the evidence that Gatehouse put that version live after the people the
 * policy names approved it. One ustar archive of flat files; a manifest of their SHA-256
 * digests in the OpenSSF model-signing v1.0 shape (an in-toto Statement v1), signed as a
 * detached JWS with the ledger's key.
 *
 * Environment-neutral (WebCrypto, no node: module): the verifier built on it runs on a device,
 * in the CLI and in a browser alike.
 */
import type { LedgerEvent } from '../ledger/ledger-event.js';
import type { TensorSpec } from '../runtime/tensor-spec.js';

/** The files of a bundle besides the manifest and its signature, by role. */
export const EDGE_FILES = {
  model: 'model.onnx',
  spec: 'spec.json',
  modelCard: 'model-card.json',
  promotion: 'promotion.json',
  event: 'deployment-event.ndjson',
  checkpoint: 'checkpoint.json',
  proof: 'inclusion-proof.json',
} as const;

export const MANIFEST = 'manifest.json';
export const MANIFEST_JWS = 'manifest.jws';

/** Every member of a bundle, in the archive's (byte) order. */
export const BUNDLE_MEMBERS: readonly string[] = [
  ...Object.values(EDGE_FILES),
  MANIFEST,
  MANIFEST_JWS,
].sort();

/**
 * The members a bundle carries, all of them or none, when a rollout in flight puts its
 * candidate on the device: the candidate's model, spec and promotion, the ledger's record of
 * the stage the candidate is in with its inclusion proof against the bundle's one checkpoint,
 * and the assignment. A bundle without them is a live bundle, byte for byte the format's
 * first form.
 */
export const EDGE_CANDIDATE_FILES = {
  model: 'candidate.onnx',
  spec: 'candidate-spec.json',
  promotion: 'candidate-promotion.json',
  event: 'candidate-event.ndjson',
  proof: 'candidate-inclusion-proof.json',
  assignment: 'assignment.json',
} as const;

export const CANDIDATE_MEMBERS: readonly string[] = Object.values(EDGE_CANDIDATE_FILES).sort();

/**
 * How the device takes part in a rollout: `shadow`, it answers with the live model and runs
 * the candidate beside it, logging the candidate's output under the shadow arm; `canary`, the
 * candidate answers. Devices of one assignment share one bundle, so it names no device.
 */
export type EdgeAssignmentMode = 'shadow' | 'canary';

export interface EdgeAssignment {
  readonly v: 1;
  readonly endpoint: string;
  readonly mode: EdgeAssignmentMode;
  readonly rolloutId: string;
  /** The stage's name and index in the rollout, as `rollout.stage.entered` records them. */
  readonly stage: string;
  readonly stageIndex: number;
  /**
   * The stage's share of devices in basis points (10000 is all): the shadow sample, or the
   * canary weight.
   */
  readonly basisPoints: number;
  readonly liveVersion: number;
  readonly candidateVersion: number;
}

export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const MODEL_SIGNING_PREDICATE_TYPE = 'https://model_signing/signature/v1.0';

/** How the manifest was made, in model_signing's words: files, hashed whole with SHA-256. */
export const SERIALIZATION = {
  method: 'files',
  hash_type: 'sha256',
  allow_symlinks: false,
  ignore_paths: [MANIFEST, MANIFEST_JWS],
} as const;

export interface ManifestResource {
  readonly name: string;
  readonly algorithm: 'sha256';
  /** Lowercase hex. */
  readonly digest: string;
}

/** The signed manifest: an in-toto Statement v1 with the model_signing v1.0 predicate. */
export interface EdgeManifest {
  readonly _type: typeof IN_TOTO_STATEMENT_TYPE;
  readonly subject: readonly [
    { readonly name: string; readonly digest: { readonly sha256: string } },
  ];
  readonly predicateType: typeof MODEL_SIGNING_PREDICATE_TYPE;
  readonly predicate: {
    readonly serialization: typeof SERIALIZATION;
    /** In name order. */
    readonly resources: readonly ManifestResource[];
  };
}

/**
 * What the Open Inference Protocol path needs to answer for the version: the input that takes
 * the feature columns (in order), where the score is, the decision threshold, and the model's
 * signature with the feature count bound into the scoring input's last dimension.
 */
export interface EdgeSpec {
  readonly v: 1;
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  readonly task: string;
  readonly artifactSha256: string;
  readonly inputName: string;
  readonly featureColumns: readonly string[];
  readonly scoreOutput: string;
  readonly scoreIndex: number;
  readonly threshold: number | null;
  readonly signature: {
    readonly inputs: readonly TensorSpec[];
    readonly outputs: readonly TensorSpec[];
  };
}

/** One approval of the promotion, as recorded: the statement with its digest. */
export interface EdgeApproval {
  readonly role: string;
  readonly approver: string;
  readonly approverRoles: readonly string[];
  /** RFC 3339. */
  readonly approvedAt: string;
  /** The request digest the approver saw and approved. */
  readonly requestDigest: string;
  readonly signOff: boolean;
  readonly statement: string | null;
  /** SHA-256 of the statement's UTF-8, lowercase hex; null without a statement. */
  readonly statementSha256: string | null;
  /** The promotion policy the approval was given under. */
  readonly policySha256: string;
}

/** The promotion that put the version live, and the policy it was decided under. */
export interface EdgePromotion {
  readonly v: 1;
  readonly promotionId: string;
  readonly rolloutId: string;
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  readonly strategy: string;
  readonly riskTier: string;
  readonly requestedBy: string;
  /** SHA-256 of the request's canonical content, which every counted approval binds. */
  readonly requestDigest: string;
  /** The promotion policy (policies/promotion.yaml) the request was made under. */
  readonly policySha256: string;
  /** The promotion policy its required roles were last decided under. */
  readonly judgedUnderPolicySha256: string;
  readonly requiredRoles: readonly string[];
  readonly approvals: readonly EdgeApproval[];
}

export interface SignedCheckpoint {
  readonly checkpoint: {
    readonly v: 1;
    readonly treeSize: number;
    readonly rootHash: string;
    readonly ts: string;
  };
  /** Attached compact JWS over the JCS of `checkpoint`. */
  readonly jws: string;
}

/** RFC 9162 inclusion proof of the event in the checkpoint's tree, hashes as lowercase hex. */
export interface EdgeInclusionProof {
  readonly seq: number;
  readonly treeSize: number;
  readonly leafHash: string;
  readonly rootHash: string;
  readonly proof: readonly string[];
}

/** The ledger's record of the go-live, as its NDJSON export gives it, with its proof. */
export interface EdgeEvidence {
  readonly event: LedgerEvent;
  /** The event's canonical form (RFC 8785), whose leaf hash is `hash`. */
  readonly canonical: string;
  readonly hash: string;
  readonly jws: string;
  readonly checkpoint: SignedCheckpoint;
  readonly proof: EdgeInclusionProof;
}

/** The candidate's part of a bundle: its stage event shares the live evidence's checkpoint. */
export interface EdgeCandidateEvidence {
  readonly event: LedgerEvent;
  readonly canonical: string;
  readonly hash: string;
  readonly jws: string;
  readonly proof: EdgeInclusionProof;
}

/** One line of `GET /v1/ledger/events`: the stored canonical text embedded byte for byte. */
export function eventLine(canonical: string, hash: string, jws: string): string {
  return `{"event":${canonical},"hash":"${hash}","jws":"${jws}"}\n`;
}

/** The manifest of files whose SHA-256 digests (hex) are given, resources in name order. */
export async function manifestOf(
  subjectName: string,
  digests: ReadonlyMap<string, string>,
): Promise<EdgeManifest> {
  const resources = [...digests.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, digest]) => ({ name, algorithm: 'sha256' as const, digest }));
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: subjectName, digest: { sha256: await subjectDigest(resources) } }],
    predicateType: MODEL_SIGNING_PREDICATE_TYPE,
    predicate: { serialization: SERIALIZATION, resources },
  };
}

/**
 * model_signing's subject digest: SHA-256 over the resources' raw 32-byte digests,
 * concatenated in the order the resources are listed (name order).
 */
export async function subjectDigest(resources: readonly ManifestResource[]): Promise<string> {
  const all = new Uint8Array(32 * resources.length);
  for (const [i, r] of resources.entries()) all.set(fromHex(r.digest), 32 * i);
  return sha256OfBytes(all);
}

/** Lowercase hex SHA-256 of `bytes`. */
export async function sha256OfBytes(bytes: Uint8Array): Promise<string> {
  // A view into an archive is hashed in place: WebCrypto reads only the view's range.
  const view = bytes as Uint8Array<ArrayBuffer>;
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', view));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
