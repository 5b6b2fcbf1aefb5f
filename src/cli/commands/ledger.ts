import { CheckpointService } from '../../ledger/checkpoint.service.js';
import { LedgerKeysService } from '../../ledger/ledger-keys.service.js';
import { LedgerVerifierService } from '../../ledger/ledger-verifier.service.js';
import { withAppContext } from '../cli.module.js';
import { EXIT } from '../exit.js';

const OPERATOR = { sub: 'system:cli' };

export interface VerifyOptions {
  readonly from?: string;
  readonly to?: string;
  readonly json?: boolean;
}

/**
 * `gatehouse ledger verify`: exit 0 when intact, 1 naming the first failing seq and why. It only
 * reads, in read-only database sessions.
 */
export async function ledgerVerify(options: VerifyOptions): Promise<void> {
  const report = await withAppContext('read-only', (app) =>
    app.get(LedgerVerifierService).verify(intOrUndefined(options.from), intOrUndefined(options.to)),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else if (report.failure) {
    process.stdout.write(
      `ledger NOT intact: seq ${report.failure.seq}: ${report.failure.reason} (${report.failure.detail})\n`,
    );
  } else {
    process.stdout.write(
      `ledger intact: events ${report.fromSeq}..${report.toSeq} (${report.eventsChecked} events, ` +
        `${report.signaturesChecked} signatures, ${report.checkpointsChecked} checkpoints) in ${report.durationMs} ms\n`,
    );
  }
  process.exitCode = report.ok ? EXIT.ok : EXIT.failed;
}

/** `gatehouse ledger checkpoint`: prints the signed checkpoint as JSON. */
export async function ledgerCheckpoint(): Promise<void> {
  const made = await withAppContext('read-write', (app) =>
    app.get(CheckpointService).create(OPERATOR),
  );
  process.stdout.write(
    `${JSON.stringify({ checkpoint: made.checkpoint, jws: made.jws, created: made.created })}\n`,
  );
}

/** `gatehouse keys rotate [--kid KID]`: to a new key, or to one already in the keys folder. */
export async function keysRotate(options: { kid?: string }): Promise<void> {
  const rotated = await withAppContext('read-write', (app) =>
    app.get(LedgerKeysService).rotate(OPERATOR, options.kid),
  );
  process.stdout.write(
    `${JSON.stringify({ kid: rotated.key.kid, previousKid: rotated.previousKid, eventSeq: rotated.seq })}\n`,
  );
}

function intOrUndefined(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}
