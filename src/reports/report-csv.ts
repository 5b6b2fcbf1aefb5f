/**
 * The CSV rendering of a report: one row per ledger event it carries, in seq order, for a
 * spreadsheet or a grep. The payload is the event's own RFC 8785 text, so a row can be matched
 * to the signed event byte for byte. Text cells that a spreadsheet would take for a formula
 * (an actor named `=HYPERLINK(…)`) are neutralised (src/common/csv-export.ts).
 */
import { csvText } from '../common/csv-export.js';
import { canonicalize } from '../ledger/canonical-json.js';
import { kidOf } from '../ledger/jws-verify.js';
import type { ReportBody } from './report-document.js';

export const CSV_COLUMNS = [
  'seq',
  'ts',
  'type',
  'subject',
  'actor',
  'actor_roles',
  'payload',
  'hash',
  'prev',
  'kid',
  'jws',
  'report_id',
  'checkpoint_tree_size',
  'checkpoint_root_hash',
] as const;

export function reportCsv(report: ReportBody): string {
  const cp = report.checkpoint.checkpoint;
  const rows = report.events.map((e) => [
    e.seq,
    e.event.ts,
    e.event.type,
    e.event.subject,
    e.event.actor.sub,
    (e.event.actor.roles ?? []).join(' '),
    canonicalize(e.event.payload),
    e.hash,
    e.event.prev,
    kidOf(e.jws) ?? '',
    e.jws,
    report.id,
    cp.treeSize,
    cp.rootHash,
  ]);
  return csvText([[...CSV_COLUMNS], ...rows], { record_delimiter: '\r\n' });
}
