import { Injectable } from '@nestjs/common';
import { BadInputError } from '../common/errors.js';
import type { LedgerEvent } from './ledger-event.js';
import { LedgerRepository, type EventRow } from './ledger.repository.js';

export interface ReadEvent extends LedgerEvent {
  readonly hash: string;
  readonly jws: string;
  readonly canonical: string;
}

export const MAX_PAGE = 1000;

/** Reading the ledger: pages for GraphQL, a stream of pages for the NDJSON export. */
@Injectable()
export class LedgerReader {
  constructor(private readonly repository: LedgerRepository) {}

  async page(args: {
    afterSeq: number;
    limit: number;
    subject?: string | null | undefined;
    type?: string | null | undefined;
    actor?: string | null | undefined;
    from?: Date | null | undefined;
    to?: Date | null | undefined;
  }): Promise<{ events: ReadEvent[]; nextAfterSeq: number | null }> {
    if (!Number.isSafeInteger(args.afterSeq) || args.afterSeq < 0)
      throw new BadInputError('afterSeq', 'must be 0 or more');
    if (!Number.isSafeInteger(args.limit) || args.limit < 1 || args.limit > MAX_PAGE) {
      throw new BadInputError('limit', `must be from 1 to ${MAX_PAGE}`);
    }
    const from = instant('from', args.from);
    const to = instant('to', args.to);
    if (from !== undefined && to !== undefined && from.getTime() >= to.getTime()) {
      throw new BadInputError(
        'from',
        `must be before to (${from.toISOString()} is not before ${to.toISOString()})`,
      );
    }
    const rows = await this.repository.events({
      afterSeq: args.afterSeq,
      limit: args.limit + 1,
      subject: args.subject ?? undefined,
      type: args.type ?? undefined,
      actor: args.actor ?? undefined,
      from,
      to,
    });
    const events = rows.slice(0, args.limit).map(readEvent);
    return { events, nextAfterSeq: rows.length > args.limit ? (events.at(-1)?.seq ?? null) : null };
  }

  /** Every event after `afterSeq` (up to `limit` when given), in seq order, page by page. */
  async *stream(afterSeq: number, limit?: number, pageSize = 5000): AsyncGenerator<EventRow[]> {
    let after = afterSeq;
    let left = limit ?? Number.POSITIVE_INFINITY;
    while (left > 0) {
      const rows = await this.repository.events({
        afterSeq: after,
        limit: Math.min(pageSize, left),
      });
      if (rows.length === 0) return;
      yield rows;
      left -= rows.length;
      after = rows.at(-1)?.seq ?? after;
    }
  }
}

/**
 * A time bound as the DateTime scalar hands it over: that scalar turns any string into a Date,
 * an unreadable one into an invalid Date, which is refused here by name.
 */
function instant(field: string, value: Date | null | undefined): Date | undefined {
  if (value === null || value === undefined) return undefined;
  if (Number.isNaN(value.getTime())) {
    throw new BadInputError(field, 'must be an RFC 3339 date-time, e.g. 2026-12-01T00:00:00Z');
  }
  return value;
}

export function readEvent(row: EventRow): ReadEvent {
  return {
    ...(JSON.parse(row.canonical) as LedgerEvent),
    hash: row.hash,
    jws: row.jws,
    canonical: row.canonical,
  };
}

/** One NDJSON export line; the stored canonical text is embedded byte for byte. */
export function ndjsonLine(row: EventRow): string {
  return `{"event":${row.canonical},"hash":"${row.hash}","jws":"${row.jws}"}\n`;
}
