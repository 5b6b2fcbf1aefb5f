/**
 * `gatehouse verify-report FILE [--jwks FILE] [--json]`: checks an exported audit report
 * offline — no database, no network, no service configuration. Exit 0 when intact, 1 naming
 * every check that failed, 2 when the files cannot be read.
 */
import { readFileSync } from 'node:fs';
import type { Jwks } from '../../reports/report-document.js';
import { verifyReport, type ReportVerification } from '../../reports/report-verify.js';
import { EXIT } from '../exit.js';

export interface VerifyReportOptions {
  readonly jwks?: string;
  readonly json?: boolean;
}

export async function verifyReportCommand(
  file: string,
  options: VerifyReportOptions,
): Promise<void> {
  let text: string;
  let jwks: Jwks | undefined;
  try {
    text = readFileSync(file, 'utf8');
    if (options.jwks !== undefined)
      jwks = parseJwks(readFileSync(options.jwks, 'utf8'), options.jwks);
  } catch (error) {
    process.stderr.write(`gatehouse: ${(error as Error).message}\n`);
    process.exitCode = EXIT.usage;
    return;
  }
  const result = await verifyReport(text, jwks === undefined ? {} : { jwks });
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : human(result));
  process.exitCode = result.ok ? EXIT.ok : EXIT.failed;
}

function parseJwks(text: string, path: string): Jwks {
  const value: unknown = JSON.parse(text);
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error(`${path}: not a JWK set ({"keys": [...]})`);
  return value as Jwks;
}

function human(r: ReportVerification): string {
  const keys =
    r.keysFrom === 'jwks-file'
      ? 'the keys of the JWKS file given'
      : "the report's own keys (compare them with GET /.well-known/jwks.json, or pass --jwks)";
  const anchor = r.checkpoint
    ? `checkpoint ${r.checkpoint.treeSize} (root ${r.checkpoint.rootHash})`
    : 'no checkpoint';
  if (r.ok)
    return (
      `report intact: ${r.reportId ?? ''} (${r.subject ?? ''})\n` +
      `  ${r.eventsChecked} events, ${r.proofsChecked} inclusion proofs and ${r.signaturesChecked} signatures checked against ${anchor}\n` +
      `  trusted keys: ${keys}\n`
    );
  const lines = r.failures.map((f) => `  ${f.check}: ${f.detail}\n`).join('');
  return `report NOT intact: ${r.reportId ?? '(unreadable)'}: ${r.failures.length} check(s) failed\n${lines}  trusted keys: ${keys}\n`;
}
