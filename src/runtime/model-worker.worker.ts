import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readlinkSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { FromWorker, ToWorker, WireTensor, WorkerSettings } from './model-worker-protocol.js';

/**
 * A model thread (model-worker-pool.ts starts it): ONNX Runtime sessions of its own, one run
 * at a time, in the order the messages came. Self-contained on purpose: under the tests it
 * runs from this TypeScript source with the types stripped, which leaves no way to import
 * our other modules.
 */

const settings = workerData as WorkerSettings;

try {
  writeFileSync('/proc/thread-self/comm', settings.threadName);
} catch {
  // Not Linux: the thread keeps its name.
}
if (settings.niceness !== 0) {
  try {
    // This thread only: on Linux a thread's priority is its own. Under contention for the
    // cores, the main thread answering live requests comes first.
    setPriority(0, settings.niceness);
  } catch {
    // Not permitted here (some sandboxes): the thread runs at the service's priority.
  }
}
if (settings.idlePriority) {
  try {
    // SCHED_IDLE, this thread only (`chrt` applies to the thread id it is given): a niced
    // thread still keeps a core until its time slice is used (EEVDF's run-to-parity, up to
    // about 3 ms), so a woken live request, the log's writer or PostgreSQL waits behind it;
    // an idle-policy thread gives the core up the moment another wants it. Any process may
    // lower itself to it; none needs a capability. Without chrt, the nice value stays.
    const tid = readlinkSync('/proc/thread-self').split('/').at(-1) ?? '';
    spawnSync('chrt', ['--idle', '--pid', '0', tid], { stdio: 'ignore', timeout: 5000 });
  } catch {
    // Not Linux: the nice value (where there is one) is all.
  }
}

/** As in ort.ts: one intra-op thread, since the pool already runs threads side by side. */
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  logSeverityLevel: 4,
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

/** As `monotonicMs` in model-worker-protocol.ts. */
function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

async function load(sha256: string, bytes: Uint8Array): Promise<ort.InferenceSession> {
  // What was audited is what runs: the bytes crossed a thread boundary, so they are checked
  // again here, where the session is made from them.
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== sha256) throw new Error(`artifact ${sha256} does not match its digest`);
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  await warmUp(session);
  return session;
}

/** One run on zeros, so the first request does not pay for ONNX Runtime's lazy allocations. */
async function warmUp(session: ort.InferenceSession): Promise<void> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of session.inputMetadata) {
    if (!input.isTensor) return;
    const dims = input.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const size = dims.reduce((a, b) => a * b, 1);
    const data = zeros(input.type, size);
    if (!data) return;
    feeds[input.name] = new ort.Tensor(data, dims);
  }
  try {
    await session.run(feeds);
  } catch {
    // A model that fails on zeros still loads; its real requests will report their errors.
  }
}

function zeros(type: string, size: number): ort.Tensor.DataType | undefined {
  switch (type) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'int64':
      return new BigInt64Array(size);
    case 'uint8':
      return new Uint8Array(size);
    default:
      return undefined;
  }
}

/** The run's artifact has no session here; the pool loads it again for the next run. */
class NotLoaded extends Error {}

async function run(message: Extract<ToWorker, { kind: 'run' }>): Promise<FromWorker> {
  const loaded = sessions.get(message.sha256);
  if (!loaded) throw new NotLoaded(`artifact ${message.sha256} is not loaded in this thread`);
  let session: ort.InferenceSession;
  try {
    session = await loaded;
  } catch (error) {
    sessions.delete(message.sha256);
    throw new NotLoaded(
      `the model could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const feeds: Record<string, ort.Tensor> = {};
  for (const feed of message.feeds)
    feeds[feed.name] = new ort.Tensor(feed.type as 'float32', feed.data as Float32Array, [
      ...feed.dims,
    ]);
  const startedAt = monotonicMs();
  const result = await session.run(feeds);
  const endedAt = monotonicMs();
  const outputs: WireTensor[] = Object.entries(result).map(([name, tensor]) => ({
    name,
    type: tensor.type,
    dims: tensor.dims.map(Number),
    data: tensor.data,
  }));
  return { kind: 'ran', id: message.id, outputs, startedAt, endedAt };
}

async function handle(message: ToWorker): Promise<FromWorker | undefined> {
  switch (message.kind) {
    case 'load': {
      const loading = load(message.sha256, message.bytes);
      // A failed load is reported by the runs that need it.
      loading.catch(() => undefined);
      sessions.set(message.sha256, loading);
      await loading.catch(() => undefined);
      return undefined;
    }
    case 'release': {
      const session = sessions.get(message.sha256);
      sessions.delete(message.sha256);
      await session?.then((s) => s.release()).catch(() => undefined);
      return undefined;
    }
    case 'run':
      try {
        return await run(message);
      } catch (error) {
        return {
          kind: 'failed',
          id: message.id,
          error: error instanceof Error ? error.message : String(error),
          unloaded: error instanceof NotLoaded,
        };
      }
  }
}

const port = parentPort;
if (port) {
  let turn: Promise<void> = Promise.resolve();
  port.on('message', (message: ToWorker) => {
    turn = turn.then(async () => {
      const reply = await handle(message);
      if (reply) port.postMessage(reply);
    });
  });
}
