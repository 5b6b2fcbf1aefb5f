import type {
  Attributes,
  BatchObservableResult,
  Counter,
  Gauge,
  Histogram,
  Meter,
} from '@opentelemetry/api';

/**
 * Every metric Gatehouse exports, declared in one place with its name, unit and attributes
 * (docs/observability.md). Callers record through the typed methods, so attribute names and
 * their cardinality stay under control: endpoint, version and arm are bounded by what is
 * deployed; no request id, user or input ever becomes an attribute.
 *
 * OpenTelemetry names are dotted; the Prometheus text at `GET /metrics` turns dots into
 * underscores, appends the unit (`_seconds`) and `_total` to counters.
 */

export type Arm = 'live' | 'candidate' | 'shadow';

export interface ArmLabels {
  readonly endpoint: string;
  readonly version: number;
  readonly arm: Arm;
}

/** What the prediction log reports (src/prediction-log/prediction-log.service.ts stats()). */
export interface PredictionLogCounts {
  readonly queued: number;
  readonly spooled: number;
  readonly refused: number;
  readonly written: number;
  readonly dropped: number;
  readonly writeFailures: number;
}

/** Latency buckets in seconds: ONNX inference is sub-millisecond to a few hundred ms. */
const LATENCY_BUCKETS_S = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
const LEDGER_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export const METRIC_NAMES = {
  inferenceDuration: 'gatehouse.inference.duration',
  inferenceRequests: 'gatehouse.inference.requests',
  inferenceErrors: 'gatehouse.inference.errors',
  shadowComparisons: 'gatehouse.shadow.comparisons',
  shadowDisagreements: 'gatehouse.shadow.disagreements',
  shadowDropped: 'gatehouse.shadow.dropped',
  candidateOverflow: 'gatehouse.candidate.overflow',
  predictionLogBacklog: 'gatehouse.prediction_log.backlog',
  predictionLogWritten: 'gatehouse.prediction_log.written',
  predictionLogDropped: 'gatehouse.prediction_log.dropped',
  predictionLogWriteFailures: 'gatehouse.prediction_log.write_failures',
  predictionLogSpooled: 'gatehouse.prediction_log.spooled',
  predictionLogRefused: 'gatehouse.prediction_log.refused',
  ledgerAppends: 'gatehouse.ledger.appends',
  ledgerAppendDuration: 'gatehouse.ledger.append.duration',
  gateEvaluations: 'gatehouse.gate.evaluations',
  gateOutcomes: 'gatehouse.gate.outcomes',
  rolloutStage: 'gatehouse.rollout.stage',
  rolloutWeight: 'gatehouse.rollout.weight',
  rolloutMetricsStalled: 'gatehouse.rollout.metrics_stalled',
  armMetricsRowsDropped: 'gatehouse.arm_metrics.rows_dropped',
  driftFeaturePsi: 'gatehouse.drift.feature.psi',
  driftScorePsi: 'gatehouse.drift.score.psi',
  driftAlerts: 'gatehouse.drift.alerts',
  streamMessages: 'gatehouse.stream.messages',
  edgeUploads: 'gatehouse.edge.uploads',
  ledgerCosignatures: 'gatehouse.ledger.cosignatures',
  ledgerWitnessQuorum: 'gatehouse.ledger.witness_quorum',
  ledgerUnwitnessed: 'gatehouse.ledger.unwitnessed',
} as const;

export class GatehouseMetrics {
  private readonly inferenceDuration: Histogram;
  private readonly inferenceRequests: Counter;
  private readonly inferenceErrors: Counter;
  private readonly shadowComparisons: Counter;
  private readonly shadowDisagreements: Counter;
  private readonly shadowDropped: Counter;
  private readonly candidateOverflow: Counter;
  private readonly ledgerAppends: Counter;
  private readonly ledgerAppendDuration: Histogram;
  private readonly gateEvaluations: Counter;
  private readonly gateOutcomes: Counter;
  private readonly rolloutStage: Gauge;
  private readonly rolloutWeight: Gauge;
  private readonly rolloutMetricsStalled: Counter;
  private readonly armMetricsRowsDropped: Counter;
  private readonly driftFeaturePsi: Gauge;
  private readonly driftScorePsi: Gauge;
  private readonly driftAlerts: Counter;
  private readonly streamMessages: Counter;
  private readonly edgeUploads: Counter;
  /** Per endpoint, the stage last reported, so the previous one can be set back to 0. */
  private readonly stages = new Map<string, string>();
  /** Callbacks to remove when the application closes (the meter may outlive it). */
  private readonly unobserve: (() => void)[] = [];

  constructor(private readonly meter: Meter) {
    const n = METRIC_NAMES;
    this.inferenceDuration = meter.createHistogram(n.inferenceDuration, {
      description: 'Time to answer an inference request, per endpoint, version and arm.',
      unit: 's',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
    });
    this.inferenceRequests = meter.createCounter(n.inferenceRequests, {
      description: 'Inference requests answered (or failed), per endpoint, version and arm.',
      unit: '{request}',
    });
    this.inferenceErrors = meter.createCounter(n.inferenceErrors, {
      description: 'Inference requests that failed in the model, per endpoint, version and arm.',
      unit: '{request}',
    });
    this.shadowComparisons = meter.createCounter(n.shadowComparisons, {
      description: 'Shadow answers compared with the live answer to the same request.',
      unit: '{row}',
    });
    this.shadowDisagreements = meter.createCounter(n.shadowDisagreements, {
      description: 'Shadow answers whose decision differed from the live answer.',
      unit: '{row}',
    });
    this.shadowDropped = meter.createCounter(n.shadowDropped, {
      description: 'Mirrored requests dropped because the shadow queue was full.',
      unit: '{request}',
    });
    this.candidateOverflow = meter.createCounter(n.candidateOverflow, {
      description:
        "Requests routed to the candidate but answered by the live version: the candidate's queue was full.",
      unit: '{request}',
    });
    this.ledgerAppends = meter.createCounter(n.ledgerAppends, {
      description: 'Ledger events sealed into the hash chain by this replica.',
      unit: '{event}',
    });
    this.ledgerAppendDuration = meter.createHistogram(n.ledgerAppendDuration, {
      description: 'Time to seal a group of ledger events (hash, sign, Merkle) after its commit.',
      unit: 's',
      advice: { explicitBucketBoundaries: LEDGER_BUCKETS_S },
    });
    this.gateEvaluations = meter.createCounter(n.gateEvaluations, {
      description: 'Gate evaluations of promotion requests, by purpose and overall outcome.',
      unit: '{evaluation}',
    });
    this.gateOutcomes = meter.createCounter(n.gateOutcomes, {
      description: 'Outcome of each gate in every gate evaluation.',
      unit: '{gate}',
    });
    this.rolloutStage = meter.createGauge(n.rolloutStage, {
      description: "1 for an endpoint's current rollout stage, 0 for the stages it left.",
    });
    this.rolloutWeight = meter.createGauge(n.rolloutWeight, {
      description: "The candidate's share of an endpoint's traffic (0 to 1).",
      unit: '1',
    });
    this.rolloutMetricsStalled = meter.createCounter(n.rolloutMetricsStalled, {
      description:
        "Rollouts paused by the controller because a serving replica's arm metrics stopped arriving.",
      unit: '{rollout}',
    });
    this.armMetricsRowsDropped = meter.createCounter(n.armMetricsRowsDropped, {
      description:
        'Arm-metrics windows given up because PostgreSQL refused their values (their counts are lost).',
      unit: '{row}',
    });
    this.driftFeaturePsi = meter.createGauge(n.driftFeaturePsi, {
      description: "PSI of a feature of the live version's served inputs against its baseline.",
      unit: '1',
    });
    this.driftScorePsi = meter.createGauge(n.driftScorePsi, {
      description: "PSI of the live version's served scores against its baseline.",
      unit: '1',
    });
    this.driftAlerts = meter.createCounter(n.driftAlerts, {
      description: 'Drift episodes opened (drift.alert events written) by this replica.',
      unit: '{alert}',
    });
    this.streamMessages = meter.createCounter(n.streamMessages, {
      description:
        'Stream messages settled by this replica: answered (by arm), dead-lettered or put back to be delivered again.',
      unit: '{message}',
    });
    this.edgeUploads = meter.createCounter(n.edgeUploads, {
      description:
        'Device log uploads answered by this replica: accepted, or refused with the reason (gap, chain, differs, device, bundle, invalid).',
      unit: '{upload}',
    });
  }

  /** One inference request answered by one version; `seconds` from receipt to answer. */
  recordInference(labels: ArmLabels, seconds: number, failed: boolean): void {
    const attributes = armAttributes(labels);
    this.inferenceRequests.add(1, attributes);
    this.inferenceDuration.record(seconds, attributes);
    if (failed) this.inferenceErrors.add(1, attributes);
  }

  /** Shadow rows compared with live (per endpoint and shadow version). */
  recordShadowComparison(
    endpoint: string,
    version: number,
    compared: number,
    disagreed: number,
  ): void {
    const attributes = { endpoint, version: String(version) };
    this.shadowComparisons.add(compared, attributes);
    if (disagreed > 0) this.shadowDisagreements.add(disagreed, attributes);
  }

  recordShadowDropped(endpoint: string, count = 1): void {
    this.shadowDropped.add(count, { endpoint });
  }

  recordCandidateOverflow(endpoint: string, version: number): void {
    this.candidateOverflow.add(1, { endpoint, version: String(version) });
  }

  /** A group of `events` sealed in `seconds` (LedgerSequencer.seal). */
  recordLedgerAppend(events: number, seconds: number): void {
    if (events > 0) this.ledgerAppends.add(events);
    this.ledgerAppendDuration.record(seconds);
  }

  recordGateEvaluation(
    purpose: string,
    gates: readonly { readonly gate: string; readonly passed: boolean }[],
  ): void {
    const passed = gates.every((g) => g.passed);
    this.gateEvaluations.add(1, { purpose, outcome: passed ? 'pass' : 'fail' });
    for (const g of gates)
      this.gateOutcomes.add(1, { gate: g.gate, outcome: g.passed ? 'pass' : 'fail' });
  }

  /**
   * The rollout state of an endpoint: its current stage (e.g. `shadow`, `canary-25`, `live`,
   * `rolled_back`) and the candidate's traffic share. `stage: null` when no rollout runs.
   */
  setRolloutState(
    endpoint: string,
    state: {
      readonly stage: string | null;
      readonly candidateVersion: number | null;
      readonly weight: number;
    },
  ): void {
    const previous = this.stages.get(endpoint);
    if (previous !== undefined && previous !== state.stage)
      this.rolloutStage.record(0, { endpoint, stage: previous });
    if (state.stage === null) this.stages.delete(endpoint);
    else {
      this.stages.set(endpoint, state.stage);
      this.rolloutStage.record(1, { endpoint, stage: state.stage });
    }
    const attributes: Attributes = { endpoint };
    if (state.candidateVersion !== null) attributes['version'] = String(state.candidateVersion);
    this.rolloutWeight.record(state.weight, attributes);
  }

  /** A rollout of the endpoint paused because its arm metrics stopped arriving. */
  recordRolloutMetricsStalled(endpoint: string): void {
    this.rolloutMetricsStalled.add(1, { endpoint });
  }

  /**
   * An arm's window of counts that PostgreSQL refused (`sqlstate`: the error's code, a
   * bounded set) and that was given up.
   */
  recordArmMetricsRowDropped(labels: ArmLabels, sqlstate: string): void {
    this.armMetricsRowsDropped.add(1, { ...armAttributes(labels), sqlstate });
  }

  /** The PSI of one window of the live version's traffic (src/drift). */
  recordDrift(
    endpoint: string,
    version: number,
    scorePsi: number | null,
    features: readonly { readonly feature: string; readonly psi: number }[],
  ): void {
    const base = { endpoint, version: String(version) };
    if (scorePsi !== null) this.driftScorePsi.record(scorePsi, base);
    for (const f of features) this.driftFeaturePsi.record(f.psi, { ...base, feature: f.feature });
  }

  recordDriftAlert(endpoint: string, version: number): void {
    this.driftAlerts.add(1, { endpoint, version: String(version) });
  }

  /** One stream message settled: `answered` (with its arm), `dead-lettered` or `retried`. */
  recordStreamMessage(endpoint: string, outcome: string, arm?: string): void {
    this.streamMessages.add(1, { endpoint, outcome, ...(arm === undefined ? {} : { arm }) });
  }

  /** One device log upload: `accepted`, or refused with its reason. */
  recordEdgeUpload(endpoint: string, outcome: string): void {
    this.edgeUploads.add(1, { endpoint, outcome });
  }

  /** Reads the prediction log's counters at each scrape instead of on every prediction. */
  observePredictionLog(read: () => PredictionLogCounts): void {
    const n = METRIC_NAMES;
    const backlog = this.meter.createObservableGauge(n.predictionLogBacklog, {
      description: 'Predictions queued in memory, not yet written to the log.',
      unit: '{prediction}',
    });
    const written = this.meter.createObservableCounter(n.predictionLogWritten, {
      description: 'Predictions written to the log and sealed.',
      unit: '{prediction}',
    });
    const dropped = this.meter.createObservableCounter(n.predictionLogDropped, {
      description: 'Predictions dropped because the log queue was full (never logged).',
      unit: '{prediction}',
    });
    const failures = this.meter.createObservableCounter(n.predictionLogWriteFailures, {
      description: 'Prediction-log batch writes that failed (retried while the queue has room).',
      unit: '{batch}',
    });
    const spooled = this.meter.createObservableGauge(n.predictionLogSpooled, {
      description: 'Predictions waiting in the spool, on disk, for the database to take them.',
      unit: '{prediction}',
    });
    const refused = this.meter.createObservableCounter(n.predictionLogRefused, {
      description:
        'Requests refused (503) on endpoints that require the log, because it could take no more.',
      unit: '{request}',
    });
    const observables = [backlog, written, dropped, failures, spooled, refused];
    const callback = (result: BatchObservableResult): void => {
      const counts = read();
      result.observe(backlog, counts.queued);
      result.observe(spooled, counts.spooled);
      result.observe(refused, counts.refused);
      result.observe(written, counts.written);
      result.observe(dropped, counts.dropped);
      result.observe(failures, counts.writeFailures);
    };
    this.meter.addBatchObservableCallback(callback, observables);
    this.unobserve.push(() => {
      this.meter.removeBatchObservableCallback(callback, observables);
    });
  }

  /** Reads the witnessing of the latest checkpoint at each scrape. */
  observeWitnessing(
    read: () => { cosignatures: number; quorum: number; unwitnessedSeconds: number },
  ): void {
    const n = METRIC_NAMES;
    const cosignatures = this.meter.createObservableGauge(n.ledgerCosignatures, {
      description: 'Witnesses that cosigned the latest checkpoint.',
      unit: '{cosignature}',
    });
    const quorum = this.meter.createObservableGauge(n.ledgerWitnessQuorum, {
      description: 'Cosignatures that make a checkpoint witnessed (GATEHOUSE_WITNESS_QUORUM).',
      unit: '{cosignature}',
    });
    const unwitnessed = this.meter.createObservableGauge(n.ledgerUnwitnessed, {
      description:
        'How long the ledger has had a checkpoint newer than its latest witnessed one; 0 when the latest is witnessed.',
      unit: 's',
    });
    const observables = [cosignatures, quorum, unwitnessed];
    const callback = (result: BatchObservableResult): void => {
      const state = read();
      result.observe(cosignatures, state.cosignatures);
      result.observe(quorum, state.quorum);
      result.observe(unwitnessed, state.unwitnessedSeconds);
    };
    this.meter.addBatchObservableCallback(callback, observables);
    this.unobserve.push(() => {
      this.meter.removeBatchObservableCallback(callback, observables);
    });
  }

  /** Stops observing (the application is closing). */
  close(): void {
    for (const stop of this.unobserve.splice(0)) stop();
  }
}

function armAttributes(labels: ArmLabels): Attributes {
  return { endpoint: labels.endpoint, version: String(labels.version), arm: labels.arm };
}
