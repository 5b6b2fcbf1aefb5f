import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { checkChain } from './chain-verify.js';
import { kidOf } from './jws-verify.js';
import { splitCopyRows, unescapeCopyField } from './copy-text.js';
import { CHECKPOINT_EVENT, KEY_ROTATED } from './event-catalogue.js';
import type { VerifyFailureReason } from './ledger-verifier.js';
import { compactRange, type FrontierNode } from './merkle-append.js';

/**
 * What a verification worker reports about a run of consecutive events, read as COPY text
 * (seq, type, subject, canonical, hash, jws per line). The run is checked on its own: its
 * first event's `prev` and seq are reported so that the caller can stitch runs together.
 */
export interface ChunkResult {
  readonly count: number;
  readonly firstSeq: number;
  readonly firstPrev: string;
  readonly lastSeq: number;
  readonly lastHash: string;
  /** The stored (and, if no failure, recomputed) hash of each event, 32 bytes each. */
  readonly hashes: Uint8Array;
  /** The compact range of this run's leaves: the caller extends its Merkle frontier with it. */
  readonly range: FrontierNode[];
  /** From which index on each header kid signed: `[[0, kidA], [812, kidB]]`. */
  readonly kidRuns: [number, string][];
  /** Rotations and checkpoints: the caller follows the key schedule and checkpoint roots. */
  readonly specials: { index: number; type: string; canonical: string }[];
  readonly failure: { seq: number; reason: VerifyFailureReason; detail: string } | null;
}

const SPECIAL = new Set<string>([KEY_ROTATED, CHECKPOINT_EVENT]);

/**
 * Everything about a run of events that needs no knowledge of other runs: each canonical form,
 * hash and internal link, the indexed columns against the signed event, and each detached JWS
 * (RFC 7515 Appendix F) with the key its header names. Runs in worker threads.
 */
export function checkChunk(
  text: string,
  keys: ReadonlyMap<string, KeyObject>,
  signatures: boolean,
): ChunkResult {
  const rows = splitCopyRows(text).rows.map((fields) =>
    fields.map((f) => unescapeCopyField(f) ?? ''),
  );
  const hashes = new Uint8Array(rows.length * 32);
  const kidRuns: [number, string][] = [];
  const specials: ChunkResult['specials'] = [];
  let failure: ChunkResult['failure'] = null;
  const fail = (seq: number, reason: VerifyFailureReason, detail: string): void => {
    if (failure === null || seq < failure.seq) failure = { seq, reason, detail };
  };
  const parsed = rows.map(([seq, type, subject, canonical, hash, jws], index) => {
    let event: unknown;
    try {
      event = JSON.parse(canonical ?? '');
    } catch {
      event = canonical;
    }
    const e = event as { type?: unknown; subject?: unknown };
    if (e.type !== type || e.subject !== subject) {
      fail(Number(seq), 'hash mismatch', 'an indexed column differs from the signed event');
    }
    if (SPECIAL.has(type ?? ''))
      specials.push({ index, type: type ?? '', canonical: canonical ?? '' });
    hashes.set(Buffer.from(hash ?? '', 'hex').subarray(0, 32), index * 32);
    const kid = headerKid(jws ?? '');
    if (kidRuns.at(-1)?.[1] !== kid) kidRuns.push([index, kid]);
    return {
      seq: seq ?? '',
      event,
      canonical: canonical ?? '',
      hash: hash ?? '',
      jws: jws ?? '',
      kid,
    };
  });
  const first = parsed[0];
  const last = parsed.at(-1);
  const prev = (first?.event as { prev?: unknown } | undefined)?.prev;
  const firstPrev = typeof prev === 'string' ? prev : '';
  const firstSeq = Number(first?.seq ?? 0);
  const chain = checkChain(parsed, { expectedSeq: firstSeq, prevHash: firstPrev });
  if (!chain.ok) fail(chain.seq, chain.reason, chain.detail);
  // After the chain, so that at the same seq a hash mismatch is named rather than the
  // signature failure it causes.
  if (signatures) {
    for (const row of parsed) {
      const problem = checkSignature(row.canonical, row.jws, keys.get(row.kid));
      if (problem !== undefined)
        fail(Number(row.seq), keys.has(row.kid) ? 'bad signature' : 'unknown key', problem);
    }
  }
  const leaves = parsed.map((_, i) => hashes.subarray(i * 32, i * 32 + 32));
  return {
    count: rows.length,
    range: compactRange(firstSeq - 1, leaves),
    firstSeq,
    firstPrev,
    lastSeq: Number(last?.seq ?? 0),
    lastHash: last?.hash ?? '',
    hashes,
    kidRuns,
    specials,
    failure,
  };
}

const headerKids = new Map<string, string>();

/** The kid of a JWS's protected header; headers repeat, so each is decoded once. */
export function headerKid(jws: string): string {
  const header = jws.slice(0, Math.max(0, jws.indexOf('.')));
  const known = headerKids.get(header);
  if (known !== undefined) return known;
  const kid = kidOf(jws) ?? '';
  if (headerKids.size < 1000) headerKids.set(header, kid);
  return kid;
}

function checkSignature(
  canonical: string,
  jws: string,
  key: KeyObject | undefined,
): string | undefined {
  const parts = jws.split('.');
  if (parts.length !== 3 || parts[1] !== '') return 'not a detached compact JWS';
  if (!key) return `signed with ${headerKid(jws) || '(no kid)'}, which is not a ledger key`;
  const input = Buffer.from(
    `${parts[0] ?? ''}.${Buffer.from(canonical, 'utf8').toString('base64url')}`,
    'ascii',
  );
  return verify(null, input, key, Buffer.from(parts[2] ?? '', 'base64url'))
    ? undefined
    : 'signature does not verify';
}

export function publicKeysOf(jwks: readonly JWK[]): Map<string, KeyObject> {
  return new Map(
    jwks.map((jwk) => [jwk.kid ?? '', createPublicKey({ key: { ...jwk }, format: 'jwk' })]),
  );
}
