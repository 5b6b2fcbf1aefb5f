/**
 * Every ledger event type, with the payload it carries. The ledger is hashed and signed, so a
 * payload's members are a contract with auditors: `tx.record`, `LedgerService.record`, the
 * prediction log's queue and the sequencer's own events accept only a type listed here, with
 * its payload. docs/ledger.md lists the same types (a test holds the two together).
 *
 * Payloads are JSON as the ledger canonicalizes it: no `undefined` member (RFC 8785 has no
 * form for it and `canonicalize` refuses it), no optional member, no Date. A member some
 * writers leave out is a separate variant of the payload, not an optional one.
 */
import type { PublicJwk } from './jws-verify.js';

/** Who caused an event: a verified principal, or a part of the system (`system:rollout`). */
export interface Actor {
  readonly sub: string;
  readonly roles?: readonly string[];
}

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export type JsonObject = { readonly [member: string]: JsonValue };

// ---------------------------------------------------------------------------------------------
// The ledger itself
// ---------------------------------------------------------------------------------------------

export type PolicyLoadedPayload = { readonly name: string; readonly sha256: string };

/** The checkpoint as signed: `{v, treeSize, rootHash, ts}`. */
export type CheckpointPayload = {
  readonly v: 1;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly ts: string;
};

export type KeyRotatedPayload = {
  readonly previousKid: string;
  readonly kid: string;
  readonly publicJwk: { readonly [M in keyof PublicJwk]: PublicJwk[M] };
};

// ---------------------------------------------------------------------------------------------
// Registry, artifacts, datasets, endpoints
// ---------------------------------------------------------------------------------------------

export type TensorSpecPayload = {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
};

export type ArtifactUploadedPayload = {
  readonly sha256: string;
  readonly size: number;
  readonly inputs: readonly TensorSpecPayload[];
  readonly outputs: readonly TensorSpecPayload[];
  readonly opsets: { readonly [domain: string]: number };
};

export type DatasetRegisteredPayload = {
  readonly id: string;
  readonly name: string;
  readonly sha256: string;
  readonly size: number;
  readonly rows: number;
  readonly columns: readonly { readonly name: string; readonly type: 'number' | 'string' }[];
  /** Absent from datasets registered before Parquet was taken (they were CSV). */
  readonly format?: 'csv' | 'parquet';
  /**
   * The Arrow IPC file of the dataset's columns, which evaluations and batch jobs read. Absent
   * from datasets registered before Gatehouse stored one (they are read from their CSV).
   */
  readonly columnarSha256?: string;
};

export type ModelRegisteredPayload = {
  readonly id: string;
  readonly name: string;
  readonly riskTier: string;
  readonly owner: string;
  readonly protectedAttributes: readonly string[];
  readonly modelCard: {
    readonly intendedUse: string;
    readonly outOfScopeUses: readonly string[];
    readonly limitations: string;
    readonly trainingData: string;
    readonly ethicalConsiderations: string;
  };
};

export type ModelVersionRegisteredPayload = {
  readonly id: string;
  readonly model: string;
  readonly version: number;
  readonly artifactSha256: string;
  readonly task: string;
  readonly featureColumns: readonly string[];
  readonly inputName: string;
  readonly scoreOutput: string;
  readonly scoreIndex: number;
  readonly threshold: number | null;
  readonly parentVersion: number | null;
  readonly trainingMetrics: JsonObject;
  /** Where the version came from, as registered; absent from versions registered before it was kept. */
  readonly metadata?: { readonly [key: string]: string };
};

export type EndpointCreatedPayload = {
  readonly id: string;
  readonly name: string;
  readonly model: string;
  /** Absent from endpoints created before endpoints had one (they were best-effort). */
  readonly predictionLogPolicy?: 'best-effort' | 'required';
};

/** What an endpoint does when the prediction log can take no more, changed. */
export type EndpointLogPolicyChangedPayload = {
  readonly from: 'best-effort' | 'required';
  readonly to: 'best-effort' | 'required';
  readonly reason: string;
};

/**
 * An endpoint bound to a NATS JetStream input: where its requests are read from (subject,
 * stream, durable consumer), where answers and poison messages go, the in-flight bound.
 */
export type EndpointStreamBoundPayload = {
  readonly endpoint: string;
  readonly inputSubject: string;
  readonly stream: string;
  readonly consumer: string;
  readonly outputSubject: string;
  readonly deadLetterSubject: string;
  readonly maxAckPending: number;
  readonly reason: string;
};

/** An endpoint's stream binding removed: it reads no more requests from the stream. */
export type EndpointStreamUnboundPayload = {
  readonly endpoint: string;
  readonly reason: string;
};

/** An endpoint's whole traffic state. */
export type TrafficPayload = {
  readonly liveVersion: number | null;
  readonly candidateVersion: number | null;
  readonly standbyVersion: number | null;
  readonly mode: string;
  readonly candidateWeight: number;
  readonly shadowSample: number;
};

/** `deployment.live.changed` when the live version changes, else `deployment.traffic.changed`. */
export type DeploymentChangedPayload = {
  readonly endpoint: string;
  readonly revision: number;
  readonly from: TrafficPayload;
  readonly to: TrafficPayload;
  readonly reason: string;
};

// ---------------------------------------------------------------------------------------------
// Predictions, batches, evaluations, drift
// ---------------------------------------------------------------------------------------------

export type PredictionsLoggedPayload = {
  readonly batchId: number;
  readonly endpoint: string;
  readonly firstId: number;
  readonly lastId: number;
  readonly count: number;
  readonly sha256: string;
};

export type PredictionsPurgedPayload = {
  readonly endpoint: string;
  readonly olderThan: string;
  readonly count: number;
  readonly firstId: number;
  readonly lastId: number;
};

/**
 * A device's log records taken into the prediction log: which device, which stretch of its
 * chain (the last record's hash binds every record before it), the bundles its models came
 * from, and the batch (its own `predictions.logged` event) that holds them.
 */
export type EdgePredictionsUploadedPayload = {
  readonly deviceId: string;
  readonly endpoint: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly count: number;
  readonly lastHash: string;
  readonly bundleSha256s: readonly string[];
  readonly batchId: number;
};

export type BatchRequestedPayload = {
  readonly jobId: string;
  /** null for a job of a model version named directly rather than an endpoint */
  readonly endpoint: string | null;
  readonly model: string;
  readonly version: number;
  readonly artifactSha256: string;
  readonly datasetId: string;
  readonly datasetSha256: string;
  readonly rows: number;
};

export type BatchCompletedPayload = {
  readonly jobId: string;
  readonly endpoint: string | null;
  readonly model: string;
  readonly version: number;
  readonly artifactSha256: string;
  readonly datasetSha256: string;
  readonly rows: number;
  readonly outputSha256: string;
  readonly outputSize: number;
};

/** Also `evaluation.failed`, with `evaluationId` instead of `jobId`. */
export type BatchFailedPayload = { readonly jobId: string; readonly error: string };

export type BatchCancelledPayload = {
  readonly jobId: string;
  readonly status: string;
  readonly rowsDone: number;
};

export type EvaluationRequestedPayload = {
  readonly evaluationId: string;
  readonly artifactSha256: string;
  readonly datasetId: string;
  readonly datasetSha256: string;
  readonly labelColumn: string;
  readonly protectedAttributes: readonly string[];
  readonly referenceGroups: { readonly [attribute: string]: string };
  readonly bootstrap: { readonly resamples: number; readonly seed: number } | null;
  readonly policySha256: string;
};

export type EvaluationCompletedPayload = {
  readonly evaluationId: string;
  readonly resultSha256: string;
  readonly artifactSha256: string;
  readonly datasetSha256: string;
  readonly policySha256: string;
  readonly rows: number;
  readonly headline: JsonObject;
};

export type EvaluationFailedPayload = { readonly evaluationId: string; readonly error: string };

/** `drift.alert` when an episode opens, `drift.resolved` when it closes. */
export type DriftPayload = {
  readonly endpoint: string;
  readonly version: number;
  readonly evaluationId: string;
  readonly threshold: number;
  readonly window: { readonly from: string; readonly to: string; readonly rows: number };
  readonly scorePsi: number | null;
  readonly maxPsi: number;
  readonly breached: readonly string[];
  readonly features: readonly { readonly feature: string; readonly psi: number }[];
};

// ---------------------------------------------------------------------------------------------
// Promotions
// ---------------------------------------------------------------------------------------------

export type PromotionRequestedPayload = {
  readonly promotionId: string;
  readonly requestDigest: string;
  /** The request's whole content: its digest can be recomputed from the ledger alone. */
  readonly content: JsonObject;
  readonly requiredRoles: readonly string[];
  readonly policySha256: string;
};

export type ApprovalRecordedPayload = {
  readonly promotionId: string;
  readonly role: string;
  readonly signOff: boolean;
  readonly statement: string | null;
  readonly requestDigest: string;
  readonly remainingRoles: readonly string[];
  readonly policySha256: string;
};

export type PromotionApprovedPayload = {
  readonly promotionId: string;
  readonly requestDigest: string;
  readonly approvals: readonly { readonly role: string; readonly approver: string }[];
  readonly policySha256: string;
};

export type PromotionRejectedPayload = {
  readonly promotionId: string;
  readonly requestDigest: string;
  readonly previousStatus: string;
  readonly reason: string;
  readonly policySha256: string;
};

export type PromotionWithdrawnPayload = {
  readonly promotionId: string;
  readonly requestDigest: string;
  readonly previousStatus: string;
  readonly policySha256: string;
};

export type PromotionRepoliciedPayload = {
  readonly promotionId: string;
  readonly requestDigest: string;
  readonly previousPolicySha256: string;
  readonly policySha256: string;
  readonly previousRequiredRoles: readonly string[];
  readonly requiredRoles: readonly string[];
  readonly addedRoles: readonly string[];
  readonly removedRoles: readonly string[];
  readonly previousStatus: string;
  readonly status: string;
  readonly missingRoles: readonly string[];
};

/** A refused decision on a promotion request: who tried (the actor) and why it was refused. */
export type PromotionRefusedPayload = {
  readonly promotionId: string;
  readonly code: string;
  readonly reason: string;
  readonly policySha256: string;
};

/** A refused approval also names the role and the digest the approver saw. */
export type ApprovalRefusedPayload = PromotionRefusedPayload & {
  readonly role: string;
  readonly digestSeen: string;
};

export type GateEvaluatedPayload = {
  readonly promotionId: string;
  readonly gateEvaluationId: string;
  readonly purpose: string;
  readonly passed: boolean;
  readonly failedGates: readonly string[];
  readonly gates: readonly {
    readonly gate: string;
    readonly passed: boolean;
    readonly summary: string;
  }[];
  readonly evidenceSha256: string;
  readonly requestDigest: string;
  readonly policySha256: string;
};

// ---------------------------------------------------------------------------------------------
// Rollouts
// ---------------------------------------------------------------------------------------------

export type StageSettingsPayload = { readonly [setting: string]: number | string };

/**
 * The stages planned: with their settings for a staged rollout; an INITIAL rollout's one
 * `LIVE` stage has none and is recorded without them.
 */
export type PlannedStagePayload =
  | { readonly name: string; readonly kind: string }
  | { readonly name: string; readonly kind: string; readonly settings: StageSettingsPayload };

export type RolloutStartedPayload = {
  readonly rolloutId: string;
  readonly promotionId: string;
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  readonly strategy: string;
  readonly requestDigest: string;
  readonly policySha256: string;
  readonly previousVersion: number | null;
  readonly stages: readonly PlannedStagePayload[];
  readonly gateEvaluationId: string;
  readonly evidenceSha256: string;
};

export type StageEnteredPayload = {
  readonly rolloutId: string;
  readonly endpoint: string;
  readonly version: number;
  readonly stage: string;
  readonly index: number;
  readonly kind: string;
  readonly settings: StageSettingsPayload;
  readonly weightBasisPoints: number;
  readonly sampleBasisPoints: number;
  readonly manual: boolean;
};

export type StagePassedPayload = {
  readonly rolloutId: string;
  readonly endpoint: string;
  readonly version: number;
  readonly stage: string;
  readonly index: number;
  readonly kind: string;
  readonly manual: boolean;
  /** A person's reason for advancing, when they gave one. */
  readonly reason?: string;
  /** What the stage showed (the judgement's evidence), with `skipped` when a person advanced it. */
  readonly evidence: JsonObject;
};

export type AbTestResultPayload = {
  readonly outcome: string;
  readonly winner: 'candidate' | 'live' | 'none';
  readonly candidate: { readonly n: number; readonly value: number | null };
  readonly live: { readonly n: number; readonly value: number | null };
  readonly test: {
    readonly test: string;
    readonly alternative: string;
    readonly n1: number;
    readonly n2: number | null;
    readonly statistic: number;
    readonly pValue: number;
  };
  readonly significanceLevel: number;
};

/**
 * Three writers, three shapes, each kept as it has been recorded: the go-live of an INITIAL
 * rollout (at its start), the go-live at the end of a staged rollout, and the conclusion of an
 * A/B test, which changes no live version.
 */
export type RolloutCompletedPayload =
  | {
      readonly rolloutId: string;
      readonly promotionId: string;
      readonly endpoint: string;
      readonly model: string;
      readonly version: number;
      readonly strategy: string;
      readonly requestDigest: string;
      readonly policySha256: string;
      readonly liveVersion: number;
    }
  | {
      readonly rolloutId: string;
      readonly endpoint: string;
      readonly version: number;
      readonly liveVersion: number;
      readonly previousVersion: number | null;
      readonly standbyVersion: number | null;
    }
  | {
      readonly rolloutId: string;
      readonly endpoint: string;
      readonly version: number;
      readonly liveVersion: number | null;
      readonly abTest: AbTestResultPayload;
      readonly note: string;
    };

type RolledBackBase = {
  readonly rolloutId: string;
  readonly endpoint: string;
  readonly version: number;
  readonly liveVersion: number | null;
  readonly stage: string | null;
  readonly index: number;
  readonly afterGoLive: boolean;
  readonly manual: boolean;
  readonly by: string;
  readonly reason: string;
};

/**
 * A person's rollback carries the judgement of the stage in progress (null when none is); the
 * controller's, the criterion first breached and every breach.
 */
export type RollbackDetails =
  | { readonly evidence: JsonObject | null }
  | {
      readonly criterion: string | null;
      readonly breached: readonly JsonObject[];
      readonly evidence: JsonObject;
    };

export type RolledBackPayload = RolledBackBase & RollbackDetails;

type HeldBase = {
  readonly rolloutId: string;
  readonly endpoint: string;
  readonly stage: string | null;
  readonly index: number;
  /** A person's reason, when they gave one; the controller's pause gives its own. */
  readonly reason?: string;
};

/** Why the controller paused a rollout: its metrics stopped arriving. */
export type PauseDetails = {
  readonly manual: false;
  readonly reason: string;
  readonly metricsStalled: {
    readonly replica: string;
    readonly endpoint: string;
    readonly unwrittenSince: string | null;
    readonly lastWrittenAt: string | null;
    readonly requestsSeenAt: string | null;
    readonly cause: string | null;
    readonly staleMetricsTicks: number;
    readonly tickMs: number;
  };
};

/** A person's pause, or the controller's with its reason. */
export type PausedPayload = HeldBase | (HeldBase & PauseDetails);

export type ResumedPayload = HeldBase;

/**
 * The clock of the stage in progress at a takeover: the observed time kept and the unobserved
 * gap since the previous driver's last tick, which does not count (`rule`).
 */
export type TakeoverClockPayload = {
  readonly stage: string;
  readonly index: number;
  readonly rule: 'gap-subtracted';
  readonly observedSeconds: number;
  /** Null when the previous driver never advanced the stage's clock. */
  readonly unobservedSeconds: number | null;
  readonly lastObservedAt: string | null;
  readonly lastObservedBy: string | null;
};

export type DriverChangedPayload = {
  readonly rolloutId: string;
  readonly from: string;
  readonly to: string;
  readonly leaseSeconds: number;
  /** Null without a stage in progress; absent from takeovers recorded before stage clocks. */
  readonly clock?: TakeoverClockPayload | null;
};

/** A person's refused action on a rollout. */
export type RolloutRefusedPayload = {
  readonly rolloutId: string;
  readonly code: string;
  readonly reason: string;
  readonly policySha256: string;
};

// ---------------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------------

export type ReportExportedPayload = {
  readonly reportId: string;
  readonly subject: string;
  readonly format: string;
  readonly sha256: string;
  readonly events: number;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly kid: string;
};

// ---------------------------------------------------------------------------------------------
// The web console
// ---------------------------------------------------------------------------------------------

/**
 * A console session begun; the actor is the person signed in. `session` is the first 16 hex
 * digits of the SHA-256 of the session id: it names the session in the ledger without being
 * anything a browser could present.
 */
export type ConsoleSignedInPayload = {
  readonly session: string;
  /** The provider's issuer, or `gatehouse-dev` for the dev issuer's sign-in. */
  readonly issuer: string;
  readonly roles: readonly string[];
  readonly expiresAt: string;
};

export type ConsoleSignedOutPayload = { readonly session: string };

// ---------------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------------

/** Fails to compile if a payload is not JSON. */
type JsonPayloads<T extends { readonly [type: string]: JsonObject }> = T;

/** Each ledger event type and its payload. */
export type LedgerEvents = JsonPayloads<{
  'policy.loaded': PolicyLoadedPayload;
  'ledger.checkpoint': CheckpointPayload;
  'ledger.key.rotated': KeyRotatedPayload;
  'artifact.uploaded': ArtifactUploadedPayload;
  'dataset.registered': DatasetRegisteredPayload;
  'model.registered': ModelRegisteredPayload;
  'model.version.registered': ModelVersionRegisteredPayload;
  'endpoint.created': EndpointCreatedPayload;
  'endpoint.log_policy.changed': EndpointLogPolicyChangedPayload;
  'endpoint.stream.bound': EndpointStreamBoundPayload;
  'endpoint.stream.unbound': EndpointStreamUnboundPayload;
  'deployment.live.changed': DeploymentChangedPayload;
  'deployment.traffic.changed': DeploymentChangedPayload;
  'predictions.logged': PredictionsLoggedPayload;
  'predictions.purged': PredictionsPurgedPayload;
  'edge.predictions.uploaded': EdgePredictionsUploadedPayload;
  'batch.requested': BatchRequestedPayload;
  'batch.completed': BatchCompletedPayload;
  'batch.failed': BatchFailedPayload;
  'batch.cancelled': BatchCancelledPayload;
  'evaluation.requested': EvaluationRequestedPayload;
  'evaluation.completed': EvaluationCompletedPayload;
  'evaluation.failed': EvaluationFailedPayload;
  'drift.alert': DriftPayload;
  'drift.resolved': DriftPayload;
  'promotion.requested': PromotionRequestedPayload;
  'promotion.approval.recorded': ApprovalRecordedPayload;
  'promotion.approved': PromotionApprovedPayload;
  'promotion.rejected': PromotionRejectedPayload;
  'promotion.withdrawn': PromotionWithdrawnPayload;
  'promotion.repolicied': PromotionRepoliciedPayload;
  'promotion.approval.refused': ApprovalRefusedPayload;
  'promotion.rejection.refused': PromotionRefusedPayload;
  'promotion.withdrawal.refused': PromotionRefusedPayload;
  'gate.evaluated': GateEvaluatedPayload;
  'rollout.start.refused': PromotionRefusedPayload;
  'rollout.started': RolloutStartedPayload;
  'rollout.stage.entered': StageEnteredPayload;
  'rollout.stage.passed': StagePassedPayload;
  'rollout.rolled_back': RolledBackPayload;
  'rollout.completed': RolloutCompletedPayload;
  'rollout.paused': PausedPayload;
  'rollout.resumed': ResumedPayload;
  'rollout.driver.changed': DriverChangedPayload;
  'rollout.advance.refused': RolloutRefusedPayload;
  'rollout.pause.refused': RolloutRefusedPayload;
  'rollout.rollback.refused': RolloutRefusedPayload;
  'report.exported': ReportExportedPayload;
  'console.signed_in': ConsoleSignedInPayload;
  'console.signed_out': ConsoleSignedOutPayload;
}>;

export type LedgerEventType = keyof LedgerEvents;

/** An event to record: a catalogued type with its payload. */
export type EventInput<T extends LedgerEventType = LedgerEventType> = {
  [K in T]: {
    readonly type: K;
    /** e.g. `model:credit-risk@3`, `promotion:<uuid>` */
    readonly subject: string;
    readonly actor: Actor;
    readonly payload: LedgerEvents[K];
  };
}[T];

/** Every catalogued type, at run time (the compiler checks the list is exactly the catalogue). */
export const LEDGER_EVENT_TYPES = Object.keys({
  'policy.loaded': true,
  'ledger.checkpoint': true,
  'ledger.key.rotated': true,
  'artifact.uploaded': true,
  'dataset.registered': true,
  'model.registered': true,
  'model.version.registered': true,
  'endpoint.created': true,
  'endpoint.log_policy.changed': true,
  'endpoint.stream.bound': true,
  'endpoint.stream.unbound': true,
  'deployment.live.changed': true,
  'deployment.traffic.changed': true,
  'predictions.logged': true,
  'predictions.purged': true,
  'edge.predictions.uploaded': true,
  'batch.requested': true,
  'batch.completed': true,
  'batch.failed': true,
  'batch.cancelled': true,
  'evaluation.requested': true,
  'evaluation.completed': true,
  'evaluation.failed': true,
  'drift.alert': true,
  'drift.resolved': true,
  'promotion.requested': true,
  'promotion.approval.recorded': true,
  'promotion.approved': true,
  'promotion.rejected': true,
  'promotion.withdrawn': true,
  'promotion.repolicied': true,
  'promotion.approval.refused': true,
  'promotion.rejection.refused': true,
  'promotion.withdrawal.refused': true,
  'gate.evaluated': true,
  'rollout.start.refused': true,
  'rollout.started': true,
  'rollout.stage.entered': true,
  'rollout.stage.passed': true,
  'rollout.rolled_back': true,
  'rollout.completed': true,
  'rollout.paused': true,
  'rollout.resumed': true,
  'rollout.driver.changed': true,
  'rollout.advance.refused': true,
  'rollout.pause.refused': true,
  'rollout.rollback.refused': true,
  'report.exported': true,
  'console.signed_in': true,
  'console.signed_out': true,
} satisfies Record<LedgerEventType, true>) as LedgerEventType[];

export const KEY_ROTATED = 'ledger.key.rotated' satisfies LedgerEventType;
export const CHECKPOINT_EVENT = 'ledger.checkpoint' satisfies LedgerEventType;

/** The checkpoint's own event, appended right after the tree it covers. */
export function checkpointEvent(
  checkpoint: CheckpointPayload,
  actor: Actor,
): EventInput<typeof CHECKPOINT_EVENT> {
  return {
    type: CHECKPOINT_EVENT,
    subject: 'ledger:checkpoints',
    actor,
    payload: { ...checkpoint },
  };
}

/** The rotation, signed by the old key, carries the new public JWK. */
export function keyRotatedEvent(
  previousKid: string,
  kid: string,
  publicJwk: PublicJwk,
  actor: Actor,
): EventInput<typeof KEY_ROTATED> {
  return {
    type: KEY_ROTATED,
    subject: 'ledger:keys',
    actor,
    payload: { previousKid, kid, publicJwk: { ...publicJwk } },
  };
}
