/**
 * The audit report as a document: what the JSON file holds, shared by the service
 * that assembles it, the offline verifier and the PDF and CSV renderers. Plain types only, no
 * framework: the verifier must run with nothing but the file and the public keys.
 *
 * The file is `{"report": {...}, "signature": "<detached JWS>"}`, written in RFC 8785 form, so
 * the signed bytes — the JCS of `report` — are literally the text between `{"report":` and
 * `,"signature":`. Every section is derived from the ledger events the report carries (see
 * report-sections.ts); two kinds of figures are not in the ledger itself but only their
 * digests are (an evaluation's full result, a gate evaluation's evidence), and the verifier
 * recomputes those digests.
 */
import type { LedgerEvent } from '../ledger/ledger-event.js';

export const REPORT_TYPE = 'gatehouse.audit-report';
export const REPORT_FORMATS = ['JSON', 'PDF', 'CSV'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type ReportSubject =
  | { readonly kind: 'model'; readonly text: string; readonly model: string }
  | {
      readonly kind: 'modelVersion';
      readonly text: string;
      readonly model: string;
      readonly version: number;
    }
  | { readonly kind: 'promotion'; readonly text: string; readonly id: string }
  | { readonly kind: 'rollout'; readonly text: string; readonly id: string }
  | { readonly kind: 'period'; readonly text: string; readonly from: string; readonly to: string };

export interface PublicKey {
  readonly kty: string;
  readonly crv: string;
  readonly x: string;
  readonly kid: string;
  readonly alg?: string;
  readonly use?: string;
}

export interface Jwks {
  readonly keys: readonly PublicKey[];
}

export interface SignedCheckpoint {
  readonly checkpoint: {
    readonly v: 1;
    readonly treeSize: number;
    readonly rootHash: string;
    readonly ts: string;
  };
  /** Attached compact JWS over the JCS of `checkpoint`, as the ledger signs it. */
  readonly jws: string;
}

/** One ledger event as the report carries it, with its proof against the report's checkpoint. */
export interface ReportEvent {
  readonly seq: number;
  readonly event: LedgerEvent;
  /** The RFC 8785 form that was hashed and signed; must equal the JCS of `event`. */
  readonly canonical: string;
  /** sha256(0x00 ‖ canonical): the chain hash and the RFC 9162 leaf hash. */
  readonly hash: string;
  /** Detached JWS over `canonical`. */
  readonly jws: string;
  /** RFC 9162 §2.1.3 inclusion proof of leaf seq − 1 in the checkpoint's tree, bottom up, hex. */
  readonly proof: readonly string[];
}

export interface VersionSection {
  readonly version: number;
  readonly artifactSha256: string;
  readonly registeredSeq: number;
  readonly registeredAt: string;
  readonly registeredBy: string;
  /** The rest of the model.version.registered payload (task, threshold, feature columns…). */
  readonly [member: string]: Json;
}

export interface ModelSection {
  readonly name: string;
  readonly riskTier: string | null;
  readonly owner: string | null;
  readonly protectedAttributes: Json;
  readonly modelCard: Json;
  /** null when the model.registered event is not in the report. */
  readonly registeredSeq: number | null;
  readonly registeredAt: string | null;
  readonly registeredBy: string | null;
  readonly versions: VersionSection[];
}

export interface EvaluationSection {
  readonly id: string;
  readonly model: string;
  readonly version: number | null;
  readonly completedSeq: number;
  readonly completedAt: string;
  readonly resultSha256: string;
  readonly artifactSha256: Json;
  readonly datasetSha256: Json;
  readonly policySha256: Json;
  readonly rows: Json;
  /** The full stored result; its RFC 8785 SHA-256 must be `resultSha256`. */
  readonly result: JsonObject | null;
}

export interface ApprovalSection {
  readonly role: string;
  readonly approver: string;
  readonly approverRoles: string[];
  readonly signOff: boolean;
  readonly statement: string | null;
  readonly requestDigest: string;
  readonly policySha256: Json;
  readonly at: string;
  readonly recordedSeq: number;
}

export interface GateEvaluationSection {
  readonly id: string;
  readonly purpose: string;
  readonly passed: boolean;
  readonly failedGates: Json;
  readonly policySha256: string;
  readonly evidenceSha256: string;
  readonly requestDigest: Json;
  readonly evaluatedAt: string;
  readonly evaluatedBy: string;
  readonly evaluatedSeq: number;
  /** Every gate with its evidence; their RFC 8785 SHA-256 must be `evidenceSha256`. */
  readonly gates: Json[] | null;
}

export interface PromotionSection {
  readonly id: string;
  readonly status: string;
  readonly requestedSeq: number | null;
  readonly requestedAt: string | null;
  readonly requestedBy: string | null;
  readonly requestDigest: string | null;
  /** Everything approvers approved, rollback criteria included; its SHA-256 is the digest. */
  readonly content: JsonObject | null;
  readonly requiredRoles: Json;
  readonly policySha256: Json;
  readonly approvals: ApprovalSection[];
  /** The promotion.approved event: the approvals that completed the request. */
  readonly approvedSeq: number | null;
  readonly closedSeq: number | null;
  readonly closeReason: string | null;
  readonly gateEvaluations: GateEvaluationSection[];
}

/** One ledger event on a rollout's timeline, its payload as recorded (unknown members kept). */
export interface TimelineEntry {
  readonly seq: number;
  readonly ts: string;
  readonly type: string;
  readonly actor: string;
  readonly payload: JsonObject;
}

export interface RolloutSection {
  readonly id: string;
  readonly promotionId: Json;
  readonly endpoint: string | null;
  readonly model: Json;
  readonly version: number | null;
  readonly previousVersion: Json;
  readonly strategy: Json;
  readonly status: string;
  readonly startedSeq: number | null;
  /** `rollout.*` events, in order. */
  readonly timeline: TimelineEntry[];
  /** `deployment.*` events of the endpoint while the rollout ran. */
  readonly traffic: TimelineEntry[];
}

export interface ReportSections {
  readonly models: ModelSection[];
  readonly evaluations: EvaluationSection[];
  readonly promotions: PromotionSection[];
  readonly rollouts: RolloutSection[];
}

export interface ReportBody extends ReportSections {
  readonly v: 1;
  readonly type: typeof REPORT_TYPE;
  readonly id: string;
  readonly subject: ReportSubject;
  /** The span of the report: the requested range, or the first and last event's ts. */
  readonly period: { readonly from: string | null; readonly to: string | null };
  readonly generatedAt: string;
  readonly generatedBy: { readonly sub: string; readonly roles: readonly string[] };
  readonly checkpoint: SignedCheckpoint;
  /**
   * The same checkpoint as a C2SP signed note (origin, tree size, base64 root), signed by the
   * ledger under its origin, with the witnesses' cosignatures it had at export. Absent from
   * reports exported before reports carried it.
   */
  readonly checkpointNote?: string;
  /** Every public key of the ledger, and the seqs of the key rotation events (in `events`). */
  readonly keys: { readonly jwks: Jwks; readonly rotations: readonly number[] };
  readonly events: ReportEvent[];
}

export interface ReportFile {
  readonly report: ReportBody;
  /** Detached JWS (EdDSA, the ledger key) over the JCS of `report`. */
  readonly signature: string;
}
