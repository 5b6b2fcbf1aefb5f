/**
 * The files of an audit report as the console handles them: where each format is fetched,
 * the name it is saved under, which kind a chosen file is, the JWKS an auditor pins, and the
 * reports the ledger says were exported. Pure: no fetch, no DOM.
 */
import type { Jwks, PublicKey } from '../../src/reports/report-document.js';

export const REPORT_FORMATS = ['JSON', 'PDF', 'CSV'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const EXTENSIONS: Record<ReportFormat, string> = { JSON: 'json', PDF: 'pdf', CSV: 'csv' };

/** `GET /v1/reports/{id}.{json|pdf|csv}`: the extension chooses the format, whatever was exported. */
export function reportPath(id: string, format: ReportFormat): string {
  return `/v1/reports/${encodeURIComponent(id)}.${EXTENSIONS[format]}`;
}

/**
 * The file name the service gives in `Content-Disposition`, else `fallback`. Only a plain name
 * is kept: the browser would strip a path, but a name is shown on the page as well.
 */
export function downloadName(contentDisposition: string | null, fallback: string): string {
  const name = /filename="([^"]*)"/.exec(contentDisposition ?? '')?.[1];
  return name !== undefined && /^[\w.-]{1,200}$/.test(name) ? name : fallback;
}

/**
 * What a chosen file is. Only the JSON report is verified, as `gatehouse verify-report` does:
 * the PDF and the CSV are renderings of the signed JSON and carry no signature over themselves.
 */
export type ReportFileKind = 'json' | 'pdf' | 'csv' | 'other';

export function reportFileKind(text: string): ReportFileKind {
  if (text.startsWith('%PDF-')) return 'pdf';
  if (/^seq,ts,type,/.test(text)) return 'csv';
  if (text.trimStart().startsWith('{')) return 'json';
  return 'other';
}

export type PinnedJwks =
  | { readonly ok: true; readonly jwks: Jwks; readonly kids: readonly string[] }
  | { readonly ok: false; readonly problem: string };

/**
 * The JWK set the auditor pins, read for its shape only: whether each key is an Ed25519 key
 * whose kid is its thumbprint is the verifier's to judge (its `keys` check), so the page and
 * `gatehouse verify-report --jwks` judge the same file the same way.
 */
export function parsePinnedJwks(text: string): PinnedJwks {
  if (text.trim() === '')
    return { ok: false, problem: 'the JWKS is empty: paste it or choose its file' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `the JWKS is not JSON: ${(error as Error).message}` };
  }
  if (!isRecord(value) || !Array.isArray(value['keys']))
    return { ok: false, problem: 'the JWKS must be a JWK set: {"keys": [...]}' };
  const keys: unknown[] = value['keys'];
  if (keys.length === 0) return { ok: false, problem: 'keys: the JWKS holds no key' };
  for (const [i, key] of keys.entries()) {
    if (!isRecord(key)) return { ok: false, problem: `keys[${String(i)}]: must be a JWK object` };
    for (const member of ['kty', 'crv', 'x', 'kid'])
      if (typeof key[member] !== 'string')
        return { ok: false, problem: `keys[${String(i)}].${member}: must be a string` };
  }
  const jwks = value as unknown as Jwks;
  return { ok: true, jwks, kids: jwks.keys.map((key: PublicKey) => key.kid) };
}

/** A report as its `report.exported` event records it. */
export interface ExportedReport {
  readonly id: string;
  readonly subject: string;
  readonly format: ReportFormat;
  readonly sha256: string;
  readonly eventCount: number;
  readonly treeSize: number;
  readonly seq: number;
  readonly ts: string;
  readonly exportedBy: string;
}

/** The report a `report.exported` event records, or null for a payload not of that shape. */
export function exportedReportOf(event: {
  readonly seq: number;
  readonly ts: string;
  readonly actor: { readonly sub: string };
  readonly payload: Record<string, unknown>;
}): ExportedReport | null {
  const p = event.payload;
  const format = REPORT_FORMATS.find((candidate) => candidate === p['format']);
  if (
    typeof p['reportId'] !== 'string' ||
    typeof p['subject'] !== 'string' ||
    format === undefined ||
    typeof p['sha256'] !== 'string' ||
    typeof p['events'] !== 'number' ||
    typeof p['treeSize'] !== 'number'
  )
    return null;
  return {
    id: p['reportId'],
    subject: p['subject'],
    format,
    sha256: p['sha256'],
    eventCount: p['events'],
    treeSize: p['treeSize'],
    seq: event.seq,
    ts: event.ts,
    exportedBy: event.actor.sub,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
