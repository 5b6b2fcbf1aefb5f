import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { BlobStore } from '../blobs/blob-store.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { ort, SESSION_OPTIONS, signatureOf, type InferenceSession } from './ort.js';
import { scoresOf, type ScoringSpec } from './scoring.js';
import type { TensorSpec } from './tensor-spec.js';

/** A loaded ONNX Runtime session for one artifact. */
export interface LoadedModel {
  readonly sha256: string;
  readonly session: InferenceSession;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

interface Entry {
  readonly sha256: string;
  readonly estimatedBytes: number;
  loaded: Promise<LoadedModel>;
  users: number;
  lastUsed: number;
}

/**
 * Every ONNX Runtime session of the process, one per artifact, shared by real-time inference,
 * batch jobs and evaluations. A session is loaded from the blob store only after its bytes
 * are checked against their digest (what was audited is what runs), warmed with one run
 * before first use, and kept while the memory budget allows; beyond it the least recently
 * used idle session is closed. A session's size is estimated as three times its file (the
 * weights, ONNX Runtime's optimized copy and its arena), which errs on the safe side for the
 * small tabular models this service governs.
 */
@Injectable()
export class ModelRuntime implements OnApplicationShutdown {
  private static readonly logger = new Logger('ModelRuntime');
  private readonly entries = new Map<string, Entry>();
  private readonly budget: number;

  constructor(
    private readonly blobs: BlobStore,
    @Inject(CONFIG) config: Config,
  ) {
    this.budget = config.inference.sessionMemoryBudgetBytes;
  }

  /** Runs `work` with the artifact's session, loading it first if needed. */
  async use<T>(sha256: string, work: (model: LoadedModel) => Promise<T>): Promise<T> {
    const entry = this.entryFor(sha256);
    entry.users++;
    entry.lastUsed = performance.now();
    try {
      return await work(await entry.loaded);
    } finally {
      entry.users--;
      entry.lastUsed = performance.now();
    }
  }

  /** Loads (and warms) a session ahead of its first request. */
  async warm(sha256: string): Promise<LoadedModel> {
    return this.use(sha256, (model) => Promise.resolve(model));
  }

  /** The artifact's session, if it is loaded now. */
  isLoaded(sha256: string): boolean {
    return this.entries.has(sha256);
  }

  /** Estimated bytes held by loaded sessions. */
  loadedBytes(): number {
    let sum = 0;
    for (const entry of this.entries.values()) sum += entry.estimatedBytes;
    return sum;
  }

  /**
   * Scores `rows` rows of features (row-major, `spec.featureColumns.length` per row): one
   * score per row from the score output at the version's index.
   */
  async score(
    spec: ScoringSpec & { readonly artifactSha256: string },
    features: Float32Array,
    rows: number,
  ): Promise<Float64Array> {
    const width = spec.featureColumns.length;
    if (features.length !== rows * width)
      throw new Error(`expected ${rows * width} feature values, got ${features.length}`);
    return this.use(spec.artifactSha256, async ({ session, inputs }) => {
      const input = inputs.find((i) => i.name === spec.inputName);
      const data = input?.datatype === 'FP64' ? Float64Array.from(features) : features;
      const tensor = new ort.Tensor(input?.datatype === 'FP64' ? 'float64' : 'float32', data, [
        rows,
        width,
      ]);
      const result = await session.run({ [spec.inputName]: tensor }, [spec.scoreOutput]);
      const output = result[spec.scoreOutput];
      if (!output) throw new Error(`the model did not return output ${spec.scoreOutput}`);
      const scores = scoresOf(output.data, rows, spec.scoreIndex);
      output.dispose();
      if (!scores)
        throw new Error(
          `output ${spec.scoreOutput} has no value at index ${spec.scoreIndex} for each of ${rows} rows`,
        );
      return scores;
    });
  }

  async onApplicationShutdown(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.allSettled(entries.map(async (e) => (await e.loaded).session.release()));
  }

  private entryFor(sha256: string): Entry {
    const existing = this.entries.get(sha256);
    if (existing) return existing;
    const entry: Entry = {
      sha256,
      estimatedBytes: 0,
      loaded: Promise.resolve(undefined as never),
      users: 0,
      lastUsed: performance.now(),
    };
    entry.loaded = this.load(sha256).then(
      (loaded) => {
        Object.assign(entry, { estimatedBytes: loaded.bytes * 3 });
        this.evictBeyondBudget(entry);
        return loaded.model;
      },
      (error: unknown) => {
        // A failed load is not cached: the next request tries again.
        this.entries.delete(sha256);
        throw error;
      },
    );
    this.entries.set(sha256, entry);
    return entry;
  }

  private async load(sha256: string): Promise<{ model: LoadedModel; bytes: number }> {
    const bytes = await this.blobs.readVerified(sha256);
    const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
    const model: LoadedModel = {
      sha256,
      session,
      inputs: signatureOf(session.inputMetadata),
      outputs: signatureOf(session.outputMetadata),
    };
    await warmUp(model);
    ModelRuntime.logger.log(`loaded ${sha256.slice(0, 12)} (${bytes.length} bytes)`);
    return { model, bytes: bytes.length };
  }

  private evictBeyondBudget(keep: Entry): void {
    let total = this.loadedBytes();
    const idle = [...this.entries.values()]
      .filter((e) => e !== keep && e.users === 0 && e.estimatedBytes > 0)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    for (const victim of idle) {
      if (total <= this.budget) break;
      this.entries.delete(victim.sha256);
      total -= victim.estimatedBytes;
      void victim.loaded.then((m) => m.session.release()).catch(() => undefined);
      ModelRuntime.logger.log(`evicted ${victim.sha256.slice(0, 12)} (memory budget)`);
    }
  }
}

/**
 * One run on a row of zeros, so that the first real request does not pay for ONNX Runtime's
 * lazy allocations. Models with inputs this cannot fill (strings, non-tensors) are not warmed.
 */
async function warmUp(model: LoadedModel): Promise<void> {
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (const input of model.inputs) {
    const shape = input.shape.map((d) => (d < 0 ? 1 : d));
    const size = shape.reduce((a, b) => a * b, 1);
    const data = zeros(input.datatype, size);
    if (data === undefined) return;
    feeds[input.name] = new ort.Tensor(data, shape);
  }
  try {
    await model.session.run(feeds);
  } catch {
    // A model that fails on zeros still loads; its real requests will report their errors.
  }
}

function zeros(
  datatype: string,
  size: number,
): Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | undefined {
  switch (datatype) {
    case 'FP32':
      return new Float32Array(size);
    case 'FP64':
      return new Float64Array(size);
    case 'INT32':
      return new Int32Array(size);
    case 'INT64':
      return new BigInt64Array(size);
    case 'UINT8':
      return new Uint8Array(size);
    default:
      return undefined;
  }
}
