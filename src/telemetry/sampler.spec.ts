import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { GatehouseRootSampler, samplerOf } from './sampler.js';

const decide = (sampler: GatehouseRootSampler, traceId: string, path: string) =>
  sampler.shouldSample(ROOT_CONTEXT, traceId, 'request', SpanKind.SERVER, { 'url.path': path }, [])
    .decision;

describe('the default sampler', () => {
  const traceIds = Array.from({ length: 2000 }, () => randomBytes(16).toString('hex'));

  it('samples every governance request', () => {
    const sampler = new GatehouseRootSampler(0);
    for (const path of ['/graphql', '/v1/artifacts', '/v1/batch-jobs', '/v2/models/credit'])
      expect(decide(sampler, traceIds[0]!, path)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('samples inference requests at the configured ratio, by trace id', () => {
    const sampler = new GatehouseRootSampler(0.1);
    const sampled = traceIds.filter(
      (id) =>
        decide(sampler, id, '/v2/models/credit/infer') === SamplingDecision.RECORD_AND_SAMPLED,
    ).length;
    expect(sampled / traceIds.length).toBeGreaterThan(0.05);
    expect(sampled / traceIds.length).toBeLessThan(0.15);
    expect(decide(new GatehouseRootSampler(0), traceIds[0]!, '/v2/models/credit/infer')).toBe(
      SamplingDecision.NOT_RECORD,
    );
  });

  it('maps the standard sampler names', () => {
    expect(samplerOf({ kind: 'always_off' }, 1).toString()).toMatch(/AlwaysOff/);
    expect(samplerOf({ kind: 'parentbased_traceidratio', ratio: 0.5 }, 1).toString()).toMatch(
      /ParentBased.*0\.5/,
    );
    expect(samplerOf({ kind: 'gatehouse' }, 0.1).toString()).toMatch(/GatehouseRootSampler/);
  });
});
