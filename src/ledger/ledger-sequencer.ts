import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { canonicalize } from './canonical-json.js';
import { eventHash, formatTimestamp, type LedgerEvent } from './ledger-event.js';
import {
  LedgerRepository,
  type Queryable,
  type AppendHead,
  type CheckpointRow,
  type EventRow,
  type PendingRow,
} from './ledger.repository.js';
import { detachedSigner, signAttached } from './jws.js';
import {
  appendLeaves,
  frontierLevels,
  rootOfFrontier,
  type FrontierNode,
  type StoredNode,
} from './merkle-append.js';
import { KeyRing, SigningKeyError, type SigningKey } from './signing-keys.js';

export const KEY_ROTATED = 'ledger.key.rotated';
export const CHECKPOINT_EVENT = 'ledger.checkpoint';

/** Who caused an event: a verified principal, or a part of the system (`system:rollout`). */
export interface Actor {
  readonly sub: string;
  readonly roles?: readonly string[];
}

/** Something the sequencer appends itself, because it depends on the head: see `run`. */
export type SequencerCommand =
  | { readonly kind: 'checkpoint'; readonly actor: Actor }
  | { readonly kind: 'rotate'; readonly actor: Actor; readonly to: SigningKey };

export interface PassResult {
  readonly sealed: number;
  readonly checkpoint?: CheckpointRow;
  readonly rotation?: { readonly seq: number; readonly previousKid: string; readonly kid: string };
}

const BATCH = 5000;
const SWEEP_MS = 1000;

/**
 * Moves queued events into the chain. A pass takes the append lock (inside
 * `ledger_prepare_append`, so the head, key and Merkle frontier are read under it), seals the
 * oldest queued events in order (seq, prev, RFC 8785 form, hash, detached JWS, Merkle nodes),
 * deletes them from the queue and commits: one lock, one signature batch and one commit for
 * many events. Passes in one process run one after another and coalesce; passes of several
 * processes serialize on the lock, so the chain never forks and has no gaps.
 */
@Injectable()
export class LedgerSequencer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('LedgerSequencer');
  private tail: Promise<unknown> = Promise.resolve();
  private next: Promise<PassResult> | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private inbox: NewEvent[] = [];

  constructor(
    private readonly repository: LedgerRepository,
    private readonly keys: KeyRing,
  ) {}

  /** Seals whatever a crashed writer or another replica left queued. */
  onApplicationBootstrap(): void {
    this.sweeper = setInterval(() => {
      void this.repository
        .pendingCount()
        .then((n) => (n > 0 ? this.seal() : undefined))
        .catch((error: unknown) => {
          this.logger.error(`sealing queued ledger events failed: ${String(error)}`);
        });
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /**
   * Resolves once every event queued (committed) before the call is in the chain. Calls made
   * while a pass runs share the pass after it.
   */
  seal(): Promise<PassResult> {
    this.next ??= this.enqueue(async () => {
      this.next = undefined;
      let total = 0;
      for (;;) {
        const result = await this.pass(undefined);
        total += result.sealed;
        if (result.sealed < BATCH && this.inbox.length === 0) return { sealed: total };
      }
    });
    return this.next;
  }

  /**
   * Seals events that go with no change of state (a refused attempt, say) in the next pass,
   * beside whatever is queued; resolves once that pass has committed. Many such events share a
   * pass and its commit, as a database shares a WAL flush among the transactions that wait.
   */
  async submit(events: readonly NewEvent[]): Promise<void> {
    this.inbox.push(...events);
    await this.seal();
  }

  /** Seals the queue, then appends the command's event, in one pass. */
  run(command: SequencerCommand): Promise<PassResult> {
    return this.enqueue(async () => {
      let result = await this.pass(command);
      // A full batch left more queued: the command ran after it, but later events wait for the sweep.
      while (result.sealed >= BATCH)
        result = { ...result, sealed: (await this.pass(undefined)).sealed };
      return result;
    });
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private pass(command: SequencerCommand | undefined): Promise<PassResult> {
    return this.repository.sealTransaction(BATCH, async (tx) => {
      const head = tx.head;
      const pending = head.pending;
      const submitted = this.inbox.splice(0, BATCH);
      const chain = new ChainWriter(head, await this.currentKey(tx, head));
      for (const row of pending) chain.append(eventOfPending(row));
      for (const event of submitted) chain.append(event);
      const result: {
        sealed: number;
        checkpoint?: CheckpointRow;
        rotation?: PassResult['rotation'];
      } = {
        sealed: pending.length + submitted.length,
      };
      if (command?.kind === 'checkpoint' && chain.size > 0) {
        result.checkpoint = await this.checkpoint(tx, chain, command.actor);
      } else if (command?.kind === 'rotate') {
        result.rotation = await this.rotate(tx, chain, command.actor, command.to);
      }
      if (chain.rows.length > 0) {
        await tx.finish(
          chain.rows,
          chain.nodes,
          pending.map((p) => p.id),
        );
      }
      return result;
    });
  }

  /** Checkpoints the tree as sealed so far; the checkpoint's own event follows it. */
  private async checkpoint(
    tx: Queryable,
    chain: ChainWriter,
    actor: Actor,
  ): Promise<CheckpointRow | undefined> {
    if (chain.size === (await this.repository.lastCheckpointEventSeq(tx))) return undefined;
    const checkpoint = {
      v: 1 as const,
      treeSize: chain.size,
      rootHash: chain.root(),
      ts: formatTimestamp(new Date()),
    };
    const jws = await signAttached(checkpoint, chain.key.privateKey, chain.key.kid);
    const event = chain.append({
      type: CHECKPOINT_EVENT,
      subject: 'ledger:checkpoints',
      actor,
      payload: { ...checkpoint },
    });
    const row: CheckpointRow = { ...checkpoint, eventSeq: event.seq, jws };
    await this.repository.insertCheckpoint(tx, row);
    return row;
  }

  /** The rotation event is signed by the old key and carries the new public JWK. */
  private async rotate(
    tx: Queryable,
    chain: ChainWriter,
    actor: Actor,
    to: SigningKey,
  ): Promise<PassResult['rotation']> {
    const previousKid = chain.key.kid;
    if (previousKid === to.kid)
      throw new SigningKeyError(`${to.kid} is already the current signing key`);
    if ((await this.repository.keys(tx)).some((k) => k.kid === to.kid)) {
      throw new SigningKeyError(`${to.kid} was used before; a retired key is never reinstated`);
    }
    const event = chain.append({
      type: KEY_ROTATED,
      subject: 'ledger:keys',
      actor,
      payload: { previousKid, kid: to.kid, publicJwk: { ...to.publicJwk } },
    });
    await this.repository.insertKey(tx, to.publicJwk, event.seq + 1);
    chain.useKey(to);
    return { seq: event.seq, previousKid, kid: to.kid };
  }

  /** The key the ledger names as current; a new ledger registers this process's first key. */
  private async currentKey(tx: Queryable, head: AppendHead): Promise<SigningKey> {
    if (head.kid === null) {
      const genesis = this.keys.first();
      await this.repository.insertKey(tx, genesis.publicJwk, head.headSeq + 1);
      return genesis;
    }
    const key = this.keys.get(head.kid);
    if (!key)
      throw new SigningKeyError(
        `the ledger's current signing key ${head.kid} is not available to this process`,
      );
    return key;
  }
}

export interface NewEvent {
  readonly id?: string;
  readonly ts?: string;
  readonly type: string;
  readonly subject: string;
  readonly actor: Actor;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly traceId?: string | null;
}

function eventOfPending(row: PendingRow): NewEvent {
  return {
    id: row.eventId,
    ts: row.ts,
    type: row.type,
    subject: row.subject,
    actor: JSON.parse(row.actor) as Actor,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    traceId: row.traceId,
  };
}

/** The chain as a pass extends it, in memory until the pass inserts it. */
class ChainWriter {
  readonly rows: EventRow[] = [];
  readonly nodes: StoredNode[] = [];
  private frontier: FrontierNode[];
  private prev: string;
  private sign: (payload: string) => string;

  constructor(
    head: AppendHead,
    public key: SigningKey,
  ) {
    this.size = head.headSeq;
    this.prev = head.headHash;
    const levels = frontierLevels(head.headSeq);
    this.frontier = head.frontier.map((hash, i) => ({ level: levels[i] ?? 0, hash }));
    this.sign = detachedSigner(key.privateKey, key.kid);
  }

  size: number;

  useKey(key: SigningKey): void {
    this.key = key;
    this.sign = detachedSigner(key.privateKey, key.kid);
  }

  root(): string {
    return rootOfFrontier(this.frontier)?.toString('hex') ?? '';
  }

  append(input: NewEvent): EventRow {
    const seq = this.size + 1;
    const event: LedgerEvent = {
      v: 1,
      seq,
      id: input.id ?? crypto.randomUUID(),
      ts: input.ts ?? formatTimestamp(new Date()),
      type: input.type,
      actor:
        input.actor.roles === undefined
          ? { sub: input.actor.sub }
          : { sub: input.actor.sub, roles: [...input.actor.roles] },
      subject: input.subject,
      payload: { ...input.payload },
      traceId: input.traceId ?? null,
      prev: this.prev,
    };
    const canonical = canonicalize(event);
    const hash = eventHash(canonical);
    const row: EventRow = {
      seq,
      id: event.id,
      ts: event.ts,
      type: event.type,
      subject: event.subject,
      canonical,
      hash,
      jws: this.sign(canonical),
    };
    const appended = appendLeaves(this.size, this.frontier, [Buffer.from(hash, 'hex')]);
    this.frontier = appended.frontier;
    this.nodes.push(...appended.nodes);
    this.rows.push(row);
    this.prev = hash;
    this.size = seq;
    return row;
  }
}
