import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHORT_ROLLOUT_ENV, writeShortPolicies } from '../../src/demo/short-policies.js';
import { CANDIDATES_AT_NORMAL_PRIORITY } from './app.js';

/** The client story (src/demo/story.ts), shared with the demo and the rollout benchmark. */
export * from '../../src/demo/story.js';

/**
 * Short rollout minimums, every staged strategy for HIGH risk, and lenient gates: a test
 * shows a faulty version caught on traffic, so its evaluation must not stop it first.
 */
export function fastPolicies(): string {
  return writeShortPolicies(mkdtempSync(join(tmpdir(), 'gatehouse-rollout-policies-')), {
    lenientGates: true,
  });
}

export const FAST_ROLLOUT_ENV: Record<string, string> = {
  ...SHORT_ROLLOUT_ENV,
  ...CANDIDATES_AT_NORMAL_PRIORITY,
  GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
};
