import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';
import type { TraceSampler } from '../config/config.js';
import { isInferencePath } from './inference-tracing.js';

/** The request path a root span was started with, under either HTTP semantic convention. */
function pathOf(attributes: Attributes): string | undefined {
  const path = attributes['url.path'] ?? attributes['http.target'] ?? attributes['http.route'];
  return typeof path === 'string' ? path : undefined;
}

/**
 * The default root sampler: every governance request and job is traced (they are few, and an
 * auditor follows a ledger event to its trace), while inference requests — the hot path, many
 * per second — are traced at `inferenceRatio`, decided on the trace id so that every replica
 * and every downstream service agrees.
 */
export class GatehouseRootSampler implements Sampler {
  private readonly inference: TraceIdRatioBasedSampler;

  constructor(private readonly inferenceRatio: number) {
    this.inference = new TraceIdRatioBasedSampler(inferenceRatio);
  }

  shouldSample(
    context: Context,
    traceId: string,
    _spanName: string,
    _spanKind: SpanKind,
    attributes: Attributes,
    _links: Link[],
  ): SamplingResult {
    const path = pathOf(attributes);
    if (path !== undefined && isInferencePath(path))
      return this.inference.shouldSample(context, traceId);
    return { decision: SamplingDecision.RECORD_AND_SAMPLED };
  }

  toString(): string {
    return `GatehouseRootSampler{inferenceRatio=${this.inferenceRatio}}`;
  }
}

/**
 * The sampler of the configuration. Parent-based variants follow an incoming `traceparent`'s
 * sampled flag, so a trace started by a client is kept or dropped as a whole.
 */
export function samplerOf(config: TraceSampler, inferenceRatio: number): Sampler {
  switch (config.kind) {
    case 'gatehouse':
      return new ParentBasedSampler({ root: new GatehouseRootSampler(inferenceRatio) });
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(config.ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.ratio) });
  }
}
