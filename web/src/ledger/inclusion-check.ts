import { leafHashHex, verifyInclusionHex } from '../../../src/ledger/merkle-inclusion.js';

/** What the browser holds to check one event against a checkpoint, as the API answers them. */
export interface ProvenEvent {
  readonly seq: number;
  /** The RFC 8785 text that was hashed and signed. */
  readonly canonical: string;
  readonly hash: string;
}

export interface AuditPath {
  readonly seq: number;
  readonly treeSize: number;
  readonly leafHash: string;
  readonly proof: readonly string[];
}

export interface CheckedRoot {
  readonly treeSize: number;
  readonly rootHash: string;
}

export type InclusionVerdict =
  | { readonly included: true; readonly leafHash: string }
  | { readonly included: false; readonly leafHash: string; readonly reason: string };

/**
 * Checks, with nothing but WebCrypto, that `event` is leaf seq − 1 of the tree whose root the
 * checkpoint signed: the leaf hash is recomputed from the canonical text (RFC 9162 §2.1.1, the
 * same hash that links the chain), and the audit path folded up to the checkpoint's root
 * (§2.1.3.2). The service's own leaf hash and tree size are compared, never trusted.
 */
export async function checkInclusion(
  event: ProvenEvent,
  path: AuditPath,
  checkpoint: CheckedRoot,
): Promise<InclusionVerdict> {
  const leafHash = await leafHashHex(event.canonical);
  const refuse = (reason: string): InclusionVerdict => ({ included: false, leafHash, reason });
  if (leafHash !== event.hash) {
    return refuse(`the event's canonical text hashes to ${leafHash}, not its hash ${event.hash}`);
  }
  if (path.seq !== event.seq) return refuse(`the proof is of event ${path.seq}, not ${event.seq}`);
  if (path.leafHash !== leafHash) {
    return refuse(`the proof's leaf hash ${path.leafHash} is not the event's ${leafHash}`);
  }
  if (path.treeSize !== checkpoint.treeSize) {
    return refuse(
      `the proof is for a tree of ${path.treeSize} events, the checkpoint's has ${checkpoint.treeSize}`,
    );
  }
  const folds = await verifyInclusionHex(
    leafHash,
    event.seq - 1,
    checkpoint.treeSize,
    path.proof,
    checkpoint.rootHash,
  );
  return folds
    ? { included: true, leafHash }
    : refuse("the audit path does not lead from the leaf hash to the checkpoint's root");
}
