import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { MicroBatcher, type FeedTensor, type MicroBatchStats } from './micro-batch.js';
import { ModelRuntime } from '../runtime/model-runtime.service.js';
import type { RawTensor } from './oip-tensors.js';
import { datatypeOf, ort, ortTypeOf, type Tensor } from '../runtime/ort.js';

/**
 * Runs model versions for real-time inference: sessions from the shared ModelRuntime, and,
 * when configured, concurrent requests to one artifact merged into one run.
 */
@Injectable()
export class ModelExecutor {
  private readonly batcher: MicroBatcher;

  constructor(
    private readonly runtime: ModelRuntime,
    @Inject(CONFIG) config: Config,
  ) {
    this.batcher = new MicroBatcher({
      maxRows: config.inference.microBatchMaxRows,
      waitMs: config.inference.microBatchWaitMs,
    });
  }

  run(sha256: string, feeds: readonly FeedTensor[], rows: number): Promise<Map<string, RawTensor>> {
    return this.batcher.submit(sha256, feeds, rows, (merged) => this.runNow(sha256, merged));
  }

  microBatchStats(): MicroBatchStats & { readonly enabled: boolean } {
    return { enabled: this.batcher.enabled, ...this.batcher.stats() };
  }

  private runNow(sha256: string, feeds: readonly FeedTensor[]): Promise<Map<string, RawTensor>> {
    return this.runtime.use(sha256, async ({ session }) => {
      const inputs: Record<string, Tensor> = {};
      for (const feed of feeds) {
        const type = ortTypeOf(feed.datatype);
        if (type === undefined) throw new Error(`datatype ${feed.datatype} cannot be fed`);
        inputs[feed.name] = new ort.Tensor(type as 'float32', feed.data as Float32Array, [
          ...feed.shape,
        ]);
      }
      const result = await session.run(inputs);
      const outputs = new Map<string, RawTensor>();
      for (const [name, tensor] of Object.entries(result)) {
        outputs.set(name, {
          datatype: datatypeOf(tensor.type),
          shape: tensor.dims.map(Number),
          data: tensor.data,
        });
      }
      return outputs;
    });
  }
}
