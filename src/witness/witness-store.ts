import { createHash } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { parseNote } from '../ledger/signed-note.js';
import { parseCheckpointText } from '../ledger/tlog-checkpoint.js';
import type { CosignedState } from './add-checkpoint.js';

/** Lowercase hex SHA-256 of the origin: how the monitoring URL and the state files name a log. */
export function originHash(origin: string): string {
  return createHash('sha256').update(origin, 'utf8').digest('hex');
}

export interface StoredCheckpoint extends CosignedState {
  /** The checkpoint as cosigned: its text, the log signatures verified, the cosignature. */
  readonly note: string;
}

/**
 * The witness's state, in files: per log, the latest cosigned checkpoint note
 * (`checkpoints/<origin hash>`), replaced atomically — written beside, fsynced, renamed over,
 * the folder fsynced — so a crash leaves the old or the new one, never a torn one and never an
 * older one after a cosignature was answered. Refused forks and rollbacks are kept under
 * `evidence/<origin hash>/`, as presented.
 */
export class WitnessStore {
  private readonly checkpoints: string;
  private readonly evidence: string;
  private readonly latest = new Map<string, StoredCheckpoint>();

  constructor(readonly dir: string) {
    this.checkpoints = join(dir, 'checkpoints');
    this.evidence = join(dir, 'evidence');
    mkdirSync(this.checkpoints, { recursive: true, mode: 0o700 });
    mkdirSync(this.evidence, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.checkpoints)) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const note = readFileSync(join(this.checkpoints, name), 'utf8');
      const checkpoint = parseCheckpointText(parseNote(note).text);
      if (originHash(checkpoint.origin) !== name)
        throw new Error(`${join(this.checkpoints, name)} holds the log ${checkpoint.origin}`);
      this.latest.set(checkpoint.origin, {
        treeSize: checkpoint.treeSize,
        rootHash: checkpoint.rootHash,
        note,
      });
    }
  }

  get(origin: string): StoredCheckpoint | undefined {
    return this.latest.get(origin);
  }

  /** The origin whose hash this is, among the logs the witness cosigned. */
  originOfHash(hash: string): string | undefined {
    for (const origin of this.latest.keys()) if (originHash(origin) === hash) return origin;
    return undefined;
  }

  /** Durable before it returns: the caller answers the cosignature only after this. */
  put(origin: string, stored: StoredCheckpoint): void {
    const name = originHash(origin);
    const temporary = join(this.checkpoints, `.${name}.new`);
    writeDurably(temporary, stored.note);
    renameSync(temporary, join(this.checkpoints, name));
    syncFolder(this.checkpoints);
    this.latest.set(origin, stored);
  }

  /** Keeps a refused request of a known log, validly signed, as evidence; returns its file. */
  keepEvidence(origin: string, reason: string, body: string): string {
    const folder = join(this.evidence, originHash(origin));
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const digest = createHash('sha256').update(body, 'utf8').digest('hex');
    // Named by the body's digest: a log resending the same refused request adds no file.
    const file = join(folder, `${digest}.txt`);
    const temporary = `${file}.new`;
    writeDurably(temporary, `refused ${new Date().toISOString()}: ${reason}\n\n${body}`);
    renameSync(temporary, file);
    syncFolder(folder);
    return file;
  }
}

function writeDurably(file: string, text: string): void {
  const fd = openSync(file, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncFolder(folder: string): void {
  const fd = openSync(folder, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
