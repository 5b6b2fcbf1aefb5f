import { useEffect, useRef, type ReactNode } from 'react';
import { eventProof, type EventProof } from '../api/ledger.js';
import type { Session } from '../api/session.js';
import { ProblemView } from '../problem-view.js';
import { Link } from '../router.js';
import { useLoaded } from '../use-loaded.js';

/**
 * One event's inclusion proof in the tree of the latest checkpoint, checked in this browser:
 * the leaf hash recomputed from the event's canonical text and the audit path folded up to the
 * checkpoint's signed root, trusting neither the service's leaf hash nor its root.
 */
export function EventProofView({ session, seq }: { session: Session; seq: number }): ReactNode {
  const proof = useLoaded(() => eventProof(session.csrfToken, seq), [session.csrfToken, seq]);
  // A proof chosen on the page takes the focus, as a page of its own would: the route stays
  // the Ledger page's, so the console's move of focus to new content does not happen.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, [seq]);
  return (
    <section aria-labelledby="proof-title" aria-busy={proof.state === 'loading'} className="proof">
      <h2 id="proof-title" tabIndex={-1} ref={heading}>
        Inclusion proof of event {seq}
      </h2>
      {proof.state === 'loading' && <p role="status">Loading and checking the proof…</p>}
      {proof.state === 'failed' && (
        <ProblemView title="The proof could not be loaded" problem={proof.problem} />
      )}
      {proof.state === 'loaded' && <ProofReport proof={proof.value} />}
      <p>
        <Link to="/ledger">Close the proof</Link>
      </p>
    </section>
  );
}

function ProofReport({ proof }: { proof: EventProof }): ReactNode {
  const { event } = proof;
  return (
    <>
      {proof.kind === 'proved' ? (
        <p role="status" className={proof.verdict.included ? 'ok' : 'failed'}>
          {proof.verdict.included
            ? `Verified in this browser: the audit path leads from the event's leaf hash to the root of the checkpoint of ${proof.checkpoint.treeSize} events.`
            : `Not verified: ${proof.verdict.reason}.`}
        </p>
      ) : (
        <p role="status">
          {proof.checkpoint === null
            ? 'No checkpoint has been signed yet: the event can be proved once one is.'
            : `The latest checkpoint covers ${proof.checkpoint.treeSize} events: event ${event.seq} can be proved once a checkpoint covers it.`}
        </p>
      )}
      <dl className="facts">
        <dt>Event</dt>
        <dd>
          {event.type} about {event.subject} by {event.actor.sub} at {event.ts} (UTC)
        </dd>
        <dt>Event hash</dt>
        <dd>
          <code className="hash">{event.hash}</code>
        </dd>
        {proof.kind === 'proved' && (
          <>
            <dt>Leaf hash recomputed here (SHA-256 of 0x00 and the canonical text)</dt>
            <dd>
              <code className="hash">{proof.verdict.leafHash}</code>
            </dd>
            <dt>Checkpoint</dt>
            <dd>
              {proof.checkpoint.treeSize} events, signed {proof.checkpoint.ts}, root{' '}
              <code className="hash">{proof.checkpoint.rootHash}</code>
            </dd>
            <dt>Audit path (RFC 9162, leaf {event.seq - 1}, bottom up)</dt>
            <dd>
              {proof.proof.proof.length === 0 ? (
                'Empty: the event is the whole tree.'
              ) : (
                <ol>
                  {proof.proof.proof.map((hash, index) => (
                    <li key={`${index}-${hash}`}>
                      <code className="hash">{hash}</code>
                    </li>
                  ))}
                </ol>
              )}
            </dd>
          </>
        )}
      </dl>
    </>
  );
}
