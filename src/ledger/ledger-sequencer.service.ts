import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { canonicalize } from './canonical-json.js';
import {
  checkpointEvent,
  keyRotatedEvent,
  type Actor,
  type EventInput,
} from './event-catalogue.js';
import { eventHash } from './event-hash.js';
import { canonicalEventOf, formatTimestamp } from './ledger-event.js';
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
import { assertNotTruncated } from './truncation.js';

export type { Actor } from './event-catalogue.js';

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
 * An event as the queue holds it (actor and payload in RFC 8785 form), with its queue row's id
 * when it has one: events of a unit of work are queued in its transaction; an event with no
 * change beside it (`LedgerService.record`) has no queue row and goes straight to a pass.
 */
export type QueuedEvent = Omit<PendingRow, 'id'> & { readonly id?: number };

interface Waiter {
  readonly event: QueuedEvent;
  resolve(): void;
  reject(error: unknown): void;
}

/** The end of the chain as this process's last pass left it. */
interface Head {
  readonly seq: number;
  readonly hash: string;
  readonly frontier: FrontierNode[];
  readonly key: SigningKey;
}

/**
 * Moves events into the chain. A pass takes the append lock, reads the head under it, seals
 * events in order (seq, prev, RFC 8785 form, hash, detached JWS, Merkle nodes), inserts them,
 * deletes their queue rows and commits: one lock, one signature batch and one commit for many
 * events. Passes in one process run one after another; passes of several processes serialize
 * on the lock, so the chain never forks and has no gaps.
 *
 * A pass is one round trip when this process made the last one: it seals against the head it
 * left, and `ledger_seal` inserts only if that is still the head under the lock. Otherwise (the
 * first pass, another process appended, a sweep, a checkpoint or rotation) it is two: BEGIN with
 * `ledger_prepare_append` (lock, head, key, frontier, oldest queued events) and the ledger's
 * extent, then the inserts with COMMIT. A pass refuses a truncated ledger (LedgerTruncatedError);
 * the one-round-trip kind needs no check, since the head it expects is one this process left
 * after a pass of the other kind, and a truncation since would have moved the head.
 */
@Injectable()
export class LedgerSequencer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('LedgerSequencer');
  private tail: Promise<unknown> = Promise.resolve();
  private next: Promise<PassResult> | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  /** Events handed to this process's sequencer, in order, each with its caller waiting. */
  private waiting: Waiter[] = [];
  private draining = false;
  private head: Head | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly repository: LedgerRepository,
    private readonly keys: KeyRing,
  ) {}

  /** Seals whatever a crashed writer or another replica left queued. */
  onApplicationBootstrap(): void {
    this.sweeper = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.repository
        .pendingCount(SWEEP_MS)
        .then((n) => (n > 0 ? this.seal() : undefined))
        .then(
          () => undefined,
          (error: unknown) => {
            this.logger.error(`sealing queued ledger events failed: ${String(error)}`);
          },
        )
        .finally(() => {
          this.sweeping = undefined;
        });
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  /** Stops sweeping, and lets a sweep or pass in progress finish before the database closes. */
  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    await this.sweeping;
    await this.tail;
  }

  /**
   * Resolves once every event queued (committed) before the call is in the chain, whichever
   * process queued it. Calls made while a pass runs share the pass after it.
   */
  seal(): Promise<PassResult> {
    this.next ??= this.enqueue(async () => {
      this.next = undefined;
      let total = 0;
      for (;;) {
        const result = await this.slowPass(undefined, []);
        total += result.sealed;
        if (result.fromQueue < BATCH) return { sealed: total };
      }
    });
    return this.next;
  }

  /**
   * Seals events that this process's writers committed to the queue (`id` set) or that go with
   * no change of state (no `id`: a refused attempt, say); resolves once they are in the chain.
   * Events handed over while a pass runs share the next pass and its commit, as a database
   * shares a WAL flush among the transactions that wait.
   */
  submit(events: readonly QueuedEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    const sealed = events.map(
      (event) =>
        new Promise<void>((resolve, reject) => this.waiting.push({ event, resolve, reject })),
    );
    this.schedule();
    return Promise.all(sealed).then(() => undefined);
  }

  /** Seals the queue, then appends the command's event, in one pass. */
  run(command: SequencerCommand): Promise<PassResult> {
    return this.enqueue(async () => {
      let result = await this.slowPass(command, []);
      // A full batch left more queued: the command ran after it, but later events wait for the sweep.
      while (result.fromQueue >= BATCH)
        result = { ...result, sealed: (await this.slowPass(undefined, [])).sealed };
      return result;
    });
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * One pass over the waiting events at a time, each its own step in the queue of passes, so
   * that a checkpoint or rotation asked for under a steady load is not starved.
   */
  private schedule(): void {
    if (this.draining) return;
    this.draining = true;
    void this.enqueue(async () => {
      const batch = this.waiting.splice(0, BATCH);
      try {
        if (batch.length > 0) await this.passOf(batch);
      } catch (error) {
        for (const waiter of batch) waiter.reject(error);
      }
      // Synchronously with the check below: an event handed over now starts the next step.
      this.draining = false;
      if (this.waiting.length > 0) this.schedule();
    });
  }

  private async passOf(batch: Waiter[]): Promise<void> {
    if (this.head !== undefined) {
      const sealed = await this.fastPass(this.head, batch).catch((error: unknown) => {
        this.logger.debug(`one-round-trip pass refused, sealing from the queue: ${String(error)}`);
        return false;
      });
      if (sealed) return;
    }
    // Events with a queue row are sealed from the queue, the others here; once the queue is
    // drained, every queued event of the batch is in the chain (a sweep of another process may
    // have sealed some of them).
    let direct = batch.filter((w) => w.event.id === undefined);
    for (;;) {
      const result = await this.slowPass(undefined, direct);
      direct = [];
      if (result.fromQueue < BATCH) break;
    }
    for (const waiter of batch) waiter.resolve();
  }

  /** Seals `batch` against the head this process left, in one round trip, if it still is the head. */
  private async fastPass(head: Head, batch: readonly Waiter[]): Promise<boolean> {
    this.head = undefined;
    const chain = new ChainWriter(head);
    for (const waiter of batch) chain.appendQueued(waiter.event);
    const queueIds: number[] = [];
    for (const waiter of batch) if (waiter.event.id !== undefined) queueIds.push(waiter.event.id);
    const sealed = await this.repository.sealAgainst(head, chain.rows, chain.nodes, queueIds);
    if (!sealed) return false;
    this.head = chain.end();
    for (const waiter of batch) waiter.resolve();
    return true;
  }

  /**
   * A pass that reads the head and the oldest queued events under the lock, seals them and the
   * `direct` events, then runs the command (a checkpoint or rotation depends on the head).
   */
  private async slowPass(
    command: SequencerCommand | undefined,
    direct: readonly Waiter[],
  ): Promise<PassResult & { fromQueue: number }> {
    this.head = undefined;
    const { result, chain, sealedIds } = await this.repository.sealTransaction(
      BATCH,
      async (tx) => {
        // Checked before anything is written (a new ledger's key included): sealed onto a
        // truncated chain, events would follow the wrong head and collide with its Merkle nodes.
        assertNotTruncated(tx.extent);
        const pending = tx.head.pending;
        const chain = new ChainWriter(headOf(tx.head, await this.currentKey(tx, tx.head)));
        for (const row of pending) chain.appendQueued(revalidated(row));
        for (const waiter of direct) chain.appendQueued(waiter.event);
        const result: {
          sealed: number;
          fromQueue: number;
          checkpoint?: CheckpointRow;
          rotation?: PassResult['rotation'];
        } = { sealed: pending.length + direct.length, fromQueue: pending.length };
        if (command?.kind === 'checkpoint' && chain.size > 0) {
          result.checkpoint = await this.checkpoint(tx, chain, command.actor);
        } else if (command?.kind === 'rotate') {
          result.rotation = await this.rotate(tx, chain, command.actor, command.to);
        }
        const sealedIds = pending.map((p) => p.id);
        if (chain.rows.length > 0) await tx.finish(chain.rows, chain.nodes, sealedIds);
        return { result, chain, sealedIds };
      },
    );
    this.head = chain.end();
    for (const waiter of direct) waiter.resolve();
    if (sealedIds.length > 0) {
      // Events of this process that the pass took from the queue need no pass of their own.
      const ids = new Set(sealedIds);
      this.waiting = this.waiting.filter((waiter) => {
        if (waiter.event.id === undefined || !ids.has(waiter.event.id)) return true;
        waiter.resolve();
        return false;
      });
    }
    return result;
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
    const event = chain.append(checkpointEvent(checkpoint, actor));
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
    const event = chain.append(keyRotatedEvent(previousKid, to.kid, to.publicJwk, actor));
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
    // Another replica may have rotated to a key it wrote to the shared keys folder.
    const key =
      this.keys.get(head.kid) ??
      ((await this.keys.refresh()) ? this.keys.get(head.kid) : undefined);
    if (!key)
      throw new SigningKeyError(
        `the ledger's current signing key ${head.kid} is not available to this process`,
      );
    return key;
  }
}

function headOf(head: AppendHead, key: SigningKey): Head {
  const levels = frontierLevels(head.headSeq);
  return {
    seq: head.headSeq,
    hash: head.headHash,
    frontier: head.frontier.map((hash, i) => ({ level: levels[i] ?? 0, hash })),
    key,
  };
}

/**
 * A queue row as read back from the table: its actor and payload are put in RFC 8785 form again
 * rather than trusted, as the rows this process queued itself are.
 */
function revalidated(row: PendingRow): QueuedEvent {
  return {
    ...row,
    actor: canonicalize(JSON.parse(row.actor) as unknown),
    payload: canonicalize(JSON.parse(row.payload) as unknown),
  };
}

export type NewEvent = EventInput<'ledger.checkpoint' | 'ledger.key.rotated'> & {
  readonly id?: string;
  readonly ts?: string;
  readonly traceId?: string | null;
};

/** The chain as a pass extends it, in memory until the pass inserts it. */
class ChainWriter {
  readonly rows: EventRow[] = [];
  readonly nodes: StoredNode[] = [];
  private frontier: FrontierNode[];
  private prev: string;
  private sign: (payload: string) => string;
  key: SigningKey;
  size: number;

  constructor(head: Head) {
    this.size = head.seq;
    this.prev = head.hash;
    this.frontier = head.frontier;
    this.key = head.key;
    this.sign = detachedSigner(head.key.privateKey, head.key.kid);
  }

  useKey(key: SigningKey): void {
    this.key = key;
    this.sign = detachedSigner(key.privateKey, key.kid);
  }

  root(): string {
    return rootOfFrontier(this.frontier)?.toString('hex') ?? '';
  }

  /** Where the chain ends once these rows are in: the next pass's starting point. */
  end(): Head {
    return { seq: this.size, hash: this.prev, frontier: this.frontier, key: this.key };
  }

  /** An event the sequencer makes itself (a checkpoint, a rotation). */
  append(input: NewEvent): EventRow {
    const actor =
      input.actor.roles === undefined
        ? { sub: input.actor.sub }
        : { sub: input.actor.sub, roles: [...input.actor.roles] };
    return this.appendQueued({
      eventId: input.id ?? crypto.randomUUID(),
      ts: input.ts ?? formatTimestamp(new Date()),
      type: input.type,
      subject: input.subject,
      actor: canonicalize(actor),
      payload: canonicalize({ ...input.payload }),
      traceId: input.traceId ?? null,
    });
  }

  /** A queued event: its actor and payload are RFC 8785 text already. */
  appendQueued(input: QueuedEvent): EventRow {
    const seq = this.size + 1;
    const canonical = canonicalEventOf({
      seq,
      id: input.eventId,
      ts: input.ts,
      type: input.type,
      actor: input.actor,
      subject: input.subject,
      payload: input.payload,
      traceId: input.traceId,
      prev: this.prev,
    });
    const hash = eventHash(canonical);
    const row: EventRow = {
      seq,
      id: input.eventId,
      ts: input.ts,
      type: input.type,
      subject: input.subject,
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
