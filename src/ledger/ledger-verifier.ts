import { CHECKPOINT_EVENT, KEY_ROTATED } from './event-catalogue.js';
import { GENESIS_PREV } from './ledger-event.js';
import type { CheckpointRow, EventRow, KeyRow } from './ledger.repository.js';
import { headerKid, type ChunkResult } from './verify-batch.js';
import { thumbprintKid, verifyAttached } from './jws-verify.js';
import { MerkleFrontier, type FrontierNode } from './merkle-append.js';
import { VerifyPool } from './verify-pool.js';
import { createPublicKey } from 'node:crypto';

export type VerifyFailureReason =
  | 'hash mismatch'
  | 'broken link'
  | 'bad signature'
  | 'unknown key'
  | 'gap'
  | 'checkpoint root mismatch'
  | 'invalid event'
  /**
   * Events are missing from the end: traces in the ledger's own tables (`truncationOf`), or a
   * witness that cosigned a larger tree.
   */
  | 'truncated'
  /** The events give another root than the one a witness cosigned at that size. */
  | 'forked';

export interface VerifyFailure {
  readonly seq: number;
  readonly reason: VerifyFailureReason;
  readonly detail: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly eventsChecked: number;
  readonly signaturesChecked: number;
  readonly checkpointsChecked: number;
  readonly failure: VerifyFailure | undefined;
  readonly durationMs: number;
}

/** What the verifier reads; the service implements it over PostgreSQL, tests over arrays. */
export interface LedgerSource {
  keys(): Promise<KeyRow[]>;
  /**
   * Events with seq in (afterSeq, toSeq], in seq order, as PostgreSQL COPY text (seq, type,
   * subject, canonical, hash, jws per line), UTF-8, in chunks of whole lines.
   */
  events(afterSeq: number, toSeq: number): AsyncIterable<Uint8Array>;
  /** The stored hash of one event (the link into the range), or undefined. */
  hashAt(seq: number): Promise<string | undefined>;
  /** Rotation events before `seq`, to know the key current at the start of the range. */
  rotationsBefore(seq: number): Promise<EventRow[]>;
  /** The complete subtrees covering [0, size), largest first. */
  frontier(size: number): Promise<FrontierNode[]>;
  checkpoints(fromSize: number, toSize: number): Promise<CheckpointRow[]>;
}

const STOP = Symbol('stop');

/**
 * Recomputes everything the ledger claims, from what is stored (so tampering by a superuser
 * with triggers disabled is caught): each canonical form, hash, link and seq; each signature,
 * with the key that was current at that seq (signatures on worker threads, on every core); and
 * the root of every checkpoint in the range. Reports the first failing seq and why.
 */
export async function verifyLedger(
  source: LedgerSource,
  range: { fromSeq: number; toSeq: number },
  options: { signatures?: boolean; workers?: number } = {},
): Promise<VerifyReport> {
  const started = performance.now();
  const { fromSeq, toSeq } = range;
  const keys = await source.keys();
  const known = new Map(keys.map((k) => [k.kid, k]));
  const pool = new VerifyPool(
    keys.map((k) => k.publicJwk),
    options.workers,
  );
  let failure: VerifyFailure | undefined;
  let eventsChecked = 0;
  let signaturesChecked = 0;
  let checkpointsChecked = 0;
  let pages: AsyncIterator<Uint8Array> | undefined;
  const fail = (f: VerifyFailure): void => {
    if (failure === undefined || f.seq < failure.seq) failure = f;
  };
  // Read through a function: the loops below mutate `failure` via `fail`, which narrowing can't see.
  const firstFailingSeq = (): number => failure?.seq ?? Number.POSITIVE_INFINITY;
  const inFlight: Promise<ChunkResult>[] = [];

  try {
    let prevHash = fromSeq === 1 ? GENESIS_PREV : await source.hashAt(fromSeq - 1);
    if (prevHash === undefined) {
      fail({ seq: fromSeq - 1, reason: 'gap', detail: `event ${fromSeq - 1} is missing` });
      prevHash = GENESIS_PREV;
    }
    let kid = await currentKidAt(source, fromSeq, known);
    const frontier = new MerkleFrontier(fromSeq - 1, await source.frontier(fromSeq - 1));
    const checkpoints = await source.checkpoints(fromSeq, toSeq);
    let nextCheckpoint = 0;
    let after = fromSeq - 1;
    pages = source.events(after, toSeq)[Symbol.asyncIterator]();
    const signatures = options.signatures !== false;
    let exhausted = false;

    // Workers parse and check chunks in parallel; their results are taken in order here, where
    // the chunks are stitched together and the cheap, sequential checks are made.
    for (;;) {
      while (!exhausted && inFlight.length < pool.parallelism * 2) {
        const next = await pages.next();
        if (next.done === true) exhausted = true;
        else inFlight.push(pool.check(next.value, signatures));
      }
      const pendingResult = inFlight.shift();
      if (!pendingResult) break;
      const chunk = await pendingResult;
      if (chunk.count === 0) continue;
      if (chunk.firstSeq !== after + 1) {
        fail({
          seq: after + 1,
          reason: 'gap',
          detail: `expected seq ${after + 1}, found ${chunk.firstSeq}`,
        });
        break;
      }
      if (chunk.firstPrev !== prevHash) {
        fail({
          seq: chunk.firstSeq,
          reason: 'broken link',
          detail: `prev is ${chunk.firstPrev}, the previous hash is ${prevHash}`,
        });
        break;
      }
      if (chunk.failure) fail(chunk.failure);
      if (signatures) signaturesChecked += chunk.count;
      const stop = await walkChunk(chunk);
      if (stop || firstFailingSeq() !== Number.POSITIVE_INFINITY) break;
      prevHash = chunk.lastHash;
      after = chunk.lastSeq;
    }
    if (firstFailingSeq() === Number.POSITIVE_INFINITY && after < toSeq) {
      fail({
        seq: after + 1,
        reason: 'gap',
        detail: `events ${after + 1} to ${toSeq} are missing`,
      });
    }

    /**
     * The checks that depend on what came before, done per change rather than per event: the
     * signing key at each change of header kid and after each rotation, and the Merkle
     * frontier, extended by the chunk's compact range (event by event only where a checkpoint
     * falls inside the chunk).
     */
    /** A rotation's new kid, STOP after recording a failure, or undefined. */
    async function applySpecial(
      seq: number,
      special: { type: string; canonical: string },
    ): Promise<string | typeof STOP | undefined> {
      const outcome = await checkSpecialEvent(
        seq,
        special.type,
        special.canonical,
        frontier,
        known,
      );
      if (typeof outcome !== 'object') return outcome;
      fail({ seq, ...outcome });
      return STOP;
    }

    async function walkChunk(chunk: ChunkResult): Promise<boolean> {
      const points = new Set<number>(chunk.kidRuns.map(([index]) => index));
      for (const s of chunk.specials) points.add(s.index).add(s.index + 1);
      const specials = new Map(chunk.specials.map((s) => [s.index, s]));
      const lastSeq = chunk.firstSeq + chunk.count - 1;
      const byEvent =
        chunk.specials.some((s) => s.type === CHECKPOINT_EVENT) ||
        (checkpoints[nextCheckpoint]?.treeSize ?? Infinity) <= lastSeq;
      let run = 0;
      for (const i of [...points].filter((p) => p < chunk.count).sort((a, b) => a - b)) {
        const seq = chunk.firstSeq + i;
        if (seq >= firstFailingSeq()) return true;
        while ((chunk.kidRuns[run + 1]?.[0] ?? Infinity) <= i) run++;
        const headerKid = chunk.kidRuns[run]?.[1] ?? '';
        kid ??= headerKid;
        if (!known.has(headerKid)) {
          fail({
            seq,
            reason: 'unknown key',
            detail: `signed with ${headerKid || '(no kid)'}, which is not a ledger key`,
          });
          return true;
        }
        if (headerKid !== kid) {
          fail({
            seq,
            reason: 'bad signature',
            detail: `signed with ${headerKid}, but ${kid} was current`,
          });
          return true;
        }
        const special = specials.get(i);
        if (special?.type === KEY_ROTATED) {
          const next = await applySpecial(seq, special);
          if (next === STOP) return true;
          if (next !== undefined) kid = next;
        }
      }
      if (!byEvent) {
        for (const subtree of chunk.range) frontier.pushSubtree(subtree);
        eventsChecked += chunk.count;
        return false;
      }
      for (let i = 0; i < chunk.count; i++) {
        const seq = chunk.firstSeq + i;
        if (seq >= firstFailingSeq()) return true;
        const special = specials.get(i);
        if (special?.type === CHECKPOINT_EVENT && (await applySpecial(seq, special)) === STOP)
          return true;
        frontier.push(Buffer.from(chunk.hashes.buffer, chunk.hashes.byteOffset + i * 32, 32));
        eventsChecked++;
        for (; checkpoints[nextCheckpoint]?.treeSize === seq; nextCheckpoint++) {
          const checkpoint = checkpoints[nextCheckpoint];
          if (!checkpoint) break;
          checkpointsChecked++;
          const problem = await checkCheckpoint(checkpoint, frontier.root(), known);
          if (problem !== undefined)
            fail({ seq: checkpoint.eventSeq, reason: 'checkpoint root mismatch', detail: problem });
        }
      }
      return false;
    }
    await Promise.allSettled(inFlight);
  } finally {
    await pages?.return?.(undefined);
    await pool.close();
  }
  return {
    ok: failure === undefined,
    fromSeq,
    toSeq,
    eventsChecked,
    signaturesChecked,
    checkpointsChecked,
    failure,
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * A rotation moves the current key on (returns the new kid); a checkpoint event must carry the
 * root of the tree before it. Returns a failure, a new kid, or undefined.
 */
async function checkSpecialEvent(
  seq: number,
  type: string,
  canonical: string,
  frontier: MerkleFrontier,
  known: Map<string, KeyRow>,
): Promise<string | { reason: VerifyFailureReason; detail: string } | undefined> {
  const event = parseEvent(canonical);
  if (event === undefined) return undefined; // the workers name it
  if (type === CHECKPOINT_EVENT) {
    if (event.payload['treeSize'] !== seq - 1) return undefined;
    const root = frontier.root()?.toString('hex');
    if (event.payload['rootHash'] === root) return undefined;
    return {
      reason: 'checkpoint root mismatch',
      detail: `the checkpoint event says root ${String(event.payload['rootHash'])}, the events give ${root ?? '(none)'}`,
    };
  }
  const next = await rotatedKid(event.payload, known);
  return typeof next === 'string' ? next : { reason: 'unknown key', detail: next.detail };
}

/**
 * The key current at `seq`: the genesis key (the one whose first_seq is 1), moved on by every
 * rotation event before `seq`. Undefined for a ledger with no keys row: then the first event's
 * header names it, and it must still be a known key.
 */
async function currentKidAt(
  source: LedgerSource,
  seq: number,
  known: Map<string, KeyRow>,
): Promise<string | undefined> {
  let kid = [...known.values()].find((k) => k.firstSeq === 1)?.kid;
  for (const row of await source.rotationsBefore(seq)) {
    const payload = (JSON.parse(row.canonical) as { payload: Record<string, unknown> }).payload;
    const next = await rotatedKid(payload, known);
    if (typeof next === 'string') kid = next;
  }
  return kid;
}

/** A rotation names the new key and carries its public JWK; both must agree and be known. */
async function rotatedKid(
  payload: Record<string, unknown>,
  known: Map<string, KeyRow>,
): Promise<string | { detail: string }> {
  const kid = payload['kid'];
  const jwk = payload['publicJwk'] as { kty?: string; crv?: string; x?: string } | undefined;
  if (typeof kid !== 'string' || !jwk?.x)
    return { detail: 'rotation event without kid and publicJwk' };
  const thumbprint = await thumbprintKid({ kty: 'OKP', crv: 'Ed25519', x: jwk.x });
  if (thumbprint !== kid)
    return { detail: `rotation names ${kid} but carries a key whose thumbprint is ${thumbprint}` };
  const stored = known.get(kid);
  if (stored?.publicJwk.x !== jwk.x)
    return { detail: `rotated-to key ${kid} is not among the ledger's public keys` };
  return kid;
}

async function checkCheckpoint(
  checkpoint: CheckpointRow,
  root: Buffer | undefined,
  known: Map<string, KeyRow>,
): Promise<string | undefined> {
  const recomputed = root?.toString('hex');
  if (recomputed !== checkpoint.rootHash) {
    return `checkpoint of tree size ${checkpoint.treeSize} says root ${checkpoint.rootHash}, the events give ${recomputed ?? '(none)'}`;
  }
  const key = known.get(headerKid(checkpoint.jws));
  const signed =
    key === undefined
      ? undefined
      : await verifyAttached(
          checkpoint.jws,
          createPublicKey({ key: { ...key.publicJwk }, format: 'jwk' }),
        );
  const body = signed as { treeSize?: number; rootHash?: string } | undefined;
  if (body?.treeSize !== checkpoint.treeSize || body.rootHash !== checkpoint.rootHash) {
    return `the signature of the checkpoint of tree size ${checkpoint.treeSize} does not verify or does not match it`;
  }
  return undefined;
}

interface ParsedEvent {
  readonly type: string;
  readonly subject: string;
  readonly ts: string;
  readonly payload: Record<string, unknown>;
}

function parseEvent(canonical: string): ParsedEvent | undefined {
  try {
    return JSON.parse(canonical) as ParsedEvent;
  } catch {
    return undefined;
  }
}
