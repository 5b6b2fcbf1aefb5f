import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BadInputError, DomainError, httpStatusOf, NotFoundError } from '../common/errors.js';
import { textFault } from '../common/text-rules.js';
import {
  checkTensors,
  NonFiniteOutputError,
  presentOutputs,
  readEnvelope,
  type CheckedRequest,
  type ModelSignature,
  type OutputTensor,
  type RawTensor,
} from '../inference/oip-tensors.js';
import {
  checkMediaType,
  inferEndpointOf,
  parseInferBody,
  readBody,
  send,
  UnsupportedMediaTypeError,
} from '../inference/oip-http.js';
import { ModelFailureError } from '../inference/inference.errors.js';
import { uuidV7 } from '../inference/request-id.js';
import { routingKeyHash } from '../inference/traffic-split.js';
import type { LoggedTensor, PredictionArm } from '../prediction-log/prediction.js';
import { roundLatency } from '../prediction-log/prediction-digest.js';
import {
  datatypeOf,
  ort,
  ortTypeOf,
  SESSION_OPTIONS,
  type InferenceSession,
} from '../runtime/ort.js';
import type { EdgeBundle } from './edge-bundle-verify.js';
import type { EdgeSpec } from './edge-bundle-format.js';
import type { DeviceLogFile } from './device-log-file.js';

/**
 * The edge runtime (`gatehouse edge serve`): a verified bundle's model answered over the same
 * Open Inference Protocol paths as the service, with the service's own request checks
 * (src/inference/oip-tensors.ts, oip-http.ts), and every prediction appended to the device
 * log. No database, no framework, no network beyond the port it answers on (polling for newer
 * bundles is edge-bundle-poller.ts's, which swaps them in here): it starts in the time ONNX
 * Runtime takes to load the model.
 *
 * It serves arms, as the service does: each a model with its spec, run on every request it
 * is offered; one of them answers. A shadow bundle's candidate runs on the same requests and
 * is logged under its own arm without answering.
 */

/** One model the runtime runs: its session, its spec, whether its answer is sent. */
export interface EdgeArm {
  readonly arm: PredictionArm;
  readonly answers: boolean;
  readonly spec: EdgeSpec;
  /** The manifest subject digest of the bundle the model came from. */
  readonly bundleSha256: string;
  readonly session: InferenceSession;
  readonly signature: ModelSignature;
}

export interface EdgeRuntimeOptions {
  readonly arms: readonly EdgeArm[];
  readonly log: DeviceLogFile;
  readonly maxRows?: number;
  readonly bodyLimitBytes?: number;
}

/** Rows per request, as the service's default (GATEHOUSE_INFER_MAX_ROWS). */
const MAX_ROWS = 1024;
/** The service's default body limit (GATEHOUSE_BODY_LIMIT_BYTES). */
const BODY_LIMIT = 1024 * 1024;
const MAX_ERROR_LENGTH = 1000;

/**
 * The arms of a verified bundle, as the service runs a request of the device's assignment: a
 * live bundle's model answering as `live`; in a shadow bundle, the live model answering and
 * the candidate beside it as `shadow`; in a canary bundle, the candidate answering as
 * `candidate`.
 */
export async function armsOf(bundle: EdgeBundle): Promise<EdgeArm[]> {
  const bundleSha256 = bundle.manifest.subject[0].digest.sha256;
  const arm = async (
    name: PredictionArm,
    answers: boolean,
    model: Uint8Array,
    spec: EdgeSpec,
  ): Promise<EdgeArm> => ({
    arm: name,
    answers,
    spec,
    bundleSha256,
    session: await ort.InferenceSession.create(model, SESSION_OPTIONS),
    signature: spec.signature,
  });
  const candidate = bundle.candidate;
  if (candidate?.assignment.mode === 'canary')
    return [await arm('candidate', true, candidate.model, candidate.spec)];
  const live = await arm('live', true, bundle.model, bundle.spec);
  if (!candidate) return [live];
  return [live, await arm('shadow', false, candidate.model, candidate.spec)];
}

/**
 * The arms serving at one time. A request takes the set current when it starts and keeps it to
 * the end; a set swapped out has its sessions released once the last request on it is done.
 */
interface ArmSet {
  readonly arms: readonly EdgeArm[];
  readonly answering: EdgeArm;
  inFlight: number;
  retired: boolean;
}

function armSetOf(arms: readonly EdgeArm[]): ArmSet {
  const answering = arms.filter((a) => a.answers);
  if (answering.length !== 1 || !answering[0])
    throw new Error('exactly one arm answers the requests');
  return { arms, answering: answering[0], inFlight: 0, retired: false };
}

function release(set: ArmSet): Promise<unknown> {
  return Promise.allSettled(set.arms.map((a) => a.session.release()));
}

export class EdgeRuntime {
  private readonly server: Server;
  private readonly endpoint: string;
  private current: ArmSet;
  private closing = false;

  constructor(private readonly options: EdgeRuntimeOptions) {
    this.current = armSetOf(options.arms);
    this.endpoint = this.current.answering.spec.endpoint;
    this.server = createServer((request, response) => {
      void this.handle(request, response);
    });
  }

  /** The arms serving now. */
  get arms(): readonly EdgeArm[] {
    return this.current.arms;
  }

  /**
   * Puts `arms` (loaded, of a verified bundle of the same endpoint) in place of those serving,
   * in one assignment: a request already under way finishes on the arms it started with, every
   * later one runs on the new arms, and none sees some of each.
   */
  swap(arms: readonly EdgeArm[]): void {
    const next = armSetOf(arms);
    if (next.answering.spec.endpoint !== this.endpoint)
      throw new Error(
        `a bundle of endpoint ${next.answering.spec.endpoint} cannot replace one of ${this.endpoint}`,
      );
    const old = this.current;
    this.current = next;
    old.retired = true;
    if (old.inFlight === 0) void release(old);
  }

  listen(port: number, host: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const address = this.server.address() as AddressInfo;
        const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        resolve(`http://${shown}:${address.port}`);
      });
    });
  }

  /** Stops taking requests, lets those under way finish, syncs and closes the log. */
  async close(): Promise<void> {
    this.closing = true;
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
      this.server.closeIdleConnections();
    });
    this.options.log.close();
    await release(this.current);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      if (this.closing)
        throw new DomainError('UNAVAILABLE', 'shutting down: send the request again');
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      const infer = inferEndpointOf(request.url ?? '');
      if (infer !== undefined && request.method === 'POST') {
        this.served(infer);
        checkMediaType(request.headers['content-type']);
        const body = parseInferBody(
          await readBody(request, this.options.bodyLimitBytes ?? BODY_LIMIT, 'the edge runtime'),
        );
        const routingKey = request.headers['x-routing-key'];
        const set = this.current;
        set.inFlight++;
        let answer: Awaited<ReturnType<EdgeRuntime['infer']>>;
        try {
          answer = await this.infer(
            set,
            body,
            typeof routingKey === 'string' ? routingKey : undefined,
          );
        } finally {
          set.inFlight--;
          if (set.retired && set.inFlight === 0) void release(set);
        }
        send(response, 200, JSON.stringify(answer), this.closing);
        return;
      }
      if (request.method !== 'GET')
        throw new NotFoundError('route', `${request.method ?? ''} ${path}`);
      if (path === '/v2/health/live') {
        send(response, 200, JSON.stringify({ live: true }));
        return;
      }
      if (path === '/v2/health/ready') {
        send(response, 200, JSON.stringify({ ready: true, endpoint: this.endpoint }));
        return;
      }
      const model = /^\/v2\/models\/([^/]+)(\/ready)?$/.exec(path);
      if (model?.[1] !== undefined) {
        this.served(decodeURIComponent(model[1]));
        if (model[2]) {
          send(response, 200, JSON.stringify({ name: this.endpoint, ready: true }));
          return;
        }
        send(response, 200, JSON.stringify(this.metadata()));
        return;
      }
      throw new NotFoundError('route', `GET ${path}`);
    } catch (error) {
      const { status, body } = answerOf(error);
      send(response, status, JSON.stringify(body), status === 413 || this.closing);
    }
  }

  private served(endpoint: string): void {
    const fault = textFault(endpoint);
    if (fault) throw new BadInputError('endpoint', fault);
    if (endpoint !== this.endpoint)
      throw new DomainError(
        'NOT_FOUND',
        `endpoint ${endpoint} is not served here; this device serves ${this.endpoint}`,
        {
          endpoint,
        },
      );
  }

  private metadata(): Record<string, unknown> {
    const { arms, answering } = this.current;
    const { spec, signature } = answering;
    return {
      name: this.endpoint,
      versions: [String(spec.version)],
      platform: 'onnxruntime',
      // Beyond the protocol's members: what runs here, so that a device's state can be read.
      arms: arms.map((a) => ({
        arm: a.arm,
        version: a.spec.version,
        answers: a.answers,
        bundleSha256: a.bundleSha256,
      })),
      inputs: signature.inputs.map((s) => ({
        name: s.name,
        datatype: s.datatype,
        shape: [...s.shape],
      })),
      outputs: signature.outputs.map((s) => ({
        name: s.name,
        datatype: s.datatype,
        shape: [...s.shape],
      })),
    };
  }

  private async infer(
    set: ArmSet,
    body: unknown,
    routingKeyHeader: string | undefined,
  ): Promise<{ id: string; model_name: string; model_version: string; outputs: OutputTensor[] }> {
    const envelope = readEnvelope(body);
    const { answering } = set;
    const request = checkTensors(envelope, answering.signature, this.options.maxRows ?? MAX_ROWS);
    const id = envelope.id ?? uuidV7();
    const key = routingKeyHeader || envelope.routingKey;
    const keyHash = key === undefined ? null : routingKeyHash(key);
    let answer: OutputTensor[] | undefined;
    let failure: unknown;
    // Every arm runs the request and is logged; the others' failures never reach the client.
    for (const arm of set.arms) {
      const checked = arm === answering ? request : tryCheck(envelope, arm, this.options.maxRows);
      const outcome = await this.run(arm, checked, id, keyHash);
      if (arm === answering) {
        if ('outputs' in outcome) answer = outcome.outputs;
        else failure = outcome.failure;
      }
    }
    if (answer === undefined)
      throw new ModelFailureError(this.endpoint, answering.spec.version, messageOf(failure));
    return {
      id,
      model_name: this.endpoint,
      model_version: String(answering.spec.version),
      outputs: answer,
    };
  }

  /** Runs one arm and appends its record to the device log, answered or failed. */
  private async run(
    arm: EdgeArm,
    request: CheckedRequest | Error,
    requestId: string,
    routingKeyHash: string | null,
  ): Promise<{ outputs: OutputTensor[] } | { failure: unknown }> {
    const ts = new Date().toISOString();
    const started = performance.now();
    const inputs = request instanceof Error ? [] : loggedInputs(request);
    let outputs: OutputTensor[] | undefined;
    let failure: unknown;
    try {
      if (request instanceof Error) throw request;
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
      for (const input of request.inputs)
        feeds[input.name] = new ort.Tensor(
          (ortTypeOf(input.datatype) ?? 'float32') as 'float32',
          input.data as Float32Array,
          [...input.shape],
        );
      const result = await arm.session.run(feeds);
      const raw = new Map<string, RawTensor>();
      for (const [name, tensor] of Object.entries(result)) {
        raw.set(name, {
          datatype: datatypeOf(tensor.type),
          shape: tensor.dims.map(Number),
          data: tensor.data,
        });
        tensor.dispose();
      }
      outputs = presentOutputs(raw, arm.signature.outputs, request.outputs);
    } catch (error) {
      failure = error;
    }
    const latencyMs = roundLatency(performance.now() - started);
    this.options.log.append({
      arm: arm.arm,
      bundleSha256: arm.bundleSha256,
      endpoint: arm.spec.endpoint,
      error: outputs === undefined ? messageOf(failure) : null,
      inputs,
      latencyMs,
      model: arm.spec.model,
      modelVersion: arm.spec.version,
      outputs: outputs === undefined ? null : outputs.map(loggedOutput),
      requestId,
      routingKeyHash,
      ts,
    });
    return outputs === undefined ? { failure } : { outputs };
  }
}

function tryCheck(
  envelope: ReturnType<typeof readEnvelope>,
  arm: EdgeArm,
  maxRows = MAX_ROWS,
): CheckedRequest | Error {
  try {
    return checkTensors(envelope, arm.signature, maxRows);
  } catch (error) {
    return new Error(
      `the request does not fit the ${arm.arm} arm's signature: ${messageOf(error)}`,
    );
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

function messageOf(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).replaceAll('\u0000', '');
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}

/** The service's error body and status (src/common/client-error.ts) for what went wrong here. */
function answerOf(error: unknown): { status: number; body: unknown } {
  if (error instanceof DomainError) {
    const status =
      error instanceof UnsupportedMediaTypeError
        ? 415
        : error.code === 'UNAVAILABLE'
          ? 503
          : httpStatusOf(error.code);
    return {
      status,
      body: { error: { code: error.code, message: error.message, details: error.details } },
    };
  }
  const message = error instanceof NonFiniteOutputError ? error.message : 'internal error';
  if (!(error instanceof NonFiniteOutputError))
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  return { status: 500, body: { error: { code: 'INTERNAL', message } } };
}
