import {
  LedgerEventsDocument,
  LedgerIntegrityDocument,
  type LedgerEventsQuery,
  type LedgerIntegrityQuery,
} from './generated/graphql.js';
import { runOperation } from './graphql-client.js';

export type LedgerEventRow = LedgerEventsQuery['ledgerEvents']['events'][number];
export type LedgerEventPage = LedgerEventsQuery['ledgerEvents'];
export type LedgerIntegrity = LedgerIntegrityQuery;

export const LEDGER_PAGE_SIZE = 25;

/** One page of events after `afterSeq`, of one type when `type` is not empty. */
export async function ledgerEventPage(
  csrfToken: string,
  afterSeq: number,
  type: string,
): Promise<LedgerEventPage> {
  // No filter is no `type` at all: the service reads an explicit null as a type to match.
  const variables = { afterSeq, limit: LEDGER_PAGE_SIZE, ...(type === '' ? {} : { type }) };
  const data = await runOperation(LedgerEventsDocument, variables, csrfToken);
  return data.ledgerEvents;
}

/** The chain verified end to end, and the latest signed checkpoint. */
export function ledgerIntegrity(csrfToken: string): Promise<LedgerIntegrity> {
  return runOperation(LedgerIntegrityDocument, {}, csrfToken);
}
