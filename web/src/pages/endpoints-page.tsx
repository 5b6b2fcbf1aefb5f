import type { ReactNode } from 'react';
import {
  ENDPOINT_PAGE_SIZE,
  endpointOverview,
  type EndpointOverview,
  type EndpointRow,
} from '../api/endpoints.js';
import type { Session } from '../api/session.js';
import { Pager, useCursorTrail } from '../pager.js';
import { ProblemView } from '../problem-view.js';
import { Link } from '../router.js';
import { trafficInWords } from '../traffic.js';
import { useLoaded } from '../use-loaded.js';

/** Every endpoint: the version it serves, how its traffic is split now, its drift. */
export function EndpointsPage({ session }: { session: Session }): ReactNode {
  // The cursor of every page shown so far: the last is the current page's (null: the first).
  const trail = useCursorTrail<string | null>(null);
  const cursor = trail.cursor;
  const overview = useLoaded(
    () => endpointOverview(session.csrfToken, cursor),
    [session.csrfToken, cursor],
  );
  const next = overview.state === 'loaded' ? overview.value.nextCursor : null;
  return (
    <section aria-labelledby="endpoints-title" aria-busy={overview.state === 'loading'}>
      <h1 id="endpoints-title">Endpoints</h1>
      {overview.state === 'loading' && <p role="status">Loading endpoints…</p>}
      {overview.state === 'failed' && (
        <ProblemView title="The endpoints could not be loaded" problem={overview.problem} />
      )}
      {overview.state === 'loaded' && overview.value.endpoints.length === 0 && (
        <p role="status">No endpoint has been created yet.</p>
      )}
      {overview.state === 'loaded' && overview.value.endpoints.length > 0 && (
        <EndpointTable overview={overview.value} first={trail.depth * ENDPOINT_PAGE_SIZE} />
      )}
      {(trail.depth > 0 || next !== null) && (
        <Pager label="Endpoint pages" size={ENDPOINT_PAGE_SIZE} trail={trail} next={next} />
      )}
    </section>
  );
}

function EndpointTable({
  overview,
  first,
}: {
  overview: EndpointOverview;
  /** How many endpoints the earlier pages held. */
  first: number;
}): ReactNode {
  const count = overview.endpoints.length;
  const paged = first > 0 || overview.nextCursor !== null;
  return (
    <table>
      <caption>
        {paged
          ? `Endpoints ${String(first + 1)} to ${String(first + count)}`
          : `${String(count)} endpoint${count === 1 ? '' : 's'}`}
      </caption>
      <thead>
        <tr>
          <th scope="col">Endpoint</th>
          <th scope="col">Model</th>
          <th scope="col">Live</th>
          <th scope="col">Mode</th>
          <th scope="col">Traffic</th>
          <th scope="col">Rollout</th>
          <th scope="col">Drift</th>
        </tr>
      </thead>
      <tbody>
        {overview.endpoints.map((endpoint) => {
          const rollout = overview.activeRollouts.get(endpoint.name);
          return (
            <tr key={endpoint.name}>
              <th scope="row">{endpoint.name}</th>
              <td>{endpoint.model}</td>
              <td>{endpoint.liveVersion == null ? 'none' : `v${String(endpoint.liveVersion)}`}</td>
              <td>{endpoint.mode}</td>
              <td>{trafficInWords(endpoint)}</td>
              <td>
                {rollout ? (
                  <Link to={`/rollouts/${rollout.id}`}>
                    {rollout.status === 'PAUSED' ? 'Paused rollout' : 'Rollout in progress'}
                    <span className="visually-hidden"> on {endpoint.name}</span>
                  </Link>
                ) : (
                  'none'
                )}
              </td>
              <td>
                <Drift endpoint={endpoint} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Drift({ endpoint }: { endpoint: EndpointRow }): ReactNode {
  const drift = endpoint.drift;
  if (!drift) return 'not checked yet';
  const worst = [...drift.features].sort((a, b) => b.psi - a.psi)[0];
  const score = drift.scorePsi == null ? 'no score PSI' : `score PSI ${drift.scorePsi.toFixed(3)}`;
  return (
    <>
      {drift.alerting ? (
        <span className="failed">Alert since {drift.since ?? drift.checkedAt}</span>
      ) : (
        <span className="ok">Within threshold</span>
      )}
      <br />
      {score} (threshold {drift.threshold}) over {drift.rows} rows of v{drift.version}
      {worst ? `; highest feature ${worst.feature} ${worst.psi.toFixed(3)}` : ''}, checked{' '}
      {drift.checkedAt}
    </>
  );
}
