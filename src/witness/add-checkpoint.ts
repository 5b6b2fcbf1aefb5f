import {
  NoteError,
  parseNote,
  verifyNote,
  type Note,
  type NoteSignature,
  type NoteVerifierKey,
} from '../ledger/signed-note.js';
import { EMPTY_ROOT, verifyConsistency } from '../ledger/merkle.js';
import { parseCheckpointText, type CheckpointText } from '../ledger/tlog-checkpoint.js';

/**
 * The witness's half of c2sp.org/tlog-witness `add-checkpoint`, as pure functions: the request
 * body read strictly, and the verdict on it given what the witness trusts and last cosigned.
 * The server around them does the I/O; these decide every status.
 */

/** The spec lets a client send at most 63 proof lines: a proof in a tree of 2^63 leaves. */
export const MAX_PROOF_LINES = 63;
/** A checkpoint, 63 proof lines and 64 signatures fit in a few kilobytes; this is ample. */
export const MAX_ADD_CHECKPOINT_BYTES = 64 * 1024;

export interface AddCheckpointRequest {
  readonly oldSize: number;
  readonly proof: readonly Buffer[];
  readonly note: Note;
  readonly checkpoint: CheckpointText;
}

/** A request the witness refuses, with the status the spec assigns. */
export class WitnessRefusal extends Error {
  override readonly name = 'WitnessRefusal';
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 422,
    message: string,
    /** 409 only: the size the witness last cosigned, which the answer's body carries. */
    readonly latestSize?: number,
  ) {
    super(message);
  }
}

/** Reads `old <size>\n`, the proof lines, a blank line and the checkpoint note; 400 otherwise. */
export function parseAddCheckpoint(body: string): AddCheckpointRequest {
  const bad = (reason: string): WitnessRefusal => new WitnessRefusal(400, reason);
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw bad('the body is an old size line, proof lines, a blank line and a note');
  const header = body.slice(0, blank).split('\n');
  const [oldLine = '', ...proofLines] = header;
  const old = /^old (0|[1-9][0-9]*)$/.exec(oldLine);
  if (!old?.[1]) throw bad('the first line is "old <size>", a decimal without leading zeroes');
  const oldSize = Number(old[1]);
  if (!Number.isSafeInteger(oldSize))
    throw bad(`old size ${old[1]} is beyond the sizes this witness handles (2^53 - 1)`);
  if (proofLines.length > MAX_PROOF_LINES)
    throw bad(`at most ${MAX_PROOF_LINES} consistency proof lines, not ${proofLines.length}`);
  const proof = proofLines.map((line, i) => {
    const hash = Buffer.from(line, 'base64');
    if (!/^[A-Za-z0-9+/]{43}=$/.test(line) || hash.toString('base64') !== line)
      throw bad(`proof line ${i + 1} is not a 32-byte hash in standard base64`);
    return hash;
  });
  let note: Note;
  let checkpoint: CheckpointText;
  try {
    note = parseNote(body.slice(blank + 2));
    checkpoint = parseCheckpointText(note.text);
  } catch (error) {
    if (error instanceof NoteError) throw bad(`the checkpoint: ${error.message}`);
    throw error;
  }
  return { oldSize, proof, note, checkpoint };
}

/** What the witness last cosigned for a log. */
export interface CosignedState {
  readonly treeSize: number;
  /** Lowercase hex. */
  readonly rootHash: string;
}

export interface Accepted {
  readonly checkpoint: CheckpointText;
  /** The log's signatures that verified: kept with the cosigned note, for monitors. */
  readonly logSignatures: readonly NoteSignature[];
}

/**
 * The spec's checks in its order: the origin known (404), a trusted log signature and none
 * failing (403), old size not beyond the checkpoint (400), old size the one last cosigned (409),
 * then the tree itself (422). Throws the refusal; returns what to cosign.
 */
export function judgeAddCheckpoint(
  request: AddCheckpointRequest,
  logKeys: readonly NoteVerifierKey[] | undefined,
  state: CosignedState | undefined,
): Accepted {
  const { checkpoint, oldSize, proof } = request;
  if (logKeys === undefined)
    throw new WitnessRefusal(404, `this witness does not know the log ${checkpoint.origin}`);
  try {
    verifyNote(request.note, logKeys);
  } catch (error) {
    if (error instanceof NoteError) throw new WitnessRefusal(403, error.message);
    throw error;
  }
  if (oldSize > checkpoint.treeSize)
    throw new WitnessRefusal(
      400,
      `old size ${oldSize} is beyond the checkpoint's size ${checkpoint.treeSize}`,
    );
  const latest = state?.treeSize ?? 0;
  if (oldSize !== latest)
    throw new WitnessRefusal(
      409,
      `old size ${oldSize} is not the size last cosigned, ${latest}`,
      latest,
    );
  const root = Buffer.from(checkpoint.rootHash, 'hex');
  if (checkpoint.treeSize === 0 && !root.equals(EMPTY_ROOT))
    throw new WitnessRefusal(422, 'a checkpoint of size 0 has the empty tree’s root');
  if (oldSize === 0) {
    if (proof.length > 0)
      throw new WitnessRefusal(422, 'from old size 0 the consistency proof is empty');
  } else if (oldSize === checkpoint.treeSize) {
    if (state?.rootHash !== checkpoint.rootHash)
      throw new WitnessRefusal(
        422,
        `the root at size ${oldSize} differs from the one cosigned: a fork of the log`,
      );
    if (proof.length > 0)
      throw new WitnessRefusal(422, 'between equal sizes the consistency proof is empty');
  } else if (
    !verifyConsistency(
      oldSize,
      checkpoint.treeSize,
      Buffer.from(state?.rootHash ?? '', 'hex'),
      root,
      proof,
    )
  ) {
    throw new WitnessRefusal(
      422,
      `the consistency proof from size ${oldSize} to ${checkpoint.treeSize} does not verify`,
    );
  }
  const logSignatures = request.note.signatures.filter((s) =>
    logKeys.some((k) => k.name === s.name && k.keyId === s.keyId),
  );
  return { checkpoint, logSignatures };
}
