import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ArmMetricsRecorder } from '../arm-metrics/arm-metrics-recorder.service.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import type {
  LoggedTensor,
  PredictionArm,
  PredictionRecord,
} from '../prediction-log/prediction.js';
import { PredictionLog } from '../prediction-log/prediction-log.service.js';
import { roundLatency } from '../prediction-log/prediction-digest.js';
import type { LogOutcome } from '../prediction-log/settlements.js';
import { ModelRuntime } from '../runtime/model-runtime.service.js';
import { scoresOf } from '../runtime/scoring.js';
import type { TensorSpec } from '../runtime/tensor-spec.js';
import { CandidateExecutor } from './candidate-executor.service.js';
import type { ServedVersion } from './endpoint-state.js';
import { EndpointRouter } from './endpoint-router.service.js';
import {
  ModelFailureError,
  NoLiveVersionError,
  PredictionLogUnavailableError,
} from './inference.errors.js';
import { ModelExecutor } from './model-executor.service.js';
import { uuidV7 } from './request-id.js';
import {
  checkTensors,
  presentOutputs,
  readEnvelope,
  type CheckedRequest,
  type InferEnvelope,
  type OutputTensor,
  type RawTensor,
} from './oip-tensors.js';
import { failSpan, startRecordedChildSpan } from '../telemetry/tracing.js';
import {
  answeringArm,
  bucketOfHash,
  isMirrored,
  randomBucket,
  routingKeyHash,
} from './traffic-split.js';

/** The Open Inference Protocol response (KServe v2). */
export interface InferResponse {
  readonly id: string;
  readonly model_name: string;
  readonly model_version: string;
  readonly outputs: OutputTensor[];
}

export interface TensorMetadata {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
}

export interface ModelMetadata {
  readonly name: string;
  readonly versions: string[];
  readonly platform: 'onnxruntime';
  readonly inputs: TensorMetadata[];
  readonly outputs: TensorMetadata[];
}

export interface ModelReadiness {
  readonly name: string;
  readonly ready: boolean;
  readonly reason?: string;
}

/** Model errors can quote whole graphs; the log and the client get the start of it. */
const MAX_ERROR_LENGTH = 1000;

/**
 * How an answered request's prediction goes into the log: queued (`record`, never waiting) or
 * queued with its outcome awaited (`recordDurably`). False: it was not kept.
 */
type Recorder = (prediction: PredictionRecord) => boolean;

/** A streamed request's answer, the arm that gave it, and its prediction's fate in the log. */
export interface DurableAnswer {
  readonly response: InferResponse;
  readonly arm: 'live' | 'candidate';
  readonly logged: Promise<LogOutcome>;
}

/** How a version's run is made: on this thread (live) or on a candidate thread. */
type Run = (request: CheckedRequest) => Promise<Ran>;

interface Ran {
  readonly outputs: Map<string, RawTensor>;
  /** The run's own time when it was measured where it ran; else the time around the call. */
  readonly latencyMs?: number;
}

/** What answering a request gave: the response tensors, each row's score, whether it is logged. */
interface Answered {
  readonly outputs: OutputTensor[];
  readonly scores: Float64Array | null;
  readonly logged: boolean;
}

/**
 * Real-time inference: route the request to a version by the endpoint's traffic state, check
 * its tensors against that version's signature, run it, answer, queue the prediction for the
 * log and count it in the arm's metrics. The live version runs on this thread; a candidate
 * runs on the candidate threads (CandidateExecutor), from a bounded queue: a canary request
 * its queue cannot take is answered by the live version (and counted). In SHADOW mode a
 * sampled share of requests is also offered to the candidate's shadow queue after the answer
 * is on its way (a full queue drops the copy and counts it); what the candidate does never
 * reaches the client, and its decisions are compared with the live ones row by row.
 */
@Injectable()
export class InferenceService implements OnApplicationShutdown {
  private static readonly logger = new Logger('Inference');
  private readonly maxRows: number;
  /** Mirrored requests not yet settled (waiting for their turn, queued or running). */
  private readonly mirrored = new Set<Promise<void>>();

  constructor(
    private readonly router: EndpointRouter,
    private readonly executor: ModelExecutor,
    private readonly candidates: CandidateExecutor,
    private readonly runtime: ModelRuntime,
    private readonly log: PredictionLog,
    private readonly metrics: ArmMetricsRecorder,
    @Inject(CONFIG) config: Config,
  ) {
    this.maxRows = config.inference.maxRowsPerRequest;
  }

  /** Lets mirrored requests in flight finish before the log and metrics flush at shutdown. */
  async onApplicationShutdown(): Promise<void> {
    while (this.mirrored.size > 0) await Promise.allSettled([...this.mirrored]);
  }

  async infer(endpoint: string, body: unknown, routingKeyHeader?: string): Promise<InferResponse> {
    const routed = await this.route(endpoint, body, routingKeyHeader, undefined, (prediction) =>
      this.log.record(prediction),
    );
    return routed.response;
  }

  /**
   * A request that arrived on a stream: answered exactly as `infer` answers it (the same
   * routing, shadow copy and metrics), under `requestId`, and its prediction recorded so that
   * `logged` tells once it is written or spooled, or why it was dropped: a stream message is
   * acknowledged only then.
   */
  async inferDurably(
    endpoint: string,
    body: unknown,
    options: { readonly routingKey?: string; readonly requestId: string },
  ): Promise<DurableAnswer> {
    let logged: Promise<LogOutcome> | undefined;
    const routed = await this.route(endpoint, body, options.routingKey, options.requestId, (p) => {
      logged = this.log.recordDurably(p);
      return true;
    });
    if (logged === undefined) throw new Error('an answered request was not recorded');
    return { ...routed, logged };
  }

  private async route(
    endpoint: string,
    body: unknown,
    routingKeyHeader: string | undefined,
    requestId: string | undefined,
    record: Recorder,
  ): Promise<{ response: InferResponse; arm: 'live' | 'candidate' }> {
    const envelope = readEnvelope(body);
    const state = this.router.peek(endpoint) ?? (await this.router.state(endpoint));
    const key = routingKeyHeader || envelope.routingKey;
    const keyHash = key === undefined ? null : routingKeyHash(key);
    const bucket = keyHash === null ? randomBucket() : bucketOfHash(keyHash);
    let arm: 'live' | 'candidate' = answeringArm(state.split, bucket);
    let served = arm === 'candidate' ? state.candidate : state.live;
    if (!served) throw new NoLiveVersionError(endpoint);
    let request = checkTensors(envelope, served.signature, this.maxRows);
    const required = state.predictionLogPolicy === 'required';
    // Refused before the model runs when the log is known to be full already.
    if (required && !this.log.accepting()) this.refuseUnlogged(endpoint);
    let run = this.onThisThread(served);
    if (arm === 'candidate') {
      const queued = this.candidates.run('candidate', served.artifactSha256, request.inputs);
      if (queued) run = () => queued;
      else {
        this.metrics.candidateOverflow({ endpoint, version: served.version, arm });
        if (!state.live) throw new NoLiveVersionError(endpoint);
        arm = 'live';
        served = state.live;
        request = checkTensors(envelope, served.signature, this.maxRows);
        run = this.onThisThread(served);
      }
    }
    const id = requestId ?? envelope.id ?? uuidV7();
    const answered = await this.answer(
      endpoint,
      served,
      arm,
      request,
      id,
      keyHash,
      envelope,
      run,
      record,
    );
    // The log filled while the model ran: the answer, unlogged, is not sent.
    if (required && !answered.logged) this.refuseUnlogged(endpoint);
    if (state.candidate && isMirrored(state.split, bucket)) {
      const candidate = state.candidate;
      const live = { version: served, scores: answered.scores };
      // A copy its queue cannot take costs no more than counting it.
      if (this.candidates.hasRoom('shadow', candidate.artifactSha256))
        this.mirror(() => this.shadow(endpoint, candidate, live, envelope, id, keyHash));
      else this.metrics.shadowDropped({ endpoint, version: candidate.version, arm: 'shadow' });
    }
    return {
      response: {
        id,
        model_name: endpoint,
        model_version: String(served.version),
        outputs: answered.outputs,
      },
      arm,
    };
  }

  async metadata(endpoint: string): Promise<ModelMetadata> {
    const state = await this.router.state(endpoint);
    if (!state.live) throw new NoLiveVersionError(endpoint);
    const versions = [state.live, state.candidate].filter((v) => v !== null);
    return {
      name: endpoint,
      versions: versions.map((v) => String(v.version)),
      platform: 'onnxruntime',
      inputs: state.live.signature.inputs.map(metadataOf),
      outputs: state.live.signature.outputs.map(metadataOf),
    };
  }

  /** Ready: a live version exists and its session is loaded (this call loads it if need be). */
  async readiness(endpoint: string): Promise<ModelReadiness> {
    const state = await this.router.state(endpoint);
    if (!state.live) return { name: endpoint, ready: false, reason: 'no live version' };
    try {
      await this.runtime.warm(state.live.artifactSha256);
      return { name: endpoint, ready: true };
    } catch (error) {
      return {
        name: endpoint,
        ready: false,
        reason: `the model cannot be loaded: ${messageOf(error)}`,
      };
    }
  }

  /** The live version's runs: here, on the main thread (micro-batched), timed around the call. */
  private onThisThread(served: ServedVersion): Run {
    return async (request) => ({
      outputs: await this.executor.run(served.artifactSha256, request.inputs, request.rows),
    });
  }

  /** A mirrored request, on a later turn of the event loop than the live answer. */
  private mirror(task: () => Promise<void>): void {
    const settled: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(task)
      .catch(() => undefined)
      .finally(() => this.mirrored.delete(settled));
    this.mirrored.add(settled);
  }

  /** Runs the version, logs the prediction (or its failure), counts it, returns the outputs. */
  private async answer(
    endpoint: string,
    served: ServedVersion,
    arm: PredictionArm,
    request: CheckedRequest,
    requestId: string,
    routingKeyHash: string | null,
    envelope: InferEnvelope,
    run: Run,
    record: Recorder,
  ): Promise<Answered> {
    const started = performance.now();
    const createdAt = new Date();
    const inputs = loggedInputs(request);
    const observed = {
      endpoint,
      version: served.version,
      arm,
      threshold: served.threshold,
      attributes: envelope.attributes,
    };
    let ran: Ran;
    let outputs: OutputTensor[];
    let scores: Float64Array | null;
    const span = startRecordedChildSpan('gatehouse.inference.run', () => ({
      'gatehouse.endpoint': endpoint,
      'gatehouse.version': served.version,
      'gatehouse.arm': arm,
      'gatehouse.rows': request.rows,
    }));
    try {
      ran = await run(request);
      const raw = ran.outputs;
      outputs = presentOutputs(raw, served.signature.outputs, request.outputs);
      const scoreTensor = raw.get(served.scoreOutput);
      // A non-finite score never gets here: presentOutputs refuses it as a model failure.
      scores =
        scoreTensor && !Array.isArray(scoreTensor.data)
          ? scoresOf(scoreTensor.data, request.rows, served.scoreIndex)
          : null;
      span?.end();
    } catch (error) {
      if (span) {
        failSpan(span, error);
        span.end();
      }
      const reason = messageOf(error);
      const latencyMs = performance.now() - started;
      this.metrics.record({ ...observed, latencyMs, failed: true, scores: null });
      record({
        requestId,
        endpoint,
        modelVersion: served.version,
        arm,
        inputs,
        outputs: null,
        error: reason,
        latencyMs: roundLatency(latencyMs),
        routingKeyHash,
        createdAt,
      });
      throw new ModelFailureError(endpoint, served.version, reason);
    }
    const latencyMs = ran.latencyMs ?? performance.now() - started;
    this.metrics.record({ ...observed, latencyMs, failed: false, scores });
    const logged = record({
      requestId,
      endpoint,
      modelVersion: served.version,
      arm,
      inputs,
      outputs: outputs.map(loggedOutput),
      error: null,
      latencyMs: roundLatency(latencyMs),
      routingKeyHash,
      createdAt,
    });
    return { outputs, scores, logged };
  }

  private refuseUnlogged(endpoint: string): never {
    this.log.countRefused();
    throw new PredictionLogUnavailableError(endpoint);
  }

  /**
   * The candidate's answer to a mirrored request, for the log and the metrics only (with its
   * agreement with live's decision on each row); never throws.
   */
  private async shadow(
    endpoint: string,
    candidate: ServedVersion,
    live: { readonly version: ServedVersion; readonly scores: Float64Array | null },
    envelope: InferEnvelope,
    requestId: string,
    routingKeyHash: string | null,
  ): Promise<void> {
    let request: CheckedRequest;
    try {
      request = checkTensors(envelope, candidate.signature, this.maxRows);
    } catch (error) {
      this.log.record({
        requestId,
        endpoint,
        modelVersion: candidate.version,
        arm: 'shadow',
        inputs: [],
        outputs: null,
        error: `the request does not fit the candidate's signature: ${messageOf(error)}`,
        latencyMs: 0,
        routingKeyHash,
        createdAt: new Date(),
      });
      this.metrics.record({
        endpoint,
        version: candidate.version,
        arm: 'shadow',
        latencyMs: 0,
        failed: true,
        scores: null,
        threshold: null,
        attributes: null,
      });
      return;
    }
    const queued = this.candidates.run('shadow', candidate.artifactSha256, request.inputs);
    if (!queued) {
      this.metrics.shadowDropped({ endpoint, version: candidate.version, arm: 'shadow' });
      return;
    }
    try {
      const answered = await this.answer(
        endpoint,
        candidate,
        'shadow',
        request,
        requestId,
        routingKeyHash,
        envelope,
        () => queued,
        (prediction) => this.log.record(prediction),
      );
      const agreement = agreementOf(live, candidate, answered.scores);
      if (agreement)
        this.metrics.agreement(
          { endpoint, version: candidate.version, arm: 'shadow' },
          agreement.compared,
          agreement.agreed,
        );
    } catch (error) {
      // Already logged with arm 'shadow'; the client was answered by the live version.
      InferenceService.logger.debug(
        `shadow run on ${endpoint}@${candidate.version}: ${messageOf(error)}`,
      );
    }
  }
}

/** Rows where the candidate's decision equals live's (each at its own threshold). */
function agreementOf(
  live: { readonly version: ServedVersion; readonly scores: Float64Array | null },
  candidate: ServedVersion,
  scores: Float64Array | null,
): { compared: number; agreed: number } | null {
  const lt = live.version.threshold;
  const ct = candidate.threshold;
  if (!live.scores || !scores || lt === null || ct === null) return null;
  const compared = Math.min(live.scores.length, scores.length);
  let agreed = 0;
  for (let i = 0; i < compared; i++)
    if ((live.scores[i] ?? 0) >= lt === (scores[i] ?? 0) >= ct) agreed++;
  return { compared, agreed };
}

function loggedInputs(request: CheckedRequest): LoggedTensor[] {
  return request.inputs.map((t) => ({
    data: t.values,
    datatype: t.datatype,
    name: t.name,
    shape: t.shape,
  }));
}

function loggedOutput(t: OutputTensor): LoggedTensor {
  return { data: t.data, datatype: t.datatype, name: t.name, shape: t.shape };
}

function metadataOf(spec: TensorSpec): TensorMetadata {
  return { name: spec.name, datatype: spec.datatype, shape: [...spec.shape] };
}

function messageOf(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).replaceAll('\u0000', '');
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}
