import { calculateJwkThumbprint } from 'jose';
import { checkChain } from './chain-verify.js';
import { GENESIS_PREV } from './ledger-event.js';
import type { CheckpointRow, EventRow, KeyRow, VerifyRow } from './ledger.repository.js';
import { verifyAttached } from './jws.js';
import { MerkleFrontier, type FrontierNode } from './merkle-append.js';
import { SignaturePool, type SignatureJob } from './signature-pool.js';
import { createPublicKey } from 'node:crypto';

export type VerifyFailureReason =
  | 'hash mismatch'
  | 'broken link'
  | 'bad signature'
  | 'unknown key'
  | 'gap'
  | 'checkpoint root mismatch'
  | 'invalid event';

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
  /** Events with seq in (afterSeq, toSeq], in seq order, at most `limit`. */
  events(afterSeq: number, toSeq: number, limit: number): Promise<VerifyRow[]>;
  /** The stored hash of one event (the link into the range), or undefined. */
  hashAt(seq: number): Promise<string | undefined>;
  /** Rotation events before `seq`, to know the key current at the start of the range. */
  rotationsBefore(seq: number): Promise<EventRow[]>;
  /** The complete subtrees covering [0, size), largest first. */
  frontier(size: number): Promise<FrontierNode[]>;
  checkpoints(fromSize: number, toSize: number): Promise<CheckpointRow[]>;
}

const PAGE = 20_000;
const SIGNATURE_BATCH = 2_000;
const KEY_ROTATED = 'ledger.key.rotated';
const CHECKPOINT = 'ledger.checkpoint';

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
  const pool =
    options.signatures === false
      ? undefined
      : new SignaturePool(
          keys.map((k) => k.publicJwk),
          options.workers,
        );
  const signatureChecks: Promise<{ seq: number; detail: string }[]>[] = [];
  let failure: VerifyFailure | undefined;
  let eventsChecked = 0;
  let signaturesChecked = 0;
  let checkpointsChecked = 0;
  const fail = (f: VerifyFailure): void => {
    if (failure === undefined || f.seq < failure.seq) failure = f;
  };
  // Read through a function: the loops below mutate `failure` via `fail`, which narrowing can't see.
  const firstFailingSeq = (): number => failure?.seq ?? Number.POSITIVE_INFINITY;

  try {
    let prevHash = fromSeq === 1 ? GENESIS_PREV : await source.hashAt(fromSeq - 1);
    if (prevHash === undefined) {
      fail({ seq: fromSeq - 1, reason: 'gap', detail: `event ${fromSeq - 1} is missing` });
      prevHash = GENESIS_PREV;
    }
    let kid = await currentKidAt(source, fromSeq, known);
    const frontier = new MerkleFrontier(fromSeq - 1, await source.frontier(fromSeq - 1));
    let size = fromSeq - 1;
    const checkpoints = await source.checkpoints(fromSeq, toSeq);
    let nextCheckpoint = 0;
    let jobs: SignatureJob[] = [];
    let after = fromSeq - 1;

    // The next page is read while this one is checked.
    const fetch = (from: number): Promise<VerifyRow[]> => {
      const page = source.events(from, toSeq, PAGE);
      page.catch(() => undefined);
      return page;
    };
    let nextPage = fetch(after);
    while (failure === undefined && after < toSeq) {
      const rows = await nextPage;
      const last = rows.at(-1)?.seq;
      if (last !== undefined && last < toSeq) nextPage = fetch(last);
      if (rows.length === 0) {
        fail({
          seq: after + 1,
          reason: 'gap',
          detail: `events ${after + 1} to ${toSeq} are missing`,
        });
        break;
      }
      const parsed = rows.map((row) => ({ row, event: parseEvent(row.canonical) }));
      const chain = checkChain(
        parsed.map(({ row, event }) => ({
          seq: row.seq,
          event: event ?? row.canonical,
          canonical: row.canonical,
          hash: row.hash,
        })),
        { expectedSeq: after + 1, prevHash },
      );
      if (!chain.ok) fail({ seq: chain.seq, reason: chain.reason, detail: chain.detail });

      for (const { row, event } of parsed) {
        if (row.seq >= firstFailingSeq()) break;
        if (event === undefined) break;
        if (event.type !== row.type || event.subject !== row.subject) {
          fail({
            seq: row.seq,
            reason: 'hash mismatch',
            detail: 'an indexed column differs from the signed event',
          });
          break;
        }
        const headerKid = kidOfHeader(row.jws);
        kid ??= headerKid;
        if (headerKid === undefined || !known.has(headerKid)) {
          fail({
            seq: row.seq,
            reason: 'unknown key',
            detail: `signed with ${headerKid ?? '(no kid)'}, which is not a ledger key`,
          });
          break;
        }
        if (headerKid !== kid) {
          fail({
            seq: row.seq,
            reason: 'bad signature',
            detail: `signed with ${headerKid}, but ${kid ?? ''} was current`,
          });
          break;
        }
        if (event.type === CHECKPOINT && event.payload['treeSize'] === size) {
          const root = frontier.root()?.toString('hex');
          if (event.payload['rootHash'] !== root) {
            fail({
              seq: row.seq,
              reason: 'checkpoint root mismatch',
              detail: `the checkpoint event says root ${String(event.payload['rootHash'])}, the events give ${root ?? '(none)'}`,
            });
            break;
          }
        }
        if (pool) {
          jobs.push({ seq: row.seq, payload: row.canonical, jws: row.jws, kid });
          if (jobs.length >= SIGNATURE_BATCH) {
            signatureChecks.push(pool.verify(jobs));
            signaturesChecked += jobs.length;
            jobs = [];
          }
        }
        if (event.type === KEY_ROTATED) {
          const next = await rotatedKid(event.payload, known);
          if (typeof next !== 'string') {
            fail({ seq: row.seq, reason: 'unknown key', detail: next.detail });
            break;
          }
          kid = next;
        }
        frontier.push(Buffer.from(row.hash, 'hex'));
        size = row.seq;
        eventsChecked++;
        while (
          nextCheckpoint < checkpoints.length &&
          checkpoints[nextCheckpoint]?.treeSize === size
        ) {
          const checkpoint = checkpoints[nextCheckpoint++];
          if (!checkpoint) break;
          checkpointsChecked++;
          const problem = await checkCheckpoint(checkpoint, frontier.root(), known);
          if (problem !== undefined)
            fail({ seq: checkpoint.eventSeq, reason: 'checkpoint root mismatch', detail: problem });
        }
        prevHash = row.hash;
        after = row.seq;
      }
      if (firstFailingSeq() !== Number.POSITIVE_INFINITY) break;
    }
    if (pool && jobs.length > 0) {
      signatureChecks.push(pool.verify(jobs));
      signaturesChecked += jobs.length;
    }
    for (const failures of await Promise.all(signatureChecks)) {
      for (const f of failures) fail({ seq: f.seq, reason: 'bad signature', detail: f.detail });
    }
  } finally {
    await pool?.close();
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
  const thumbprint = await calculateJwkThumbprint(
    { kty: 'OKP', crv: 'Ed25519', x: jwk.x },
    'sha256',
  );
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
  const kid = kidOfHeader(checkpoint.jws);
  const key = kid === undefined ? undefined : known.get(kid);
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

const headerKids = new Map<string, string | undefined>();

/** The kid of a JWS's protected header; headers repeat, so each is decoded once. */
function kidOfHeader(jws: string): string | undefined {
  const header = jws.slice(0, jws.indexOf('.'));
  if (headerKids.has(header)) return headerKids.get(header);
  const kid = decodeKid(header);
  if (headerKids.size < 1000) headerKids.set(header, kid);
  return kid;
}

function decodeKid(jws: string): string | undefined {
  try {
    const header = JSON.parse(
      Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString('utf8'),
    ) as { kid?: unknown };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}
