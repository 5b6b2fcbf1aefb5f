import {
  NoteError,
  formatSignatureLine,
  parseNote,
  parseSignatureLine,
  verifyNote,
  type NoteVerifierKey,
  type VerifiedSignature,
} from '../ledger/signed-note.js';

/**
 * The log's half of c2sp.org/tlog-witness: the add-checkpoint body Gatehouse sends and the
 * reading of what a witness answers. A witness is another organisation's server: its answer is
 * checked like any outside input.
 */

/** `old <size>`, the proof as base64 lines, a blank line, the checkpoint note. */
export function addCheckpointBody(
  oldSize: number,
  proofHex: readonly string[],
  note: string,
): string {
  const proof = proofHex.map((h) => `${Buffer.from(h, 'hex').toString('base64')}\n`).join('');
  return `old ${oldSize}\n${proof}\n${note}`;
}

/** A 409's body: the size the witness last cosigned, a decimal and a newline. */
export function parseSizeBody(text: string): number {
  const match = /^(0|[1-9][0-9]*)\n$/.exec(text);
  const size = Number(match?.[1]);
  if (!match || !Number.isSafeInteger(size))
    throw new NoteError(
      `a 409 answer is a tree size and a newline, not ${JSON.stringify(text.slice(0, 40))}`,
    );
  return size;
}

export interface ReceivedCosignature {
  /** The signature line, without its newline. */
  readonly line: string;
  /** POSIX seconds, as the cosignature states. */
  readonly timestamp: number;
}

/**
 * The witness's cosignature among the signature lines it answered, verified over the note's
 * text with its key. Lines of other keys are ignored, as the spec asks; none of its key, or one
 * that fails, is an error.
 */
export function cosignatureFrom(
  note: string,
  answer: string,
  witness: NoteVerifierKey,
): ReceivedCosignature {
  if (!answer.endsWith('\n') || answer.startsWith('\n'))
    throw new NoteError('a witness answers signature lines, each ending in a newline');
  const parsed = parseNote(`${note}${answer}`);
  const verified = verifyNote(parsed, [witness]);
  const timestamp = verified[0]?.timestamp;
  const signature = parsed.signatures.find(
    (s) => s.name === witness.name && s.keyId === witness.keyId,
  );
  if (signature === undefined || timestamp === undefined || timestamp === 0)
    throw new NoteError('the witness answered no timestamped cosignature of its key');
  return { line: formatSignatureLine(signature).slice(0, -1), timestamp };
}

/**
 * A kept cosignature line checked over a checkpoint text with the witness's key; null when it
 * is not a cosignature of that text. A line was checked when it arrived, but over the text of
 * its tree size then: after a truncation and a regrowth the same size has another root.
 */
export function cosignatureOver(
  text: string,
  line: string,
  witness: NoteVerifierKey,
): VerifiedSignature | null {
  try {
    return verifyNote({ text, signatures: [parseSignatureLine(line)] }, [witness])[0] ?? null;
  } catch {
    return null;
  }
}
