import { createHash } from 'node:crypto';
import type { VerifyFailure } from '../ledger/ledger-verifier.js';
import { MAX_NOTE_BYTES, parseNote, verifyNote } from '../ledger/signed-note.js';
import { checkpointText, parseCheckpointText } from '../ledger/tlog-checkpoint.js';
import type { CosignatureRow } from './cosignatures.repository.js';
import { cosignatureOver } from './witness-client.js';
import type { WitnessEndpoint } from './witnesses-file.js';

/**
 * What a witness vouches for: it saw this ledger's tree at `treeSize` with `rootHash`, and
 * will cosign nothing that is not an extension of it. A ledger that now holds fewer events, or
 * other ones, is not the ledger the witness saw — whoever deleted or rewrote them.
 */
export interface WitnessClaim {
  readonly witness: string;
  readonly treeSize: number;
  /** Lowercase hex. */
  readonly rootHash: string;
  /** POSIX seconds, as the cosignature states. */
  readonly timestamp: number;
  /** Read from the witness itself, or from a cosignature the ledger keeps. */
  readonly source: 'witness' | 'ledger';
}

/**
 * What a claim says of the ledger as it stands: undefined when the ledger holds the tree the
 * witness saw; `truncated` when it holds fewer events; `forked` when its first `treeSize`
 * events give another root.
 */
export function claimFailure(
  claim: WitnessClaim,
  headSeq: number,
  rootAtClaim: string | undefined,
): VerifyFailure | undefined {
  const said = `${claim.witness} cosigned tree size ${claim.treeSize} at ${when(claim.timestamp)}${
    claim.source === 'ledger' ? ' (a cosignature the ledger keeps)' : ''
  }`;
  if (claim.treeSize > headSeq) {
    const missing = claim.treeSize - headSeq;
    return {
      seq: headSeq + 1,
      reason: 'truncated',
      detail: `${said}, but the ledger holds ${headSeq} events: ${missing === 1 ? '1 witnessed event is' : `${missing} witnessed events are`} missing`,
    };
  }
  if (rootAtClaim !== claim.rootHash)
    return {
      seq: claim.treeSize,
      reason: 'forked',
      detail: `${said} with root ${claim.rootHash}, but the ledger's first ${claim.treeSize} events give root ${rootAtClaim ?? '(none)'}: this is not the history the witness saw`,
    };
  return undefined;
}

/** The witness's monitoring path for a log: `<prefix>/<hex SHA-256 of the origin>/checkpoint`. */
export function monitoringUrl(witness: WitnessEndpoint, origin: string): string {
  return `${witness.url}/${createHash('sha256').update(origin, 'utf8').digest('hex')}/checkpoint`;
}

/**
 * Asks a witness for the latest checkpoint of `origin` it cosigned (c2sp.org/tlog-witness,
 * "Monitor Retrieval"). Null when it has cosigned none (404). Throws, saying why, when it
 * cannot be reached or answers something that is not that witness's cosignature of a checkpoint
 * of this origin.
 */
export async function fetchClaim(
  witness: WitnessEndpoint,
  origin: string,
  timeoutMs = 10_000,
): Promise<WitnessClaim | null> {
  const url = monitoringUrl(witness, origin);
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (response.status === 404) return null;
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  const body = await response.text();
  if (body.length > MAX_NOTE_BYTES) throw new Error(`${url} answered more than a note`);
  const note = parseNote(body);
  const checkpoint = parseCheckpointText(note.text);
  if (checkpoint.origin !== origin)
    throw new Error(`${url} answered a checkpoint of ${checkpoint.origin}, not of ${origin}`);
  const [cosigned] = verifyNote(note, [witness.key]);
  return {
    witness: witness.name,
    treeSize: checkpoint.treeSize,
    rootHash: checkpoint.rootHash,
    timestamp: cosigned?.timestamp ?? 0,
    source: 'witness',
  };
}

/**
 * A cosignature the ledger keeps, checked against the checkpoint it is stored with (origin, tree
 * size and root: the text it signs) and the witness's key as configured now. Null when it does
 * not verify: a stored line is evidence only if it still checks.
 */
export function storedClaim(
  row: CosignatureRow,
  checkpointRoot: string,
  witness: WitnessEndpoint,
): WitnessClaim | null {
  if (row.vkey !== witness.vkey) return null;
  let text: string;
  try {
    text = checkpointText({ origin: row.origin, treeSize: row.treeSize, rootHash: checkpointRoot });
  } catch {
    return null;
  }
  const cosigned = cosignatureOver(text, row.signature, witness.key);
  return (
    cosigned && {
      witness: witness.name,
      treeSize: row.treeSize,
      rootHash: checkpointRoot,
      timestamp: cosigned.timestamp ?? row.timestamp,
      source: 'ledger',
    }
  );
}

function when(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().replace('.000Z', 'Z');
}
