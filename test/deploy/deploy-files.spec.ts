import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The deployment files cannot be applied here (no cluster, no Docker), so their offline check
 * runs with the tests: YAML that parses, objects that name themselves, policy copies identical
 * to policies/, every environment variable one the service reads. A change to the policies or
 * the configuration that forgets deploy/ fails here rather than in a user's cluster.
 */
describe('deploy/ and docker-compose.yml', () => {
  it('pass deploy/kubernetes/check.mjs', () => {
    const run = spawnSync(process.execPath, ['deploy/kubernetes/check.mjs'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(run.stderr + run.stdout).toMatch(/^ok: /m);
    expect(run.status).toBe(0);
  });
});
