import type { EventFilter } from '../ledger/event-filter.js';
import { filterVariables } from '../ledger/event-filter.js';
import { exportLine } from '../ledger/event-export.js';
import { checkInclusion, type InclusionVerdict } from '../ledger/inclusion-check.js';
import {
  LedgerEventAtSeqDocument,
  LedgerEventsDocument,
  LedgerExportDocument,
  LedgerInclusionProofDocument,
  LedgerIntegrityDocument,
  type LedgerEventAtSeqQuery,
  type LedgerEventsQuery,
  type LedgerExportQuery,
  type LedgerInclusionProofQuery,
  type LedgerIntegrityQuery,
} from '../../../src/client/generated/graphql.js';
import { runOperation } from './graphql-client.js';
import { ProblemError } from './problem.js';

export type LedgerEventRow = LedgerEventsQuery['ledgerEvents']['events'][number];
export type LedgerEventPage = LedgerEventsQuery['ledgerEvents'];
export type LedgerIntegrity = LedgerIntegrityQuery;

export const LEDGER_PAGE_SIZE = 25;

/** One page of the events after `afterSeq` that match the filter. */
export async function ledgerEventPage(
  csrfToken: string,
  afterSeq: number,
  filter: EventFilter,
): Promise<LedgerEventPage> {
  // An empty filter is no argument at all: the service reads an explicit value as one to match.
  const variables = { afterSeq, limit: LEDGER_PAGE_SIZE, ...filterVariables(filter) };
  const data = await runOperation(LedgerEventsDocument, variables, csrfToken);
  return data.ledgerEvents;
}

/** The chain verified end to end, and the latest signed checkpoint. */
export function ledgerIntegrity(csrfToken: string): Promise<LedgerIntegrity> {
  return runOperation(LedgerIntegrityDocument, {}, csrfToken);
}

// Under the API's query cost limit with the four fields an export line needs.
const EXPORT_PAGE = 500;

/** Every event matching the filter, as JSON lines of the service's NDJSON export. */
export async function exportEvents(csrfToken: string, filter: EventFilter): Promise<string[]> {
  const lines: string[] = [];
  let afterSeq: number | null = 0;
  while (afterSeq !== null) {
    const variables = { afterSeq, limit: EXPORT_PAGE, ...filterVariables(filter) };
    const data: LedgerExportQuery = await runOperation(LedgerExportDocument, variables, csrfToken);
    lines.push(...data.ledgerEvents.events.map(exportLine));
    afterSeq = data.ledgerEvents.nextAfterSeq ?? null;
  }
  return lines;
}

export type ProvenLedgerEvent = LedgerEventAtSeqQuery['ledgerEvents']['events'][number];
export type LedgerCheckpoint = NonNullable<LedgerEventAtSeqQuery['ledgerCheckpoint']>;
export type InclusionProof = LedgerInclusionProofQuery['inclusionProof'];

/** An event and where it stands against the latest checkpoint. */
export type EventProof =
  | {
      readonly kind: 'not-covered';
      readonly event: ProvenLedgerEvent;
      readonly checkpoint: LedgerCheckpoint | null;
    }
  | {
      readonly kind: 'proved';
      readonly event: ProvenLedgerEvent;
      readonly checkpoint: LedgerCheckpoint;
      readonly proof: InclusionProof;
      readonly verdict: InclusionVerdict;
    };

/**
 * Event `seq`, its inclusion proof in the tree of the latest checkpoint, and the browser's own
 * check of that proof against the checkpoint's root.
 */
export async function eventProof(csrfToken: string, seq: number): Promise<EventProof> {
  const found = await runOperation(LedgerEventAtSeqDocument, { afterSeq: seq - 1 }, csrfToken);
  const event = found.ledgerEvents.events[0];
  if (event?.seq !== seq) {
    throw new ProblemError({ code: 'NOT_FOUND', message: `The ledger has no event ${seq}.` });
  }
  const checkpoint = found.ledgerCheckpoint;
  if (checkpoint === null || checkpoint.treeSize < seq) {
    return { kind: 'not-covered', event, checkpoint };
  }
  const answer = await runOperation(
    LedgerInclusionProofDocument,
    { seq, treeSize: checkpoint.treeSize },
    csrfToken,
  );
  const proof = answer.inclusionProof;
  return {
    kind: 'proved',
    event,
    checkpoint,
    proof,
    verdict: await checkInclusion(event, proof, checkpoint),
  };
}
