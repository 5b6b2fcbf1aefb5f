import type { GermanCredit } from '../model-builder/german-credit.js';
import { gql, rollout, sleep, Traffic, type Client, type RolloutView } from './story.js';

/** How often the attendant looks at the waiting request, and at its rollout. */
const POLL_MS = 1000;
/** One loan application about every 50 ms: enough for the demo's stage minimums in seconds. */
const TRAFFIC = { concurrency: 1, pauseMs: 50, feedback: true } as const;

export interface Attended {
  /** The id of the promotion request a person is to sign off. */
  readonly requestId: string;
  readonly data: GermanCredit;
  readonly write: (line: string) => void;
  /** Resolves when the demo is told to stop. */
  readonly stopped: Promise<void>;
}

/**
 * The rest of the team around the request left waiting for the compliance officer: once a
 * person signs it off in the console, the ML engineer (erin) starts its rollout and the loan
 * application (ivan) sends a steady trickle of applications, so that the rollout goes through
 * shadow and canary while the person watches it, then the trickle stops. A rejection or
 * withdrawal ends the wait. Everything goes through the public API, as the people would.
 */
export async function attendWaitingRequest(client: Client, attended: Attended): Promise<void> {
  const { requestId, write } = attended;
  let stopping = false;
  void attended.stopped.then(() => {
    stopping = true;
  });
  const status = await waitForDecision(client, requestId, () => stopping);
  if (status === null) return;
  if (status !== 'APPROVED') {
    write(`promotion request ${requestId} is ${status}: nothing to roll out`);
    return;
  }
  const { startRollout } = await gql<{ startRollout: { id: string } }>(
    client,
    `mutation($id: ID!) { startRollout(promotionId: $id) { id } }`,
    { id: requestId },
    'erin',
  );
  write(`signed off: erin started rollout ${startRollout.id}; applications are coming in`);
  write(`  watch it: ${client.url()}/console/rollouts/${startRollout.id}`);
  const traffic = new Traffic(client, 'credit', attended.data, TRAFFIC).start();
  try {
    const ended = await watchRollout(client, startRollout.id, write, () => stopping);
    if (ended === null) return;
    write(
      ended.status === 'COMPLETED'
        ? `rollout ${ended.id} COMPLETED: version ${String(ended.candidateVersion)} is live`
        : `rollout ${ended.id} ${ended.status}: version ${String(ended.previousVersion)} answers again`,
    );
    write(
      `  its audit report: export and verify it at ${client.url()}/console/reports (subject rollout:${ended.id})`,
    );
  } finally {
    await traffic.stop();
  }
}

/** The request's status once it is no longer PENDING, or null if the demo stops first. */
async function waitForDecision(
  client: Client,
  id: string,
  stopping: () => boolean,
): Promise<string | null> {
  while (!stopping()) {
    const { promotionRequest } = await gql<{ promotionRequest: { status: string } | null }>(
      client,
      `query($id: ID!) { promotionRequest(id: $id) { status } }`,
      { id },
      'audrey',
    );
    if (promotionRequest && promotionRequest.status !== 'PENDING') return promotionRequest.status;
    await sleep(POLL_MS);
  }
  return null;
}

/** Says each stage as it passes; the rollout once it has ended, or null if the demo stops first. */
async function watchRollout(
  client: Client,
  id: string,
  write: (line: string) => void,
  stopping: () => boolean,
): Promise<RolloutView | null> {
  const said = new Set<number>();
  while (!stopping()) {
    const now = await rollout(client, id);
    for (const event of now.history)
      if (event.type === 'rollout.stage.passed' && !said.has(event.seq)) {
        said.add(event.seq);
        write(`  passed ${String(event.payload['stage'])}`);
      }
    if (now.status !== 'RUNNING' && now.status !== 'PAUSED') return now;
    await sleep(POLL_MS);
  }
  return null;
}
