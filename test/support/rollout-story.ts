import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHORT_ROLLOUT_ENV, writeShortPolicies } from '../../src/demo/short-policies.js';
import { issueDevToken, loadOrCreateDevIssuerKey } from '../../src/auth/dev-issuer.js';
import { PEOPLE } from '../../src/demo/story.js';
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

/**
 * A token for each of the story's PEOPLE, from the dev issuer whose key is in the service's
 * data folder (a `gatehouse serve` in development mode makes it at its first start).
 */
export async function peopleTokens(dataDir: string): Promise<Record<string, string>> {
  const key = await loadOrCreateDevIssuerKey(dataDir);
  const tokens: Record<string, string> = {};
  for (const [who, roles] of Object.entries(PEOPLE))
    tokens[who] = await issueDevToken(key, {
      sub: who,
      roles,
      ttlSeconds: 3600,
      audience: 'gatehouse',
      rolesClaim: 'roles',
    });
  return tokens;
}
