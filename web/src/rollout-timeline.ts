/**
 * A rollout's stages as a timeline a person reads: which are done, which is in progress, which
 * wait, when each was entered and passed and by whom, from the rollout's stages and its ledger
 * events (`history`). Pure: the Rollouts page renders what this returns.
 */

export type StageState = 'done' | 'current' | 'paused' | 'failed' | 'pending';

export interface StageInput {
  readonly name: string;
  readonly kind: string;
  readonly status: string;
  readonly enteredAt: string | null;
  readonly passedAt: string | null;
}

export interface HistoryEvent {
  readonly seq: number;
  readonly ts: string;
  readonly type: string;
  readonly actor: { readonly sub: string };
  readonly payload: Record<string, unknown>;
}

export interface TimelineStage {
  readonly index: number;
  readonly name: string;
  readonly kind: string;
  readonly state: StageState;
  readonly enteredAt: string | null;
  readonly passedAt: string | null;
  /** Who passed it: a person's subject when advanced by hand, else the controller's. */
  readonly passedBy: string | null;
  readonly manual: boolean;
  /** The reason a person gave for advancing it. */
  readonly reason: string | null;
}

function stageIndexOf(event: HistoryEvent): number | null {
  const index = event.payload['index'];
  return typeof index === 'number' ? index : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function stateOf(status: string, rolloutStatus: string): StageState {
  switch (status) {
    case 'PASSED':
      return 'done';
    case 'FAILED':
      return 'failed';
    case 'IN_PROGRESS':
      return rolloutStatus === 'PAUSED' ? 'paused' : 'current';
    default:
      return 'pending';
  }
}

/** Every stage of the plan, in order, with its state and the ledger's times and people. */
export function stageTimeline(
  rollout: { readonly status: string; readonly stages: readonly StageInput[] },
  history: readonly HistoryEvent[],
): TimelineStage[] {
  return rollout.stages.map((stage, index) => {
    const at = (type: string): HistoryEvent | undefined =>
      history.findLast((event) => event.type === type && stageIndexOf(event) === index);
    const entered = at('rollout.stage.entered');
    const passed = at('rollout.stage.passed');
    // The last stage (LIVE) passes with the rollout's completion, which has no stage index.
    const completed =
      stage.kind === 'LIVE' && stage.status === 'PASSED'
        ? history.findLast((event) => event.type === 'rollout.completed')
        : undefined;
    const by = passed ?? completed;
    return {
      index,
      name: stage.name,
      kind: stage.kind,
      state: stateOf(stage.status, rollout.status),
      enteredAt: entered?.ts ?? stage.enteredAt,
      passedAt: passed?.ts ?? completed?.ts ?? stage.passedAt,
      passedBy: by?.actor.sub ?? null,
      manual: passed?.payload['manual'] === true,
      reason: text(passed?.payload['reason']),
    };
  });
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  'rollout.started': 'Started',
  'rollout.stage.entered': 'Entered stage',
  'rollout.stage.passed': 'Passed stage',
  'rollout.paused': 'Paused',
  'rollout.resumed': 'Resumed',
  'rollout.rolled_back': 'Rolled back',
  'rollout.completed': 'Completed',
  'rollout.driver.changed': 'Controller replica changed',
  'rollout.advance.refused': 'Advance refused',
  'rollout.pause.refused': 'Pause refused',
  'rollout.rollback.refused': 'Rollback refused',
};

/** One ledger event of a rollout in words: what happened, at which stage, and why if said. */
export function eventInWords(event: HistoryEvent): string {
  const what = TYPE_WORDS[event.type] ?? event.type;
  const stage = text(event.payload['stage']);
  const reason = text(event.payload['reason']);
  const criterion = text(event.payload['criterion']);
  const ofStage = event.type === 'rollout.stage.entered' || event.type === 'rollout.stage.passed';
  const parts = [stage === null ? what : ofStage ? `${what} ${stage}` : `${what} at ${stage}`];
  if (event.payload['manual'] === true) parts.push('by hand');
  if (criterion) parts.push(`criterion ${criterion}`);
  if (reason) parts.push(`“${reason}”`);
  return parts.join(', ');
}
