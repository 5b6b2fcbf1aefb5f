import { ProblemError } from '../client/problem.js';
import { DomainError } from '../common/errors.js';
import { ConfigError } from '../config/config.js';
import { SigningKeyError } from '../ledger/signing-keys.js';
import { MlflowModelError } from '../mlflow/mlflow-model.js';
import { PolicyFileError } from '../policy/policy-file.js';
import { ReleaseFileError } from '../release/release-file.js';
import { CredentialsError } from './remote/credentials.js';
import { WitnessConfigError } from '../witness/witness-config.js';

/**
 * Exit statuses of the `gatehouse` command, for a pipeline to branch on (docs/pipelines.md).
 * 1 is anything unexpected: the service unreachable, an answer not understood, a bug.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  /** Bad input: a flag, a file, the release against the policy. Fix the input and rerun. */
  usage: 2,
  /** The gates refused the promotion. */
  gatesFailed: 3,
  /** Rejected by an approver, or withdrawn. */
  rejected: 4,
  /** Gave up waiting (approvals, a rollout) at --timeout; nothing was changed by giving up. */
  timedOut: 5,
  /** The rollout was rolled back. */
  rolledBack: 6,
  /** No token, an expired one, or one whose roles do not allow the verb. */
  unauthorized: 7,
  /** The service's state is in the way: another open promotion, a model that differs. */
  conflict: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit status of a failed call to the service, by the service's error code. */
export function exitOfProblemCode(code: string): ExitCode {
  switch (code) {
    case 'BAD_USER_INPUT':
    case 'NOT_FOUND':
    case 'PAYLOAD_TOO_LARGE':
      return EXIT.usage;
    case 'GATE_FAILED':
      return EXIT.gatesFailed;
    case 'UNAUTHENTICATED':
    case 'FORBIDDEN':
    case 'SEPARATION_OF_DUTIES':
      return EXIT.unauthorized;
    case 'CONFLICT':
      return EXIT.conflict;
    default:
      return EXIT.failed;
  }
}

export function exitOf(error: unknown): ExitCode {
  if (error instanceof ProblemError) return exitOfProblemCode(error.problem.code);
  if (error instanceof DomainError) return exitOfProblemCode(error.code);
  if (
    error instanceof ConfigError ||
    error instanceof PolicyFileError ||
    error instanceof SigningKeyError ||
    error instanceof ReleaseFileError ||
    error instanceof MlflowModelError ||
    error instanceof WitnessConfigError
  )
    return EXIT.usage;
  if (error instanceof CredentialsError) return EXIT.unauthorized;
  return EXIT.failed;
}

/**
 * Configuration, policy, key and input mistakes end the process with status 2 and one line
 * naming what is wrong; a refusal by the service with the status its code maps to; anything
 * else is a failure (1) with its message.
 */
export function exitOnError(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`gatehouse: ${message}\n`);
  process.exit(exitOf(error));
}
