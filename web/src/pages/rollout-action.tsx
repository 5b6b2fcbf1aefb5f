import { useEffect, useId, useRef, useState, type ReactNode, type SubmitEvent } from 'react';
import { problemOf, type Problem } from '../api/problem.js';
import { actOnRollout, type WatchedRollout } from '../api/rollouts.js';
import type { Session } from '../api/session.js';
import { ProblemView } from '../problem-view.js';
import type { RolloutAction } from '../rollout-actions.js';

interface Wording {
  /** The button that opens the confirmation. */
  readonly open: string;
  readonly title: string;
  readonly consequence: string;
  readonly confirm: string;
  readonly refused: string;
}

function wordingOf(action: RolloutAction, rollout: WatchedRollout): Wording {
  const stage = rollout.stages[rollout.currentStage]?.name ?? 'the stage in progress';
  switch (action) {
    case 'pause':
      return {
        open: 'Pause…',
        title: 'Pause this rollout?',
        consequence: `Stage ${stage} holds where it is: no stage passes until the rollout is advanced again. Rollback criteria are still watched, and a breach still rolls it back.`,
        confirm: 'Pause the rollout',
        refused: 'The pause was refused',
      };
    case 'advance':
      return rollout.status === 'PAUSED'
        ? {
            open: 'Resume…',
            title: 'Resume this rollout?',
            consequence: `Stage ${stage} carries on; the controller passes it when its minimums are met.`,
            confirm: 'Resume the rollout',
            refused: 'The resume was refused',
          }
        : {
            open: 'Advance…',
            title: `Pass stage ${stage} now?`,
            consequence: `Stage ${stage} passes now, without waiting for its minimums, and the next stage starts. The ledger records it as yours, by hand, with what the stage was still waiting for.`,
            confirm: `Pass stage ${stage} now`,
            refused: 'The advance was refused',
          };
    case 'rollback':
      return {
        open: 'Roll back…',
        title: 'Roll this rollout back?',
        consequence: `All traffic goes back to ${rollout.previousVersion === null ? 'the previous live version' : `version ${String(rollout.previousVersion)}`} at once. The rollout ends there and cannot be resumed.`,
        confirm: 'Roll back now',
        refused: 'The rollback was refused',
      };
  }
}

/**
 * The actions the person may take, each behind a confirmation that asks for their reason. The
 * reason goes to the ledger with their subject; a refusal shows the service's code and words.
 */
export function RolloutActions({
  session,
  rollout,
  actions,
  minReasonLength,
  onDone,
}: {
  session: Session;
  rollout: WatchedRollout;
  actions: readonly RolloutAction[];
  minReasonLength: number | null;
  onDone: (answer: WatchedRollout) => void;
}): ReactNode {
  const [open, setOpen] = useState<RolloutAction | null>(null);
  const buttons = useRef(new Map<RolloutAction, HTMLButtonElement>());
  const close = (action: RolloutAction): void => {
    setOpen(null);
    buttons.current.get(action)?.focus();
  };
  return (
    <section aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      <div className="actions">
        {actions.map((action) => (
          <button
            key={action}
            type="button"
            aria-expanded={open === action}
            ref={(element) => {
              if (element) buttons.current.set(action, element);
              else buttons.current.delete(action);
            }}
            onClick={() => {
              setOpen(open === action ? null : action);
            }}
          >
            {wordingOf(action, rollout).open}
          </button>
        ))}
      </div>
      {open !== null && actions.includes(open) && (
        <Confirm
          key={open}
          session={session}
          rollout={rollout}
          action={open}
          minReasonLength={minReasonLength}
          onCancel={() => {
            close(open);
          }}
          onDone={(answer) => {
            setOpen(null);
            onDone(answer);
          }}
        />
      )}
    </section>
  );
}

function Confirm({
  session,
  rollout,
  action,
  minReasonLength,
  onCancel,
  onDone,
}: {
  session: Session;
  rollout: WatchedRollout;
  action: RolloutAction;
  minReasonLength: number | null;
  onCancel: () => void;
  onDone: (answer: WatchedRollout) => void;
}): ReactNode {
  const id = useId();
  const wording = wordingOf(action, rollout);
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const field = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    field.current?.focus();
  }, []);
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    actOnRollout(session.csrfToken, action, rollout.id, reason).then(onDone, (error: unknown) => {
      setProblem(problemOf(error));
      setBusy(false);
    });
  };
  const length = reason.trim().length;
  return (
    <form
      className="decision"
      onSubmit={submit}
      aria-labelledby={`${id}-title`}
      onKeyDown={(event) => {
        if (event.key === 'Escape') onCancel();
      }}
    >
      <h3 id={`${id}-title`}>{wording.title}</h3>
      <p>{wording.consequence}</p>
      <label htmlFor={`${id}-reason`}>Your reason (recorded in the ledger)</label>
      <textarea
        id={`${id}-reason`}
        ref={field}
        rows={3}
        value={reason}
        required
        aria-describedby={`${id}-count`}
        onChange={(event) => {
          setReason(event.target.value);
        }}
      />
      <p id={`${id}-count`} className="hint">
        {minReasonLength === null
          ? `${String(length)} characters.`
          : `${String(length)} of at least ${String(minReasonLength)} characters, in at least three different words.`}
      </p>
      <div className="actions">
        <button type="submit" disabled={busy}>
          {wording.confirm}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {problem && <ProblemView title={wording.refused} problem={problem} />}
    </form>
  );
}
