import { DomainError } from '../common/errors.js';
import { ConfigError } from '../config/config.js';
import { SigningKeyError } from '../ledger/signing-keys.js';
import { PolicyFileError } from '../policy/policy-file.js';

/** Exit statuses of the `gatehouse` command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Configuration, policy, key and input mistakes end the process with status 2 and one line
 * naming what is wrong; anything else is a failure (1) with its message.
 */
export function exitOnError(error: unknown): never {
  const usage =
    error instanceof ConfigError ||
    error instanceof PolicyFileError ||
    error instanceof SigningKeyError ||
    (error instanceof DomainError && error.code === 'BAD_USER_INPUT');
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`gatehouse: ${message}\n`);
  process.exit(usage ? EXIT.usage : EXIT.failed);
}
