import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

/**
 * The shipped policies with the rollout minimums (windows, shadow and canary durations and
 * request counts) cut down so that a rollout runs in seconds: for the demo, the rollout tests
 * and the rollout benchmark. Nothing else changes unless `lenientGates` is set, which also
 * allows every staged strategy for HIGH risk and lets a faulty version through the fairness
 * and performance gates (its faults show only on traffic, which the rollout must then catch).
 */
export function writeShortPolicies(dir: string, options: { lenientGates: boolean }): string {
  mkdirSync(dir, { recursive: true });
  const shipped = shippedPolicies();
  for (const file of ['roles.yaml', 'evaluation.yaml'])
    copyFileSync(join(shipped, file), join(dir, file));
  const policy = parse(readFileSync(join(shipped, 'promotion.yaml'), 'utf8')) as {
    criteriaWindow: Record<string, unknown>;
    tiers: Record<string, Record<string, unknown>>;
  };
  policy.criteriaWindow = { minRequests: 20, minDuration: '1s', maxDuration: '7d' };
  const high = policy.tiers['HIGH'] ?? {};
  high['shadow'] = { minRequests: 20, minDuration: '1s' };
  high['canary'] = { maxStepPercent: 50, minBake: '1s', minRequestsPerStep: 20 };
  if (options.lenientGates) {
    high['strategies'] = ['SHADOW_THEN_CANARY', 'CANARY', 'SHADOW', 'BLUE_GREEN', 'AB_TEST'];
    high['fairness'] = { minGroupSize: 30, minDisparateImpact: 0.5 };
    high['performance'] = { metrics: ['rocAuc'], maxDegradation: 1 };
    high['abTest'] = { minSamples: 20, maxSignificanceLevel: 0.05 };
  }
  writeFileSync(join(dir, 'promotion.yaml'), stringify(policy));
  return dir;
}

/** Settings that make the rollout controller and the metrics quick enough for seconds. */
export const SHORT_ROLLOUT_ENV: Readonly<Record<string, string>> = {
  GATEHOUSE_ROLLOUT_TICK_MS: '100',
  GATEHOUSE_ARM_METRICS_FLUSH_MS: '100',
  GATEHOUSE_PREDICTION_LOG_FLUSH_MS: '100',
  GATEHOUSE_ROLLOUT_LEASE_SECONDS: '2',
};

/** The repository's policies/ folder, from src/demo or from its build in dist/. */
function shippedPolicies(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'policies', 'promotion.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no policies/ folder above this module');
    dir = parent;
  }
  return join(dir, 'policies');
}
