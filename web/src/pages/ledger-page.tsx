import { useId, useState, type SubmitEvent, type ReactNode } from 'react';
import {
  LEDGER_PAGE_SIZE,
  ledgerEventPage,
  ledgerIntegrity,
  type LedgerEventPage,
  type LedgerIntegrity,
} from '../api/ledger.js';
import type { Session } from '../api/session.js';
import { ProblemView } from '../problem-view.js';
import { useLoaded } from '../use-loaded.js';

/** The ledger: whether the chain verifies, its latest checkpoint, and its events page by page. */
export function LedgerPage({ session }: { session: Session }): ReactNode {
  return (
    <>
      <h1>Ledger</h1>
      <Integrity session={session} />
      <Events session={session} />
    </>
  );
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
  const [typeInput, setTypeInput] = useState('');
  const [type, setType] = useState('');
  // The afterSeq of every page shown so far: the last is the current page's.
  const [cursors, setCursors] = useState<readonly number[]>([0]);
  // Each Filter press reads afresh, the same filter included: the ledger only grows.
  const [reads, setReads] = useState(0);
  const afterSeq = cursors[cursors.length - 1] ?? 0;
  const page = useLoaded<LedgerEventPage>(
    () => ledgerEventPage(session.csrfToken, afterSeq, type),
    [session.csrfToken, afterSeq, type, reads],
  );
  const filter = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setType(typeInput.trim());
    setCursors([0]);
    setReads(reads + 1);
  };
  const next = page.state === 'loaded' ? page.value.nextAfterSeq : null;
  return (
    <section aria-labelledby={`${id}-title`} aria-busy={page.state === 'loading'}>
      <h2 id={`${id}-title`}>Events</h2>
      <form className="filter" onSubmit={filter} role="search" aria-label="Filter events">
        <label htmlFor={`${id}-type`}>Event type</label>
        <input
          id={`${id}-type`}
          name="type"
          placeholder="e.g. promotion.approved"
          value={typeInput}
          onChange={(event) => {
            setTypeInput(event.target.value);
          }}
        />
        <button type="submit">Filter</button>
      </form>
      {page.state === 'loading' && <p role="status">Loading events…</p>}
      {page.state === 'failed' && (
        <ProblemView title="The events could not be loaded" problem={page.problem} />
      )}
      {page.state === 'loaded' && page.value.events.length === 0 && (
        <p role="status">
          {type === '' ? 'The ledger has no events yet.' : `No events of type “${type}”.`}
        </p>
      )}
      {page.state === 'loaded' && page.value.events.length > 0 && (
        <EventTable page={page.value} type={type} />
      )}
      <nav className="pager" aria-label="Event pages">
        <button
          type="button"
          disabled={cursors.length < 2}
          onClick={() => {
            setCursors(cursors.slice(0, -1));
          }}
        >
          Previous {LEDGER_PAGE_SIZE}
        </button>
        <button
          type="button"
          disabled={next === null}
          onClick={() => {
            if (next !== null) setCursors([...cursors, next]);
          }}
        >
          Next {LEDGER_PAGE_SIZE}
        </button>
      </nav>
    </section>
  );
}

function EventTable({ page, type }: { page: LedgerEventPage; type: string }): ReactNode {
  const first = page.events[0]?.seq;
  const last = page.events[page.events.length - 1]?.seq;
  return (
    <table>
      <caption>
        Events {first}–{last}
        {type === '' ? '' : ` of type “${type}”`}
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
            <td>{event.seq}</td>
            <td>{event.ts}</td>
            <td>{event.type}</td>
            <td>{event.subject}</td>
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
