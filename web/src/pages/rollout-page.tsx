import { useEffect, useState, type ReactNode } from 'react';
import {
  rolloutPermissions,
  watchRollout,
  type RolloutAbility,
  type WatchedRollout,
} from '../api/rollouts.js';
import type { Session } from '../api/session.js';
import { ProblemView } from '../problem-view.js';
import { signOffRules } from '../promotion-policy.js';
import { offeredActions } from '../rollout-actions.js';
import { EMPTY_SERIES, withSample, type ArmSeries } from '../rollout-series.js';
import { eventInWords, stageTimeline, type StageState } from '../rollout-timeline.js';
import { Link } from '../router.js';
import { trafficInWords } from '../traffic.js';
import { useLoaded } from '../use-loaded.js';
import { usePolled } from '../use-polled.js';
import { ArmChart } from './arm-chart.js';
import { RolloutActions } from './rollout-action.js';
import './rollouts.css';

/** How often a rollout under way is read again: its page is never more than this behind. */
export const POLL_MS = 2000;

const UNDER_WAY = new Set(['RUNNING', 'PAUSED']);

interface Reading {
  readonly rollout: WatchedRollout;
  /** When the answer arrived (ms since the epoch): the time of its sample on the charts. */
  readonly at: number;
}

const STATUS_WORDS: Readonly<Record<string, string>> = {
  RUNNING: 'Running',
  PAUSED: 'Paused',
  COMPLETED: 'Completed',
  ROLLED_BACK: 'Rolled back',
  FAILED: 'Failed',
};

const STATE_WORDS: Readonly<Record<StageState, string>> = {
  done: 'Passed',
  current: 'In progress',
  paused: 'In progress, paused',
  failed: 'Failed: rolled back here',
  pending: 'Pending',
};

/** One rollout, watched: it reads itself again every POLL_MS while it is under way. */
export function RolloutPage({ session, id }: { session: Session; id: string }): ReactNode {
  const permissions = useLoaded(() => rolloutPermissions(session.csrfToken), [session.csrfToken]);
  const watched = usePolled<Reading>(
    async () => ({ rollout: await watchRollout(session.csrfToken, id), at: Date.now() }),
    [session.csrfToken, id],
    POLL_MS,
    (reading) => UNDER_WAY.has(reading.rollout.status),
  );
  const [series, setSeries] = useState<ArmSeries>(EMPTY_SERIES);
  const { loaded } = watched;
  useEffect(() => {
    if (loaded.state !== 'loaded') return;
    const { rollout, at } = loaded.value;
    if (rollout.progress)
      setSeries((before) =>
        withSample(before, {
          at,
          stage: rollout.progress?.stage ?? '',
          arms: rollout.progress?.arms ?? [],
        }),
      );
  }, [loaded]);

  return (
    <div aria-busy={loaded.state === 'loading'}>
      {loaded.state !== 'loaded' && <h1>Rollout</h1>}
      {loaded.state === 'loading' && <p role="status">Loading the rollout…</p>}
      {loaded.state === 'failed' && (
        <ProblemView title="The rollout could not be loaded" problem={loaded.problem} />
      )}
      {loaded.state === 'loaded' && (
        <>
          <Heading rollout={loaded.value.rollout} at={loaded.value.at} />
          {watched.stale && (
            <div className="stale">
              <ProblemView
                title="The last update failed: what is shown may be out of date"
                problem={watched.stale}
              />
            </div>
          )}
          {permissions.state === 'failed' && (
            <ProblemView
              title="What you may do here could not be checked"
              problem={permissions.problem}
            />
          )}
          {permissions.state === 'loaded' && (
            <Actions
              session={session}
              rollout={loaded.value.rollout}
              abilities={permissions.value.me.abilities}
              policies={permissions.value.policies}
              onDone={(rollout) => {
                watched.replace({ rollout, at: Date.now() });
              }}
            />
          )}
          <Timeline rollout={loaded.value.rollout} />
          <Progress rollout={loaded.value.rollout} series={series} />
          <History rollout={loaded.value.rollout} />
        </>
      )}
    </div>
  );
}

function textOf(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function Heading({ rollout, at }: { rollout: WatchedRollout; at: number }): ReactNode {
  const stage = rollout.stages[rollout.currentStage];
  const outcome = rollout.outcome;
  const underWay = UNDER_WAY.has(rollout.status);
  return (
    <>
      <h1>
        Rollout of v{rollout.candidateVersion} to {rollout.endpoint}
      </h1>
      <p className="rollout-status" role="status">
        <strong>{STATUS_WORDS[rollout.status] ?? rollout.status}</strong>
        {underWay && stage ? `: stage ${stage.name}` : ''}.{' '}
        {underWay
          ? `Updated every ${String(POLL_MS / 1000)} s while the rollout is under way.`
          : 'Finished: no longer updated.'}
      </p>
      <dl className="facts">
        <dt>Strategy</dt>
        <dd>
          {rollout.strategy}, version {rollout.candidateVersion} replacing{' '}
          {rollout.previousVersion === null
            ? 'no live version'
            : `version ${String(rollout.previousVersion)}`}
        </dd>
        <dt>Started</dt>
        <dd>
          by {rollout.startedBy} at {rollout.startedAt} (UTC)
          {rollout.finishedAt ? `; finished at ${rollout.finishedAt}` : ''}
        </dd>
        {outcome?.['rolledBack'] === true && (
          <>
            <dt>Rolled back</dt>
            <dd>
              by {textOf(outcome['by']) ?? 'unknown'}
              {outcome['manual'] === true ? ' (by hand)' : ' (a criterion was breached)'}: “
              {textOf(outcome['reason']) ?? ''}”
            </dd>
          </>
        )}
        <dt>Traffic now</dt>
        <dd>
          {rollout.traffic.mode}: {trafficInWords(rollout.traffic)}
        </dd>
        <dt>Promotion request</dt>
        <dd>
          <Link to={`/requests/${rollout.promotionId}`}>The request this rollout carries out</Link>
        </dd>
        <dt>Last read</dt>
        <dd>{new Date(at).toISOString()}</dd>
      </dl>
    </>
  );
}

function Actions({
  session,
  rollout,
  abilities,
  policies,
  onDone,
}: {
  session: Session;
  rollout: WatchedRollout;
  abilities: readonly RolloutAbility[];
  policies: readonly { readonly name: string; readonly content: string }[];
  onDone: (rollout: WatchedRollout) => void;
}): ReactNode {
  const actions = offeredActions(abilities, rollout);
  if (actions.length === 0) return null;
  const policy = policies.find((candidate) => candidate.name === 'promotion.yaml');
  const rules = policy ? signOffRules(policy.content) : null;
  return (
    <RolloutActions
      session={session}
      rollout={rollout}
      actions={actions}
      minReasonLength={rules?.minReasonLength ?? null}
      onDone={onDone}
    />
  );
}

function Timeline({ rollout }: { rollout: WatchedRollout }): ReactNode {
  const stages = stageTimeline(rollout, rollout.history);
  return (
    <section aria-labelledby="stages-title">
      <h2 id="stages-title">Stages</h2>
      <ol className="timeline" aria-labelledby="stages-title">
        {stages.map((stage) => (
          <li key={stage.index} className={`stage-${stage.state}`}>
            <strong>{stage.name}</strong> ({stage.kind})
            <br />
            <span className="stage-state">{STATE_WORDS[stage.state]}</span>
            {stage.enteredAt && (
              <>
                <br />
                entered {stage.enteredAt}
              </>
            )}
            {stage.passedAt && stage.state === 'done' && (
              <>
                <br />
                passed {stage.passedAt}
                {stage.passedBy ? ` by ${stage.passedBy}` : ''}
                {stage.manual ? ' (by hand)' : ''}
                {stage.reason ? `: “${stage.reason}”` : ''}
              </>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

function figure(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? '—' : value.toFixed(digits);
}

function pValue(value: number | null): string {
  if (value === null) return '—';
  return value < 0.001 ? value.toExponential(2) : value.toFixed(3);
}

function Progress({ rollout, series }: { rollout: WatchedRollout; series: ArmSeries }): ReactNode {
  const progress = rollout.progress;
  if (!progress) {
    return (
      <section aria-labelledby="progress-title">
        <h2 id="progress-title">Stage in progress</h2>
        <p role="status">No stage is in progress: the rollout has finished.</p>
      </section>
    );
  }
  return (
    <section aria-labelledby="progress-title">
      <h2 id="progress-title">Stage in progress: {progress.stage}</h2>
      <p>
        Next controller decision: <strong>{progress.decision}</strong>; {progress.candidateRequests}{' '}
        candidate requests since the stage was entered.
      </p>
      {progress.waitingFor.length > 0 && (
        <>
          <h3>Waiting for</h3>
          <ul>
            {progress.waitingFor.map((waiting) => (
              <li key={waiting}>{waiting}</li>
            ))}
          </ul>
        </>
      )}
      <table>
        <caption>Arms since the stage was entered</caption>
        <thead>
          <tr>
            <th scope="col">Arm</th>
            <th scope="col">Version</th>
            <th scope="col">Requests</th>
            <th scope="col">Errors</th>
            <th scope="col">Error rate</th>
            <th scope="col">p50 (ms)</th>
            <th scope="col">p99 (ms)</th>
            <th scope="col">Selection rate</th>
            <th scope="col">Agreement with live</th>
          </tr>
        </thead>
        <tbody>
          {progress.arms.map((arm) => (
            <tr key={arm.arm}>
              <th scope="row">{arm.arm}</th>
              <td>v{arm.version}</td>
              <td>{arm.requests}</td>
              <td>{arm.errors}</td>
              <td>{figure(arm.errorRate)}</td>
              <td>{figure(arm.p50Ms, 1)}</td>
              <td>{figure(arm.p99Ms, 1)}</td>
              <td>{figure(arm.selectionRate)}</td>
              <td>{figure(arm.agreement)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table>
        <caption>Criteria, judged now</caption>
        <thead>
          <tr>
            <th scope="col">Criterion</th>
            <th scope="col">Kind</th>
            <th scope="col">Verdict</th>
            <th scope="col">Measured</th>
            <th scope="col">Live</th>
            <th scope="col">Threshold</th>
            <th scope="col">n</th>
            <th scope="col">Test</th>
            <th scope="col">p-value</th>
            <th scope="col">Note</th>
          </tr>
        </thead>
        <tbody>
          {progress.criteria.map((verdict) => (
            <tr key={`${verdict.kind}:${verdict.criterion}`}>
              <th scope="row">{verdict.criterion}</th>
              <td>{verdict.kind}</td>
              <td
                className={
                  verdict.status === 'PASS'
                    ? 'ok'
                    : verdict.status === 'BREACH'
                      ? 'failed'
                      : undefined
                }
              >
                {verdict.status}
              </td>
              <td>{figure(verdict.measured)}</td>
              <td>{figure(verdict.live)}</td>
              <td>{verdict.threshold}</td>
              <td>{verdict.n}</td>
              <td>{verdict.test ?? '—'}</td>
              <td>{pValue(verdict.pValue)}</td>
              <td>{verdict.note}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Over time</h3>
      <p className="hint">
        The service reports each arm’s totals for the stage in progress; this page reads them every{' '}
        {POLL_MS / 1000} s and draws what it has read since it was opened. Totals start again at
        each stage, and the charts start again on reload.
      </p>
      {series.times.length === 0 ? (
        <p role="status">No sample yet.</p>
      ) : (
        <div className="arm-charts">
          <ArmChart series={series} metric="requests" title="Requests per arm (stage totals)" />
          <ArmChart series={series} metric="errorRate" title="Error rate per arm" />
          <ArmChart series={series} metric="p99Ms" title="p99 latency per arm (ms)" />
        </div>
      )}
    </section>
  );
}

function History({ rollout }: { rollout: WatchedRollout }): ReactNode {
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">Ledger events</h2>
      <table>
        <caption>Every ledger event of this rollout, in order</caption>
        <thead>
          <tr>
            <th scope="col">Seq</th>
            <th scope="col">Time (UTC)</th>
            <th scope="col">Actor</th>
            <th scope="col">Event</th>
            <th scope="col">Type</th>
          </tr>
        </thead>
        <tbody>
          {rollout.history.map((event) => (
            <tr key={event.seq}>
              <td>{event.seq}</td>
              <td>{event.ts}</td>
              <td>{event.actor.sub}</td>
              <td>{eventInWords(event)}</td>
              <td>
                <code>{event.type}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
