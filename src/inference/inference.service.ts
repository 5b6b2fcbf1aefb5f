import { Inject, Injectable, Logger } from '@nestjs/common';
import type { TensorSpec } from '../artifacts/artifact.entity.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import type { LoggedTensor, PredictionArm } from '../prediction-log/prediction.js';
import { PredictionLog } from '../prediction-log/prediction-log.service.js';
import { roundLatency } from '../prediction-log/prediction-digest.js';
import type { ServedVersion } from './endpoint-state.js';
import { EndpointRouter } from './endpoint-router.service.js';
import { ModelFailureError, NoLiveVersionError } from './inference.errors.js';
import { ModelExecutor } from './model-executor.js';
import { ModelRuntime } from './model-runtime.js';
import { uuidV7 } from './request-id.js';
import {
  checkTensors,
  presentOutputs,
  readEnvelope,
  type CheckedRequest,
  type InferEnvelope,
  type OutputTensor,
} from './oip-tensors.js';
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
 * Real-time inference: route the request to a version by the endpoint's traffic state, check
 * its tensors against that version's signature, run it, answer, and queue the prediction for
 * the log. In SHADOW mode a sampled share of requests is also run on the candidate after the
 * answer is on its way; what the candidate does never reaches the client.
 */
@Injectable()
export class InferenceService {
  private static readonly logger = new Logger('Inference');
  private readonly maxRows: number;

  constructor(
    private readonly router: EndpointRouter,
    private readonly executor: ModelExecutor,
    private readonly runtime: ModelRuntime,
    private readonly log: PredictionLog,
    @Inject(CONFIG) config: Config,
  ) {
    this.maxRows = config.inference.maxRowsPerRequest;
  }

  async infer(endpoint: string, body: unknown, routingKeyHeader?: string): Promise<InferResponse> {
    const envelope = readEnvelope(body);
    const state = this.router.peek(endpoint) ?? (await this.router.state(endpoint));
    const key = routingKeyHeader || envelope.routingKey;
    const keyHash = key === undefined ? null : routingKeyHash(key);
    const bucket = keyHash === null ? randomBucket() : bucketOfHash(keyHash);
    const arm = answeringArm(state.split, bucket);
    const served = arm === 'candidate' ? state.candidate : state.live;
    if (!served) throw new NoLiveVersionError(endpoint);
    const request = checkTensors(envelope, served.signature, this.maxRows);
    const id = envelope.id ?? uuidV7();
    const outputs = await this.answer(endpoint, served, arm, request, id, keyHash);
    if (state.candidate && isMirrored(state.split, bucket)) {
      const candidate = state.candidate;
      setImmediate(() => {
        void this.shadow(endpoint, candidate, envelope, id, keyHash);
      });
    }
    return { id, model_name: endpoint, model_version: String(served.version), outputs };
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

  /** Runs the version, logs the prediction (or its failure) and returns the outputs. */
  private async answer(
    endpoint: string,
    served: ServedVersion,
    arm: PredictionArm,
    request: CheckedRequest,
    requestId: string,
    routingKeyHash: string | null,
  ): Promise<OutputTensor[]> {
    const started = performance.now();
    const createdAt = new Date();
    const inputs = loggedInputs(request);
    let outputs: OutputTensor[];
    try {
      const raw = await this.executor.run(served.artifactSha256, request.inputs, request.rows);
      outputs = presentOutputs(raw, served.signature.outputs, request.outputs);
    } catch (error) {
      const reason = messageOf(error);
      this.log.record({
        requestId,
        endpoint,
        modelVersion: served.version,
        arm,
        inputs,
        outputs: null,
        error: reason,
        latencyMs: roundLatency(performance.now() - started),
        routingKeyHash,
        createdAt,
      });
      throw new ModelFailureError(endpoint, served.version, reason);
    }
    this.log.record({
      requestId,
      endpoint,
      modelVersion: served.version,
      arm,
      inputs,
      outputs: outputs.map(loggedOutput),
      error: null,
      latencyMs: roundLatency(performance.now() - started),
      routingKeyHash,
      createdAt,
    });
    return outputs;
  }

  /** The candidate's answer to a mirrored request, for the log only; never throws. */
  private async shadow(
    endpoint: string,
    candidate: ServedVersion,
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
      return;
    }
    try {
      await this.answer(endpoint, candidate, 'shadow', request, requestId, routingKeyHash);
    } catch (error) {
      // Already logged with arm 'shadow'; the client was answered by the live version.
      InferenceService.logger.debug(
        `shadow run on ${endpoint}@${candidate.version}: ${messageOf(error)}`,
      );
    }
  }
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
