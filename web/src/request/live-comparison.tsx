import type { ReactNode } from 'react';
import { liveEvaluation, type LiveEvaluation } from '../api/promotions.js';
import type { Session } from '../api/session.js';
import { ProblemView } from '../problem-view.js';
import { useLoaded } from '../use-loaded.js';
import { compareHeadlines, signedFigure, type Headline } from './headline-comparison.js';

function figure(value: number | null): string {
  return value === null ? '—' : value.toFixed(3);
}

/**
 * The candidate's headline figures beside those of the live version's latest evaluation on the
 * same dataset, so the signer sees what the promotion changes.
 */
export function LiveComparison({
  session,
  model,
  candidateVersion,
  liveVersion,
  datasetId,
  candidate,
}: {
  session: Session;
  model: string;
  candidateVersion: number;
  liveVersion: number;
  datasetId: string;
  candidate: readonly Headline[];
}): ReactNode {
  const live = useLoaded(
    () => liveEvaluation(session.csrfToken, model, liveVersion, datasetId),
    [session.csrfToken, model, liveVersion, datasetId],
  );
  return (
    <section aria-labelledby="live-title" aria-busy={live.state === 'loading'}>
      <h3 id="live-title">Against the live version</h3>
      {live.state === 'loading' && <p role="status">Loading the live version&apos;s evaluation…</p>}
      {live.state === 'failed' && (
        <ProblemView
          title="The live version's evaluation could not be loaded"
          problem={live.problem}
        />
      )}
      {live.state === 'loaded' && (
        <Comparison
          live={live.value}
          candidateVersion={candidateVersion}
          liveVersion={liveVersion}
          datasetId={datasetId}
          candidate={candidate}
        />
      )}
    </section>
  );
}

function Comparison({
  live,
  candidateVersion,
  liveVersion,
  datasetId,
  candidate,
}: {
  live: LiveEvaluation;
  candidateVersion: number;
  liveVersion: number;
  datasetId: string;
  candidate: readonly Headline[];
}): ReactNode {
  if (live === null) {
    return (
      <p role="status">
        Live version {liveVersion} has no successful evaluation on dataset <code>{datasetId}</code>:
        there is nothing to compare on the same data.
      </p>
    );
  }
  const rows = compareHeadlines(candidate, live.performance);
  return (
    <table>
      <caption>
        Candidate v{candidateVersion} against live v{liveVersion} on the same dataset (live
        evaluation <code>{live.id}</code>
        {live.finishedAt ? `, finished ${live.finishedAt}` : ''})
      </caption>
      <thead>
        <tr>
          <th scope="col">Figure</th>
          <th scope="col">Candidate v{candidateVersion}</th>
          <th scope="col">Live v{liveVersion}</th>
          <th scope="col">Difference (candidate − live)</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.name}>
            <td>{row.name}</td>
            <td>{figure(row.candidate)}</td>
            <td>{figure(row.live)}</td>
            <td>{signedFigure(row.difference)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
