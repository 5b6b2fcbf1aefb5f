import {
  parseSignatureLine,
  parseVkey,
  verifyNote,
  type NoteSignature,
} from '../ledger/signed-note.js';

/** A stored cosignature as the witnessing module keeps it. */
export interface StoredCosignature {
  readonly witness: string;
  readonly vkey: string;
  /** The signature line, without its newline. */
  readonly signature: string;
}

/**
 * The cosignature lines among `stored` that verify over the checkpoint text `text`, one per
 * witness. A stored line was verified when it arrived, but over the text of that tree size at
 * the time: after a truncation and a regrowth, the same size has another root, and a line kept
 * from before is not a cosignature of it. A report carries only what verifies now.
 */
export function cosignaturesOver(
  text: string,
  stored: readonly StoredCosignature[],
): NoteSignature[] {
  const out = new Map<string, NoteSignature>();
  for (const row of stored) {
    if (out.has(row.witness)) continue;
    try {
      const signature = parseSignatureLine(row.signature);
      verifyNote({ text, signatures: [signature] }, [parseVkey(row.vkey)]);
      out.set(row.witness, signature);
    } catch {
      // Not a cosignature of this text: left out, never carried as if it were one.
    }
  }
  return [...out.values()];
}

/** Waits for `work`, but no longer than `ms`: the work goes on, the caller does not wait for it. */
export async function atMost(ms: number, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  try {
    await Promise.race([
      work.then(
        () => undefined,
        () => undefined,
      ),
      elapsed,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
