import { useEffect, useState, type ReactNode } from 'react';
import { problemOf, type Problem } from '../api/problem.js';
import { pendingPromotionPages, type PendingPromotion } from '../api/promotions.js';
import type { Session } from '../api/session.js';
import { approvalStanding } from '../approval-standing.js';
import { ProblemView } from '../problem-view.js';
import { Link } from '../router.js';

interface InboxEntry {
  readonly request: PendingPromotion;
  /** The missing roles the signer holds. */
  readonly roles: readonly string[];
}

interface RefusedEntry extends InboxEntry {
  readonly code: string;
  readonly reason: string;
}

/** Pending requests that wait for a role the signer holds: theirs to sign, or not and why. */
function sortInbox(
  requests: readonly PendingPromotion[],
  session: Session,
): { waiting: InboxEntry[]; refused: RefusedEntry[] } {
  const waiting: InboxEntry[] = [];
  const refused: RefusedEntry[] = [];
  for (const request of requests) {
    const standing = approvalStanding(request, session);
    if (standing.kind === 'may-approve') waiting.push({ request, roles: standing.roles });
    if (standing.kind === 'may-not-approve') {
      refused.push({
        request,
        roles: standing.roles,
        code: standing.code,
        reason: standing.reason,
      });
    }
  }
  return { waiting, refused };
}

type Pending =
  | { readonly state: 'loading' }
  | { readonly state: 'failed'; readonly problem: Problem }
  | { readonly state: 'reading' | 'loaded'; readonly requests: readonly PendingPromotion[] };

/**
 * The pending requests, shown from the first page on while the later pages are read: with a
 * thousand pending, the first rows appear after one page instead of all of them.
 */
function usePending(csrfToken: string): Pending {
  const [pending, setPending] = useState<Pending>({ state: 'loading' });
  useEffect(() => {
    let live = true;
    setPending({ state: 'loading' });
    const read = async (): Promise<void> => {
      const requests: PendingPromotion[] = [];
      for await (const page of pendingPromotionPages(csrfToken)) {
        if (!live) return;
        requests.push(...page);
        setPending({ state: 'reading', requests: [...requests] });
      }
      if (live) setPending({ state: 'loaded', requests });
    };
    read().catch((error: unknown) => {
      if (live) setPending({ state: 'failed', problem: problemOf(error) });
    });
    return () => {
      live = false;
    };
  }, [csrfToken]);
  return pending;
}

/** The promotion requests waiting for a role the signed-in person holds. */
export function InboxPage({ session }: { session: Session }): ReactNode {
  const pending = usePending(session.csrfToken);
  const reading = pending.state === 'loading' || pending.state === 'reading';
  return (
    <>
      <h1>Inbox</h1>
      <p>
        Promotion requests waiting for an approval in a role you hold (
        {session.roles.length > 0 ? session.roles.join(', ') : 'you hold no role'}).
      </p>
      <div aria-busy={reading}>
        {pending.state === 'loading' && <p role="status">Loading pending requests…</p>}
        {pending.state === 'reading' && (
          <p role="status">
            Loading more pending requests… ({pending.requests.length} read so far)
          </p>
        )}
        {pending.state === 'failed' && (
          <ProblemView title="The pending requests could not be loaded" problem={pending.problem} />
        )}
        {(pending.state === 'reading' || pending.state === 'loaded') && (
          <Inbox {...sortInbox(pending.requests, session)} complete={pending.state === 'loaded'} />
        )}
      </div>
    </>
  );
}

function Inbox({
  waiting,
  refused,
  complete,
}: {
  waiting: readonly InboxEntry[];
  refused: readonly RefusedEntry[];
  /** Every page read: only then may an empty list be called empty. */
  complete: boolean;
}): ReactNode {
  return (
    <>
      <section aria-labelledby="waiting-title">
        <h2 id="waiting-title">Waiting for you</h2>
        {waiting.length > 0 ? (
          <RequestTable caption="Requests you may approve" entries={waiting} />
        ) : (
          complete && <p role="status">No pending request waits for a role you hold.</p>
        )}
      </section>
      {refused.length > 0 && (
        <section aria-labelledby="refused-title">
          <h2 id="refused-title">You may not approve</h2>
          <RequestTable caption="Requests you may not approve, with the reason" entries={refused} />
        </section>
      )}
    </>
  );
}

function RequestTable({
  caption,
  entries,
}: {
  caption: string;
  entries: readonly (InboxEntry | RefusedEntry)[];
}): ReactNode {
  const withReason = entries.some((entry) => 'reason' in entry);
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Request</th>
          <th scope="col">Endpoint</th>
          <th scope="col">Risk tier</th>
          <th scope="col">Strategy</th>
          <th scope="col">Requested by</th>
          <th scope="col">Requested at (UTC)</th>
          <th scope="col">Your roles</th>
          <th scope="col">Still missing</th>
          {withReason && <th scope="col">Why not</th>}
        </tr>
      </thead>
      <tbody>
        {entries.map(({ request, roles, ...rest }) => (
          <tr key={request.id}>
            <td>
              <Link to={`/requests/${encodeURIComponent(request.id)}`}>
                {request.model} v{request.version}
              </Link>
            </td>
            <td>{request.endpoint}</td>
            <td>{request.riskTier}</td>
            <td>{request.strategy}</td>
            <td>{request.requestedBy}</td>
            <td>{request.createdAt}</td>
            <td>{roles.join(', ')}</td>
            <td>{request.missingRoles.join(', ')}</td>
            {'reason' in rest && (
              <td>
                {rest.reason} <span className="problem-code">({rest.code})</span>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
