import { ConfigError } from '../config/config.js';
import { PolicyFileError } from '../policy/policy-file.js';

/** Exit statuses of the `gatehouse` command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Configuration and policy mistakes end the process with status 2 and one line naming what
 * is wrong; anything else is a failure (1) with its message.
 */
export function exitOnError(error: unknown): never {
  if (error instanceof ConfigError || error instanceof PolicyFileError) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
    process.exit(EXIT.usage);
  }
  process.stderr.write(`gatehouse: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(EXIT.failed);
}
