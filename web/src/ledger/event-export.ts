import type { EventFilter } from './event-filter.js';

/** One event as the export writes it: what the service's NDJSON export holds for it. */
export interface ExportedEvent {
  readonly canonical: string;
  readonly hash: string;
  readonly jws: string;
}

/**
 * One JSON line, `{"event": …, "hash": "…", "jws": "…"}`, the line of
 * `GET /v1/ledger/events`: the canonical text goes in byte for byte, so each line still checks
 * against its hash and signature with the JWKS alone.
 */
export function exportLine(event: ExportedEvent): string {
  return `{"event":${event.canonical},"hash":${JSON.stringify(event.hash)},"jws":${JSON.stringify(event.jws)}}\n`;
}

/** A file name that says what was exported: `ledger-events-type-x-actor-y.jsonl`. */
export function exportFileName(filter: EventFilter): string {
  const parts = (['type', 'subject', 'actor', 'from', 'to'] as const)
    .filter((key) => filter[key] !== '')
    .map((key) => `${key}-${filter[key]}`);
  const name = ['ledger-events', ...parts].join('-').replace(/[^A-Za-z0-9._@-]+/g, '_');
  return `${name.slice(0, 150)}.jsonl`;
}
