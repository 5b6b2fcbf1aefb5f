import { useId, useMemo, useState, type ReactNode, type SubmitEvent } from 'react';
import { allows } from '../abilities.js';
import { problemOf, type Problem } from '../api/problem.js';
import {
  approvePromotion,
  promotionReview,
  rejectPromotion,
  reviewEvidence,
  type Ability,
  type ApprovalReceipt,
  type PromotionReview,
  type RequestStatus,
  type ReviewEvidence,
} from '../api/promotions.js';
import type { Session } from '../api/session.js';
import { approvalStanding } from '../approval-standing.js';
import { ProblemView } from '../problem-view.js';
import { signOffRules, type SignOffRules } from '../promotion-policy.js';
import { FourFifthsChart } from '../request/four-fifths-chart.js';
import { fourFifthsComparison } from '../request/four-fifths.js';
import { LiveComparison } from '../request/live-comparison.js';
import { Link } from '../router.js';
import { useLoaded } from '../use-loaded.js';

/** A promotion request as its signer attests it, and the approval or rejection itself. */
export function RequestPage({ session, id }: { session: Session; id: string }): ReactNode {
  const review = useLoaded(() => promotionReview(session.csrfToken, id), [session.csrfToken, id]);
  return (
    <div aria-busy={review.state === 'loading'}>
      {review.state === 'loading' && (
        <>
          <h1>Promotion request</h1>
          <p role="status">Loading the request…</p>
        </>
      )}
      {review.state === 'failed' && (
        <>
          <h1>Promotion request</h1>
          <ProblemView title="The request could not be loaded" problem={review.problem} />
        </>
      )}
      {review.state === 'loaded' && <Review session={session} {...review.value} />}
    </div>
  );
}

function canReject(abilities: readonly Ability[]): boolean {
  return allows(abilities, 'reject', 'PromotionRequest');
}

function Review({
  session,
  request,
  abilities,
  policies,
}: {
  session: Session;
  request: PromotionReview;
  abilities: readonly Ability[];
  policies: readonly { name: string; sha256: string; content: string }[];
}): ReactNode {
  // What a decision made here changed: the request as the service answered it.
  const [status, setStatus] = useState<RequestStatus | null>(null);
  const [receipt, setReceipt] = useState<ApprovalReceipt | null>(null);
  const [approved, setApproved] = useState(false);
  const current = { ...request, ...status };
  const policy = policies.find((candidate) => candidate.name === 'promotion.yaml');
  const rules = policy ? signOffRules(policy.content) : null;
  const open = current.status === 'PENDING' || current.status === 'APPROVED';
  return (
    <>
      <h1>
        Promotion request: {request.model} v{request.version} to {request.endpoint}
      </h1>
      <Summary request={current} policyInForce={policy?.sha256 ?? null} />
      <Evidence session={session} request={request} />
      <Gates request={request} />
      <Criteria request={request} />
      <Plan request={request} />
      <section aria-labelledby="decide-title">
        <h2 id="decide-title">Your decision</h2>
        {approved && <Receipt receipt={receipt} status={current} />}
        {!approved && current.status === 'PENDING' && (
          <Approve
            session={session}
            request={current}
            rules={rules}
            onApproved={(answer, found) => {
              setStatus(answer);
              setReceipt(found);
              setApproved(true);
            }}
          />
        )}
        {!approved && current.status !== 'PENDING' && (
          <p role="status">
            The request is {current.status}: it takes no approval.
            {current.closeReason ? ` ${current.closedBy ?? ''}: “${current.closeReason}”` : ''}
          </p>
        )}
        {open && canReject(abilities) && (
          <Reject
            session={session}
            id={request.id}
            minReasonLength={rules?.minReasonLength ?? null}
            onRejected={setStatus}
          />
        )}
      </section>
    </>
  );
}

function Summary({
  request,
  policyInForce,
}: {
  request: PromotionReview;
  policyInForce: string | null;
}): ReactNode {
  return (
    <section aria-labelledby="summary-title">
      <h2 id="summary-title">The request</h2>
      <dl className="facts">
        <dt>Status</dt>
        <dd>{request.status}</dd>
        <dt>Requested</dt>
        <dd>
          by {request.requestedBy} at {request.createdAt} (UTC)
        </dd>
        <dt>Risk tier and strategy</dt>
        <dd>
          {request.riskTier}, {request.strategy}
          {request.liveVersion == null
            ? ' (nothing is live on the endpoint)'
            : ` (replacing live version ${request.liveVersion})`}
        </dd>
        <dt>Justification</dt>
        <dd>{request.justification}</dd>
        <dt>Roles that must approve</dt>
        <dd>
          {request.requiredRoles.join(', ')}; still missing:{' '}
          {request.missingRoles.length > 0 ? request.missingRoles.join(', ') : 'none'}
        </dd>
        <dt>Approvals</dt>
        <dd>
          {request.approvals.length === 0 ? (
            'None yet.'
          ) : (
            <ul>
              {request.approvals.map((approval) => (
                <li key={approval.role}>
                  {approval.role}: {approval.approver} at {approval.approvedAt}
                  {approval.statement ? ` — “${approval.statement}”` : ''}
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Request digest (what an approval binds)</dt>
        <dd>
          <code className="hash">{request.requestDigest}</code>
        </dd>
        <dt>Policy version</dt>
        <dd>
          promotion.yaml requested under <code className="hash">{request.policySha256}</code>,
          judged under <code className="hash">{request.judgedUnderPolicySha256}</code>
          {policyInForce === null ? '' : <>, in force now </>}
          {policyInForce !== null && <code className="hash">{policyInForce}</code>}
        </dd>
      </dl>
    </section>
  );
}

function figure(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : value.toFixed(3);
}

function Evidence({ session, request }: { session: Session; request: PromotionReview }): ReactNode {
  const evidence = useLoaded(
    () => reviewEvidence(session.csrfToken, request.model, request.evaluationId),
    [session.csrfToken, request.model, request.evaluationId],
  );
  return (
    <section aria-labelledby="evidence-title" aria-busy={evidence.state === 'loading'}>
      <h2 id="evidence-title">Model card and evaluation</h2>
      {evidence.state === 'loading' && <p role="status">Loading the model card and evaluation…</p>}
      {evidence.state === 'failed' && (
        <ProblemView
          title="The model card and evaluation could not be loaded"
          problem={evidence.problem}
        />
      )}
      {evidence.state === 'loaded' && (
        <EvidenceReport session={session} request={request} evidence={evidence.value} />
      )}
    </section>
  );
}

function EvidenceReport({
  session,
  request,
  evidence,
}: {
  session: Session;
  request: PromotionReview;
  evidence: ReviewEvidence;
}): ReactNode {
  const { model, evaluation } = evidence;
  return (
    <>
      <h3>Model card</h3>
      {model ? (
        <dl className="facts">
          <dt>Owner</dt>
          <dd>{model.owner}</dd>
          <dt>Intended use</dt>
          <dd>{model.modelCard.intendedUse}</dd>
          <dt>Out-of-scope uses</dt>
          <dd>
            <ul>
              {model.modelCard.outOfScopeUses.map((use) => (
                <li key={use}>{use}</li>
              ))}
            </ul>
          </dd>
          <dt>Limitations</dt>
          <dd>{model.modelCard.limitations}</dd>
          <dt>Training data</dt>
          <dd>{model.modelCard.trainingData}</dd>
          <dt>Ethical considerations</dt>
          <dd>{model.modelCard.ethicalConsiderations}</dd>
          <dt>Protected attributes</dt>
          <dd>{model.protectedAttributes.join(', ') || 'none named'}</dd>
        </dl>
      ) : (
        <p role="status">The model is not registered.</p>
      )}
      <h3>Evaluation</h3>
      {evaluation ? (
        <>
          <p>
            Evaluation <code>{evaluation.id}</code>, {evaluation.status}
            {evaluation.finishedAt ? `, finished ${evaluation.finishedAt}` : ''}, over dataset{' '}
            <code>{evaluation.datasetId}</code>.
          </p>
          {evaluation.performance.length === 0 ? (
            <p role="status">The evaluation has no performance figures.</p>
          ) : (
            <table>
              <caption>Headline performance</caption>
              <thead>
                <tr>
                  <th scope="col">Figure</th>
                  <th scope="col">Value</th>
                  <th scope="col">Confidence interval</th>
                </tr>
              </thead>
              <tbody>
                {evaluation.performance.map((row) => (
                  <tr key={row.name}>
                    <td>{row.name}</td>
                    <td>{figure(row.value)}</td>
                    <td>
                      {row.interval
                        ? `${figure(row.interval.lower)} – ${figure(row.interval.upper)}`
                        : 'no bootstrap'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {request.liveVersion != null && (
            <LiveComparison
              session={session}
              model={request.model}
              candidateVersion={request.version}
              liveVersion={request.liveVersion}
              datasetId={evaluation.datasetId}
              candidate={evaluation.performance}
            />
          )}
          {evaluation.fairness.map((attribute) => (
            <FairnessFigures key={attribute.attribute} attribute={attribute} />
          ))}
        </>
      ) : (
        <p role="status">The evaluation the request names was not found.</p>
      )}
    </>
  );
}

type AttributeFigures = NonNullable<ReviewEvidence['evaluation']>['fairness'][number];

function FairnessFigures({ attribute }: { attribute: AttributeFigures }): ReactNode {
  const comparison = useMemo(
    () => fourFifthsComparison(attribute.groups, attribute.referenceGroup),
    [attribute],
  );
  return (
    <>
      {comparison && <FourFifthsChart attribute={attribute.attribute} comparison={comparison} />}
      <table>
        <caption>
          Fairness by {attribute.attribute}
          {attribute.referenceGroup ? ` (reference group ${attribute.referenceGroup})` : ''}
          {attribute.passesFourFifths == null
            ? ''
            : attribute.passesFourFifths
              ? ': passes the four-fifths rule'
              : ': fails the four-fifths rule'}
          {attribute.figures.length > 0 &&
            `; ${attribute.figures.map((f) => `${f.name} ${figure(f.value)}`).join(', ')}`}
        </caption>
        <thead>
          <tr>
            <th scope="col">Group</th>
            <th scope="col">Rows</th>
            <th scope="col">Selection rate</th>
            <th scope="col">True positive rate</th>
            <th scope="col">False positive rate</th>
          </tr>
        </thead>
        <tbody>
          {attribute.groups.map((group) => (
            <tr key={group.group}>
              <td>
                {group.group}
                {group.belowMinimumSize ? ' (below the minimum size: not evidence)' : ''}
              </td>
              <td>{group.count}</td>
              <td>{figure(group.selectionRate)}</td>
              <td>{figure(group.truePositiveRate)}</td>
              <td>{figure(group.falsePositiveRate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Gates({ request }: { request: PromotionReview }): ReactNode {
  const latest = request.gateEvaluations[request.gateEvaluations.length - 1];
  return (
    <section aria-labelledby="gates-title">
      <h2 id="gates-title">Gates</h2>
      {latest ? (
        <table>
          <caption>
            {latest.passed ? 'Every gate passed' : 'Some gates failed'}: evaluated{' '}
            {latest.evaluatedAt} by {latest.evaluatedBy} ({latest.purpose})
          </caption>
          <thead>
            <tr>
              <th scope="col">Gate</th>
              <th scope="col">Verdict</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {latest.gates.map((gate) => (
              <tr key={gate.gate}>
                <td>{gate.gate}</td>
                <td className={gate.passed ? 'ok' : 'failed'}>
                  {gate.passed ? 'Passed' : 'Failed'}
                </td>
                <td>{gate.summary}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p role="status">The gates have not been evaluated for this request yet.</p>
      )}
    </section>
  );
}

type Thresholds = Partial<
  Record<
    string,
    { value: number; window: { minRequests: number; seconds: number } } | null | undefined
  >
>;

const CRITERIA: readonly (readonly [string, string])[] = [
  ['maxErrorRate', 'Error rate at most'],
  ['maxP99LatencyMs', 'p99 latency (ms) at most'],
  ['maxPsiDrift', 'Score PSI drift at most'],
  ['minAccuracy', 'Accuracy at least'],
  ['minAgreementWithLive', 'Agreement with live at least'],
  ['minAuc', 'ROC-AUC at least'],
  ['minDisparateImpact', 'Disparate impact at least'],
];

function CriteriaList({ criteria }: { criteria: Thresholds }): ReactNode {
  const given = CRITERIA.flatMap(([key, label]) => {
    const threshold = criteria[key];
    return threshold ? [{ key, label, threshold }] : [];
  });
  return (
    <ul>
      {given.map(({ key, label, threshold }) => (
        <li key={key}>
          {label} {threshold.value}, over at least {threshold.window.minRequests} requests and{' '}
          {threshold.window.seconds} s
        </li>
      ))}
    </ul>
  );
}

function Criteria({ request }: { request: PromotionReview }): ReactNode {
  const { rationale, ...rollback } = request.rollbackCriteria;
  return (
    <section aria-labelledby="criteria-title">
      <h2 id="criteria-title">Rollback and success criteria</h2>
      <h3>Rolled back on any breach of</h3>
      <CriteriaList criteria={rollback} />
      <p>
        <strong>Rationale:</strong> {rationale}
      </p>
      <h3>Success criteria</h3>
      {request.successCriteria ? (
        <CriteriaList criteria={request.successCriteria} />
      ) : (
        <p>
          None: {request.strategy === 'INITIAL' ? 'INITIAL has no stage to pass.' : 'none given.'}
        </p>
      )}
    </section>
  );
}

function Plan({ request }: { request: PromotionReview }): ReactNode {
  const { shadow, canary, abTest } = request.plan;
  return (
    <section aria-labelledby="plan-title">
      <h2 id="plan-title">Rollout plan</h2>
      <p>Strategy {request.strategy}.</p>
      {!shadow && !canary && !abTest && <p>No stage settings: the strategy uses none.</p>}
      <ul>
        {shadow && (
          <li>
            Shadow: {shadow.sampleRate * 100} % of live requests mirrored, at least{' '}
            {shadow.minRequests} requests and {shadow.minDurationSeconds} s
          </li>
        )}
        {canary && (
          <li>
            Canary: steps {canary.steps.join(' %, ')} %, each held {canary.bakeSeconds} s and at
            least {canary.minRequestsPerStep} requests
          </li>
        )}
        {abTest && (
          <li>
            A/B test: {abTest.splitPercent} % to the candidate, {abTest.outcome} compared over at
            least {abTest.minSamples} samples at significance {abTest.significanceLevel}
          </li>
        )}
      </ul>
    </section>
  );
}

function Approve({
  session,
  request,
  rules,
  onApproved,
}: {
  session: Session;
  request: PromotionReview;
  rules: SignOffRules | null;
  onApproved: (status: RequestStatus, receipt: ApprovalReceipt | null) => void;
}): ReactNode {
  const id = useId();
  const standing = approvalStanding(request, session);
  const firstRole = standing.kind === 'may-approve' ? (standing.roles[0] ?? '') : '';
  const [role, setRole] = useState(firstRole);
  const [statement, setStatement] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  if (standing.kind === 'not-waiting') {
    return <p role="status">The request waits for no role you hold.</p>;
  }
  if (standing.kind === 'may-not-approve') {
    return (
      <div className="problem" role="alert">
        <p className="problem-title">You may not approve this request</p>
        <p>
          {standing.reason} <span className="problem-code">({standing.code})</span>
        </p>
      </div>
    );
  }
  const signOff = rules !== null && role === rules.signOffRole;
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    approvePromotion(session.csrfToken, session.subject, {
      id: request.id,
      requestDigest: request.requestDigest,
      role,
      statement,
    }).then(
      ({ status, receipt }) => {
        onApproved(status, receipt);
      },
      (error: unknown) => {
        setProblem(problemOf(error));
        setBusy(false);
      },
    );
  };
  return (
    <form className="decision" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Approve</h3>
      <p>
        Your approval binds the request digest <code className="hash">{request.requestDigest}</code>
        .
      </p>
      <label htmlFor={`${id}-role`}>Approve as</label>
      <select
        id={`${id}-role`}
        value={role}
        onChange={(event) => {
          setRole(event.target.value);
        }}
      >
        {standing.roles.map((candidate) => (
          <option key={candidate} value={candidate}>
            {candidate}
          </option>
        ))}
      </select>
      <label htmlFor={`${id}-statement`}>Statement{signOff ? '' : ' (optional)'}</label>
      <textarea
        id={`${id}-statement`}
        rows={4}
        value={statement}
        aria-describedby={`${id}-count`}
        required={signOff}
        onChange={(event) => {
          setStatement(event.target.value);
        }}
      />
      <p id={`${id}-count`} className="hint">
        {signOff
          ? `${statement.trim().length} of at least ${rules.minStatementLength} characters, in at least three different words: approving as ${rules.signOffRole} is the sign-off.`
          : `${statement.trim().length} characters.`}
      </p>
      <button type="submit" disabled={busy}>
        Approve as {role}
      </button>
      {problem && <ProblemView title="The approval was refused" problem={problem} />}
    </form>
  );
}

function Receipt({
  receipt,
  status,
}: {
  receipt: ApprovalReceipt | null;
  status: RequestStatus;
}): ReactNode {
  return (
    <div className="receipt" role="status">
      <p className="ok">
        <strong>Approved.</strong> The request is now {status.status}
        {status.missingRoles.length > 0
          ? `; still missing: ${status.missingRoles.join(', ')}.`
          : '.'}
      </p>
      {receipt ? (
        <dl className="facts">
          <dt>Your approval</dt>
          <dd>
            as {receipt.role}, ledgered at {receipt.ts}
          </dd>
          <dt>Ledger seq</dt>
          <dd>{receipt.seq}</dd>
          <dt>Event hash</dt>
          <dd>
            <code className="hash">{receipt.hash}</code>
          </dd>
        </dl>
      ) : (
        <p>The approval counted, but its ledger event was not in the request's history.</p>
      )}
      {receipt ? (
        <p>
          See <Link to={`/ledger?seq=${receipt.seq}`}>its inclusion proof</Link>, checked in your
          browser against the ledger's latest checkpoint.
        </p>
      ) : (
        <p>
          <Link to="/ledger">Open the ledger</Link> to find it in the chain.
        </p>
      )}
    </div>
  );
}

function Reject({
  session,
  id,
  minReasonLength,
  onRejected,
}: {
  session: Session;
  id: string;
  minReasonLength: number | null;
  onRejected: (status: RequestStatus) => void;
}): ReactNode {
  const formId = useId();
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    rejectPromotion(session.csrfToken, id, reason).then(onRejected, (error: unknown) => {
      setProblem(problemOf(error));
      setBusy(false);
    });
  };
  return (
    <form className="decision" onSubmit={submit} aria-labelledby={`${formId}-title`}>
      <h3 id={`${formId}-title`}>Reject</h3>
      <label htmlFor={`${formId}-reason`}>Reason</label>
      <textarea
        id={`${formId}-reason`}
        rows={3}
        value={reason}
        required
        aria-describedby={`${formId}-count`}
        onChange={(event) => {
          setReason(event.target.value);
        }}
      />
      <p id={`${formId}-count`} className="hint">
        {minReasonLength === null
          ? `${reason.trim().length} characters.`
          : `${reason.trim().length} of at least ${minReasonLength} characters. A rejection ends the request.`}
      </p>
      <button type="submit" disabled={busy}>
        Reject the request
      </button>
      {problem && <ProblemView title="The rejection was refused" problem={problem} />}
    </form>
  );
}
