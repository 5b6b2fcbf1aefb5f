import { spawnSync } from 'node:child_process';

/**
 * Whether `python3` runs here with the `cryptography` package, which the Python verifier of
 * docs/examples needs for Ed25519. CI machines have both; a fresh machine may not, and there
 * the tests that run that verifier are skipped (say so) rather than failed: they test the
 * example's agreement with docs/edge.md, not the service.
 */
export function pythonWithCryptography(): boolean {
  return canRun(['-c', 'import cryptography.hazmat.primitives.asymmetric.ed25519']);
}

/** Whether `python3` runs here at all (its standard library's tarfile reads bundles). */
export function python3(): boolean {
  return canRun(['-c', 'import tarfile']);
}

function canRun(args: readonly string[]): boolean {
  const run = spawnSync('python3', args, { stdio: 'ignore' });
  const ok = run.status === 0;
  if (!ok)
    process.stderr.write(
      `python3 ${args.join(' ')} failed here: the tests that need it are skipped\n`,
    );
  return ok;
}
