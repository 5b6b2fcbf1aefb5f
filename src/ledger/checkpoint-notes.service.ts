import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { CheckpointService, type Checkpoint } from './checkpoint.service.js';
import { LedgerKeysService } from './ledger-keys.service.js';
import {
  ed25519VerifierKey,
  formatNote,
  formatVkey,
  signNoteText,
  type NoteVerifierKey,
} from './signed-note.js';
import { KeyRing } from './signing-keys.js';
import { checkpointText } from './tlog-checkpoint.js';

/** A checkpoint as a C2SP signed note, beside the JSON form it states the same tree in. */
export interface CheckpointNote {
  readonly checkpoint: Checkpoint;
  /** The note text: origin, tree size, base64 root hash. */
  readonly text: string;
  /** The whole signed note, as `GET …/tlog/checkpoint` serves it. */
  readonly note: string;
}

/**
 * The ledger's checkpoints in the transparency-log format (c2sp.org/tlog-checkpoint): the same
 * tree size and root as the JSON checkpoint, under the ledger's origin, signed by the ledger's
 * current key with that origin as the key name. The time is left out: the C2SP format has no
 * time line, and the JSON checkpoint keeps it.
 */
@Injectable()
export class CheckpointNotes {
  private readonly origin: string;

  constructor(
    @Inject(CONFIG) config: Config,
    private readonly checkpoints: CheckpointService,
    private readonly keys: LedgerKeysService,
    private readonly ring: KeyRing,
  ) {
    this.origin = config.ledger.origin;
  }

  /** The latest checkpoint (of `treeSize`, when given) as a signed note; null when none. */
  async latest(treeSize?: number): Promise<CheckpointNote | null> {
    const found = await this.checkpoints.latest(treeSize);
    return found ? this.noteOf(found.checkpoint) : null;
  }

  async noteOf(checkpoint: Checkpoint): Promise<CheckpointNote> {
    const text = checkpointText({
      origin: this.origin,
      treeSize: checkpoint.treeSize,
      rootHash: checkpoint.rootHash,
    });
    const { keys } = await this.keys.jwks();
    const current = keys.at(-1);
    const key = current && this.ring.get(current.kid);
    if (!key) throw new Error('the ledger has no current signing key here');
    const signature = signNoteText(text, this.origin, key.privateKey);
    return { checkpoint, text, note: formatNote({ text, signatures: [signature] }) };
  }

  /** The verifier key (vkey) of every key the ledger has used, oldest first, under its origin. */
  async verifierKeys(): Promise<NoteVerifierKey[]> {
    const { keys } = await this.keys.jwks();
    return keys.map((jwk) => ed25519VerifierKey(this.origin, Buffer.from(jwk.x, 'base64url')));
  }

  async vkeys(): Promise<string[]> {
    return (await this.verifierKeys()).map(formatVkey);
  }
}
