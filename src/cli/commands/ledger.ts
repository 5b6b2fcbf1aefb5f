import { CheckpointService } from '../../ledger/checkpoint.service.js';
import { LedgerKeysService } from '../../ledger/ledger-keys.service.js';
import { LedgerVerifierService } from '../../ledger/ledger-verifier.service.js';
import { readFileSync } from 'node:fs';
import { WitnessAudit, type WitnessAuditReport } from '../../witnessing/witness-audit.service.js';
import { parseWitnessesFile, type WitnessEndpoint } from '../../witnessing/witnesses-file.js';
import { withAppContext } from '../cli.module.js';
import { EXIT } from '../exit.js';

const OPERATOR = { sub: 'system:cli' };

export interface VerifyOptions {
  readonly from?: string;
  readonly to?: string;
  readonly json?: boolean;
  /** A witnesses file (the service's GATEHOUSE_WITNESSES format). */
  readonly witnesses?: string;
  readonly witnessQuorum?: string;
  /** Check the cosignatures the ledger keeps, without asking the witnesses. */
  readonly offline?: boolean;
}

/**
 * `gatehouse ledger verify`: exit 0 when intact, 1 naming the first failing seq and why. It only
 * reads, in read-only database sessions.
 */
export async function ledgerVerify(options: VerifyOptions): Promise<void> {
  const witnesses = options.witnesses === undefined ? undefined : readWitnesses(options.witnesses);
  if (witnesses === null) return;
  const quorum = intOrUndefined(options.witnessQuorum) ?? witnesses?.length ?? 0;
  if (witnesses !== undefined && (quorum < 1 || quorum > witnesses.length)) {
    process.stderr.write(
      `--witness-quorum: from 1 to the ${witnesses.length} witnesses of ${options.witnesses ?? ''}\n`,
    );
    process.exitCode = EXIT.usage;
    return;
  }
  const { report, audit } = await withAppContext('read-only', async (app, config) => {
    const report = await app
      .get(LedgerVerifierService)
      .verify(intOrUndefined(options.from), intOrUndefined(options.to));
    const audit =
      witnesses === undefined
        ? undefined
        : await app.get(WitnessAudit).check(witnesses, quorum, config.ledger.origin, {
            offline: options.offline === true,
          });
    return { report, audit };
  });
  // The ledger's own first failure, else the first a witness shows.
  const failure = report.failure ?? audit?.failure;
  const ok = failure === undefined;
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ ...report, ok, failure, ...(audit ? { witnesses: audit } : {}) })}\n`,
    );
  } else {
    if (failure) {
      process.stdout.write(
        `ledger NOT intact: seq ${failure.seq}: ${failure.reason} (${failure.detail})\n`,
      );
    } else {
      process.stdout.write(
        `ledger intact: events ${report.fromSeq}..${report.toSeq} (${report.eventsChecked} events, ` +
          `${report.signaturesChecked} signatures, ${report.checkpointsChecked} checkpoints) in ${report.durationMs} ms\n`,
      );
    }
    if (audit) process.stdout.write(witnessLines(audit));
  }
  process.exitCode = ok ? EXIT.ok : EXIT.failed;
}

/** The witnesses file, or null after saying why it cannot be read (exit 2). */
function readWitnesses(file: string): WitnessEndpoint[] | null {
  try {
    return parseWitnessesFile(readFileSync(file, 'utf8'));
  } catch (error) {
    process.stderr.write(`--witnesses: ${file}: ${(error as Error).message}\n`);
    process.exitCode = EXIT.usage;
    return null;
  }
}

function witnessLines(audit: WitnessAuditReport): string {
  const at = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
  const lines = [
    audit.witnessed
      ? `witnessed: tree size ${audit.witnessed.treeSize}, cosigned by ${audit.witnessed.by.map((b) => `${b.witness} at ${at(b.timestamp)}`).join(', ')} (quorum ${audit.quorum})`
      : `witnessed: no checkpoint the ledger keeps is cosigned by the quorum of ${audit.quorum}`,
    ...audit.claims
      .filter((c) => c.source === 'witness')
      .map(
        (c) => `witness ${c.witness}: last cosigned tree size ${c.treeSize} at ${at(c.timestamp)}`,
      ),
    ...audit.silent.map((w) => `witness ${w}: has cosigned no checkpoint of ${audit.origin}`),
    ...audit.unreachable.map((u) => `witness ${u.witness}: not asked: ${u.reason}`),
  ];
  return lines.map((l) => `${l}\n`).join('');
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
