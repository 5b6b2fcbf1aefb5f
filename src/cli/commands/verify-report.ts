/**
 * `gatehouse verify-report FILE [--jwks FILE] [--witnesses FILE] [--witness-key VKEY …]
 * [--witness-quorum N] [--json]`: checks an exported audit report offline — no database, no
 * network, no service configuration, nothing written. Exit 0 when intact, 1 naming every check
 * that failed, 2 when the files or keys cannot be read.
 */
import { readFileSync } from 'node:fs';
import { NOTE_COSIGNATURE_V1, parseVkey, type NoteVerifierKey } from '../../ledger/signed-note.js';
import type { Jwks } from '../../reports/report-document.js';
import {
  verifyReport,
  type ReportVerification,
  type ReportWitnessing,
  type WitnessTrust,
} from '../../reports/report-verify.js';
import { parseWitnessesFile } from '../../witnessing/witnesses-file.js';
import { EXIT } from '../exit.js';

export interface VerifyReportOptions {
  readonly jwks?: string;
  readonly witnesses?: string;
  readonly witnessKey?: readonly string[];
  readonly witnessQuorum?: string;
  readonly json?: boolean;
}

export async function verifyReportCommand(
  file: string,
  options: VerifyReportOptions,
): Promise<void> {
  let text: string;
  let jwks: Jwks | undefined;
  let witnesses: WitnessTrust | undefined;
  try {
    text = readFileSync(file, 'utf8');
    if (options.jwks !== undefined)
      jwks = parseJwks(readFileSync(options.jwks, 'utf8'), options.jwks);
    witnesses = witnessTrust(options);
  } catch (error) {
    process.stderr.write(`gatehouse: ${(error as Error).message}\n`);
    process.exitCode = EXIT.usage;
    return;
  }
  const result = await verifyReport(text, {
    ...(jwks === undefined ? {} : { jwks }),
    ...(witnesses === undefined ? {} : { witnesses }),
  });
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : human(result));
  process.exitCode = result.ok ? EXIT.ok : EXIT.failed;
}

function parseJwks(text: string, path: string): Jwks {
  const value: unknown = JSON.parse(text);
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error(`${path}: not a JWK set ({"keys": [...]})`);
  return value as Jwks;
}

/** The witness keys of the file and of each --witness-key, and the quorum; none without either. */
function witnessTrust(options: VerifyReportOptions): WitnessTrust | undefined {
  const keys: NoteVerifierKey[] = [];
  if (options.witnesses !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.witnesses, 'utf8');
      keys.push(...parseWitnessesFile(text).map((w) => w.key));
    } catch (error) {
      throw new Error(`--witnesses ${options.witnesses}: ${(error as Error).message}`);
    }
  }
  for (const vkey of options.witnessKey ?? []) {
    let key: NoteVerifierKey;
    try {
      key = parseVkey(vkey);
    } catch (error) {
      throw new Error(`--witness-key ${vkey}: ${(error as Error).message}`);
    }
    if (key.type !== NOTE_COSIGNATURE_V1)
      throw new Error(
        `--witness-key ${vkey}: a witness key is a cosignature key, of type 0x04 (this one signs notes, 0x01)`,
      );
    keys.push(key);
  }
  const names = new Set(keys.map((k) => k.name)).size;
  if (keys.length === 0) {
    if (options.witnessQuorum !== undefined)
      throw new Error('--witness-quorum needs --witnesses or --witness-key');
    return undefined;
  }
  const quorum = options.witnessQuorum === undefined ? names : Number(options.witnessQuorum);
  if (quorum < 1 || quorum > names)
    throw new Error(`--witness-quorum: from 1 to the ${names} witnesses given, not ${quorum}`);
  return { keys, quorum };
}

function human(r: ReportVerification): string {
  const keys =
    r.keysFrom === 'jwks-file'
      ? 'the keys of the JWKS file given'
      : "the report's own keys (compare them with GET /.well-known/jwks.json, or pass --jwks)";
  const anchor = r.checkpoint
    ? `checkpoint ${r.checkpoint.treeSize} (root ${r.checkpoint.rootHash})`
    : 'no checkpoint';
  const witnessed = `  ${witnessLine(r.witnessed)}\n`;
  if (r.ok)
    return (
      `report intact: ${r.reportId ?? ''} (${r.subject ?? ''})\n` +
      `  ${r.eventsChecked} events, ${r.proofsChecked} inclusion proofs and ${r.signaturesChecked} signatures checked against ${anchor}\n` +
      witnessed +
      `  trusted keys: ${keys}\n`
    );
  const lines = r.failures.map((f) => `  ${f.check}: ${f.detail}\n`).join('');
  return `report NOT intact: ${r.reportId ?? '(unreadable)'}: ${r.failures.length} check(s) failed\n${lines}${witnessed}  trusted keys: ${keys}\n`;
}

/** "witnessed by … at …", or why the report cannot say so. */
function witnessLine(w: ReportWitnessing | null): string {
  if (w === null) return 'not witnessed: the report carries no readable checkpoint note';
  const by = w.by.map((b) => `${b.witness} at ${when(b.timestamp)}`).join(', ');
  if (!w.checked)
    return w.by.length === 0
      ? `not witnessed: checkpoint ${w.treeSize} carries no cosignature`
      : `witnesses not checked: checkpoint ${w.treeSize} says it is cosigned by ${by} (no trusted witness keys: pass --witnesses or --witness-key)`;
  if (w.by.length === 0)
    return `not witnessed: checkpoint ${w.treeSize} is cosigned by none of the ${w.trusted ?? 0} trusted witnesses`;
  return `witnessed by ${by}: checkpoint ${w.treeSize}, ${w.by.length} of ${w.trusted ?? 0} trusted witnesses, ${w.quorum ?? 0} needed`;
}

/** A cosignature's POSIX time as a UTC date when it is one, else as the number it states. */
function when(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime())
    ? `POSIX time ${seconds}`
    : date.toISOString().replace('.000Z', 'Z');
}
