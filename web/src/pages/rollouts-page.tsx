import { useState, type ReactNode } from 'react';
import { problemOf, type Problem } from '../api/problem.js';
import {
  olderRollouts,
  rolloutOverview,
  type RolloutOverview,
  type RolloutSummary,
} from '../api/rollouts.js';
import type { Session } from '../api/session.js';
import { ProblemView } from '../problem-view.js';
import { Link } from '../router.js';
import { useLoaded } from '../use-loaded.js';

/** Every rollout: those under way first, then all of them newest first, page by page. */
export function RolloutsPage({ session }: { session: Session }): ReactNode {
  const overview = useLoaded(() => rolloutOverview(session.csrfToken), [session.csrfToken]);
  return (
    <section aria-labelledby="rollouts-title" aria-busy={overview.state === 'loading'}>
      <h1 id="rollouts-title">Rollouts</h1>
      {overview.state === 'loading' && <p role="status">Loading rollouts…</p>}
      {overview.state === 'failed' && (
        <ProblemView title="The rollouts could not be loaded" problem={overview.problem} />
      )}
      {overview.state === 'loaded' && <Overview session={session} overview={overview.value} />}
    </section>
  );
}

function Overview({
  session,
  overview,
}: {
  session: Session;
  overview: RolloutOverview;
}): ReactNode {
  const [older, setOlder] = useState<{
    items: readonly RolloutSummary[];
    nextCursor: string | null;
  }>({ items: [], nextCursor: overview.nextCursor });
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const recent = [...overview.recent, ...older.items];
  const more = (): void => {
    if (older.nextCursor === null) return;
    setBusy(true);
    setProblem(null);
    olderRollouts(session.csrfToken, older.nextCursor).then(
      (page) => {
        setOlder({ items: [...older.items, ...page.items], nextCursor: page.nextCursor });
        setBusy(false);
      },
      (error: unknown) => {
        setProblem(problemOf(error));
        setBusy(false);
      },
    );
  };
  if (recent.length === 0) return <p role="status">No rollout has been started yet.</p>;
  return (
    <>
      <h2>Under way</h2>
      {overview.underWay.length === 0 ? (
        <p role="status">No rollout is running or paused.</p>
      ) : (
        <RolloutTable
          caption={
            overview.moreUnderWay
              ? `The newest ${String(overview.underWay.length)} rollouts under way`
              : `${String(overview.underWay.length)} under way`
          }
          rollouts={overview.underWay}
        />
      )}
      <h2>Recent</h2>
      <RolloutTable caption="All rollouts, newest first" rollouts={recent} />
      {older.nextCursor !== null && (
        <div className="pager">
          <button type="button" onClick={more} disabled={busy}>
            Show older rollouts
          </button>
        </div>
      )}
      {problem && <ProblemView title="Older rollouts could not be loaded" problem={problem} />}
    </>
  );
}

function RolloutTable({
  caption,
  rollouts,
}: {
  caption: string;
  rollouts: readonly RolloutSummary[];
}): ReactNode {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Rollout</th>
          <th scope="col">Strategy</th>
          <th scope="col">Status</th>
          <th scope="col">Stage</th>
          <th scope="col">Started (UTC)</th>
          <th scope="col">Finished (UTC)</th>
        </tr>
      </thead>
      <tbody>
        {rollouts.map((rollout) => (
          <tr key={rollout.id}>
            <th scope="row">
              <Link to={`/rollouts/${rollout.id}`}>
                v{rollout.candidateVersion} to {rollout.endpoint}
              </Link>
            </th>
            <td>{rollout.strategy}</td>
            <td>{rollout.status}</td>
            <td>{rollout.stages[rollout.currentStage]?.name ?? '—'}</td>
            <td>{rollout.startedAt}</td>
            <td>{rollout.finishedAt ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
