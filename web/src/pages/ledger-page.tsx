import { useId, useState, type ReactNode } from 'react';
import {
  LEDGER_PAGE_SIZE,
  ledgerEventPage,
  ledgerIntegrity,
  type LedgerEventPage,
  type LedgerIntegrity,
} from '../api/ledger.js';
import type { Session } from '../api/session.js';
import { describeFilter, NO_FILTER, type EventFilter } from '../ledger/event-filter.js';
import { EventProofView } from '../ledger/event-proof-view.js';
import { ExportButton } from '../ledger/export-button.js';
import { FilterForm } from '../ledger/filter-form.js';
import { Pager, useCursorTrail } from '../pager.js';
import { ProblemView } from '../problem-view.js';
import { Link, useSearchParam } from '../router.js';
import { useLoaded } from '../use-loaded.js';

/**
 * The ledger: whether the chain verifies, its latest checkpoint, and its events page by page,
 * filtered and exported; `?seq=N` shows event N's inclusion proof, checked in the browser.
 */
export function LedgerPage({ session }: { session: Session }): ReactNode {
  const seq = seqOf(useSearchParam('seq'));
  return (
    <>
      <h1>Ledger</h1>
      <Integrity session={session} />
      {seq !== null && <EventProofView session={session} seq={seq} />}
      <Events session={session} />
    </>
  );
}

// GraphQL's Int, which carries seq, is 32 bits.
const MAX_SEQ = 2 ** 31 - 1;

/** A link's `seq`, when it names an event the API can be asked about. */
function seqOf(text: string | null): number | null {
  if (text === null || !/^[1-9]\d{0,9}$/.test(text)) return null;
  const seq = Number(text);
  return seq <= MAX_SEQ ? seq : null;
}

function Integrity({ session }: { session: Session }): ReactNode {
  const integrity = useLoaded(() => ledgerIntegrity(session.csrfToken), [session.csrfToken]);
  return (
    <section aria-labelledby="integrity-title" aria-busy={integrity.state === 'loading'}>
      <h2 id="integrity-title">Integrity</h2>
      {integrity.state === 'loading' && <p role="status">Verifying the ledger…</p>}
      {integrity.state === 'failed' && (
        <ProblemView title="The ledger could not be verified" problem={integrity.problem} />
      )}
      {integrity.state === 'loaded' && <IntegrityReport integrity={integrity.value} />}
    </section>
  );
}

function IntegrityReport({ integrity }: { integrity: LedgerIntegrity }): ReactNode {
  const report = integrity.verifyLedger;
  const checkpoint = integrity.ledgerCheckpoint;
  return (
    <dl className="facts">
      <dt>Verification</dt>
      <dd>
        {report.ok ? (
          <span className="ok">
            Verified: {report.eventsChecked} events (seq {report.fromSeq}–{report.toSeq}),{' '}
            {report.signaturesChecked} signatures, {report.checkpointsChecked} checkpoints in{' '}
            {report.durationMs} ms
          </span>
        ) : (
          <span className="failed">
            Failed at seq {report.failure?.seq ?? '?'}: {report.failure?.reason ?? 'unknown'}
            {report.failure ? ` (${report.failure.detail})` : ''}
          </span>
        )}
      </dd>
      <dt>Latest checkpoint</dt>
      <dd>
        {checkpoint ? (
          <>
            {checkpoint.treeSize} events, signed {checkpoint.ts}, root{' '}
            <code className="hash">{checkpoint.rootHash}</code>
          </>
        ) : (
          'No checkpoint has been signed yet.'
        )}
      </dd>
    </dl>
  );
}

function Events({ session }: { session: Session }): ReactNode {
  const id = useId();
  const [filter, setFilter] = useState<EventFilter>(NO_FILTER);
  // The afterSeq of every page shown so far.
  const trail = useCursorTrail(0);
  // Each Filter press reads afresh, the same filter included: the ledger only grows.
  const [reads, setReads] = useState(0);
  const afterSeq = trail.cursor;
  const page = useLoaded<LedgerEventPage>(
    () => ledgerEventPage(session.csrfToken, afterSeq, filter),
    [session.csrfToken, afterSeq, filter, reads],
  );
  const next = page.state === 'loaded' ? page.value.nextAfterSeq : null;
  const described = describeFilter(filter);
  return (
    <section aria-labelledby={`${id}-title`} aria-busy={page.state === 'loading'}>
      <h2 id={`${id}-title`}>Events</h2>
      <FilterForm
        onFilter={(chosen) => {
          setFilter(chosen);
          trail.restart();
          setReads(reads + 1);
        }}
      />
      <ExportButton session={session} filter={filter} />
      {page.state === 'loading' && <p role="status">Loading events…</p>}
      {page.state === 'failed' && (
        <ProblemView title="The events could not be loaded" problem={page.problem} />
      )}
      {page.state === 'loaded' && page.value.events.length === 0 && (
        <p role="status">
          {described === '' ? 'The ledger has no events yet.' : `No events ${described}.`}
        </p>
      )}
      {page.state === 'loaded' && page.value.events.length > 0 && (
        <>
          <p className="hint">An event's seq opens its inclusion proof.</p>
          <EventTable page={page.value} described={described} />
        </>
      )}
      <Pager label="Event pages" size={LEDGER_PAGE_SIZE} trail={trail} next={next} />
    </section>
  );
}

function EventTable({ page, described }: { page: LedgerEventPage; described: string }): ReactNode {
  const first = page.events[0]?.seq;
  const last = page.events[page.events.length - 1]?.seq;
  return (
    <table>
      <caption>
        Events {first}–{last}
        {described === '' ? '' : ` ${described}`}
      </caption>
      <thead>
        <tr>
          <th scope="col">Seq</th>
          <th scope="col">Time (UTC)</th>
          <th scope="col">Type</th>
          <th scope="col">Subject</th>
          <th scope="col">Actor</th>
          <th scope="col">Hash</th>
        </tr>
      </thead>
      <tbody>
        {page.events.map((event) => (
          <tr key={event.id}>
            <td>
              <Link to={`/ledger?seq=${event.seq}`}>{event.seq}</Link>
            </td>
            <td>{event.ts}</td>
            <td>{event.type}</td>
            <td className="subject">{event.subject}</td>
            <td>
              {event.actor.sub}
              {event.actor.roles && event.actor.roles.length > 0
                ? ` (${event.actor.roles.join(', ')})`
                : ''}
            </td>
            <td>
              <code className="hash" title={event.hash}>
                {event.hash.slice(0, 12)}…
              </code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
