import { originFault } from '../common/log-origin.js';
import { decodeBase64, encodeBase64, NoteError } from './note-format.js';

/**
 * C2SP tlog-checkpoint note text: the origin, the tree size and the base64 root hash, one a
 * line. The same statement as the ledger's JSON checkpoint ({treeSize, rootHash}), in the form
 * transparency-log tools read; the time is not part of it (a witness's cosignature carries one).
 * Environment-neutral, as note-format.ts: the offline report verifier reads the note a report
 * carries with it, in the browser too.
 */
export interface CheckpointText {
  readonly origin: string;
  readonly treeSize: number;
  /** Lowercase hex, as the ledger writes hashes. */
  readonly rootHash: string;
  /** Extension lines: opaque; Gatehouse writes none. */
  readonly extensions: readonly string[];
}

export function checkpointText(c: Omit<CheckpointText, 'extensions'>): string {
  checkOrigin(c.origin);
  if (!Number.isSafeInteger(c.treeSize) || c.treeSize < 0)
    throw new NoteError('a tree size is a non-negative integer');
  if (!/^[0-9a-f]{64}$/.test(c.rootHash))
    throw new NoteError('a root hash is 64 lowercase hex digits');
  return `${c.origin}\n${c.treeSize}\n${encodeBase64(hexBytes(c.rootHash))}\n`;
}

export function parseCheckpointText(text: string): CheckpointText {
  if (!text.endsWith('\n')) throw new NoteError('a checkpoint text ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin = '', size = '', root = '', ...extensions] = lines;
  if (lines.length < 3)
    throw new NoteError('a checkpoint has an origin, a tree size and a root hash');
  checkOrigin(origin);
  if (!/^(?:0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size)))
    throw new NoteError('a checkpoint tree size is a decimal without leading zeroes');
  if (!/^[A-Za-z0-9+/]{43}=$/.test(root))
    throw new NoteError('a checkpoint root hash is 32 bytes of base64');
  let rootBytes: Uint8Array;
  try {
    rootBytes = decodeBase64(root, 'a checkpoint root hash');
  } catch {
    throw new NoteError('a checkpoint root hash is 32 bytes of canonical base64');
  }
  if (rootBytes.length !== 32)
    throw new NoteError('a checkpoint root hash is 32 bytes of canonical base64');
  if (extensions.some((l) => l === ''))
    throw new NoteError('a checkpoint extension line must not be empty');
  return { origin, treeSize: Number(size), rootHash: hexOf(rootBytes), extensions };
}

/** Throws when `origin` cannot name a log (`originFault`). */
export function checkOrigin(origin: string): void {
  const fault = originFault(origin);
  if (fault !== undefined) throw new NoteError(`origin ${JSON.stringify(origin)} ${fault}`);
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
