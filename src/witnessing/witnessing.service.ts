import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { CheckpointNotes, type CheckpointNote } from '../ledger/checkpoint-notes.service.js';
import { CheckpointService, type Checkpoint } from '../ledger/checkpoint.service.js';
import {
  formatNote,
  parseNote,
  parseSignatureLine,
  withSignatures,
} from '../ledger/signed-note.js';
import { checkpointText } from '../ledger/tlog-checkpoint.js';
import { GatehouseMetrics } from '../telemetry/metrics.js';
import { CosignaturesRepository, type CosignatureRow } from './cosignatures.repository.js';
import {
  addCheckpointBody,
  cosignatureFrom,
  cosignatureOver,
  parseSizeBody,
} from './witness-client.js';
import type { WitnessEndpoint, WitnessSet } from './witnesses-file.js';

export const WITNESSES = Symbol('WITNESSES');

/** How often the latest checkpoint is looked at: other replicas' checkpoints, retries due. */
const ROUND_MS = 2000;
const REQUEST_TIMEOUT_MS = 10_000;
/** A witness answers a few signature lines; anything longer is not read. */
const MAX_ANSWER_BYTES = 64 * 1024;
const FIRST_RETRY_MS = 1000;

/** A witness refused or failed; the message says how, for the log. */
class WitnessFailure extends Error {}

interface Backoff {
  readonly delayMs: number;
  readonly until: number;
}

/**
 * Submits the ledger's checkpoints to its witnesses (c2sp.org/tlog-witness) and keeps their
 * cosignatures: after each checkpoint this process makes, every few seconds for the latest one
 * (made by any replica) until each witness cosigned it, and on demand. A witness that fails is
 * retried with exponential backoff. A witness down never makes the service unready: the record
 * is kept either way, and witnessing only adds evidence to it; the signal is the
 * `gatehouse.ledger.unwitnessed` metric and an error log line after GATEHOUSE_WITNESS_ALERT_SECONDS.
 */
@Injectable()
export class WitnessingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Witnessing');
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private pending = false;
  /** Per witness name: the size it last cosigned, as far as this process knows. */
  private readonly known = new Map<string, number>();
  private readonly backoff = new Map<string, Backoff>();
  private latestCount = 0;
  /** When the ledger first had a checkpoint newer than its latest witnessed one (ms). */
  private unwitnessedSince: number | undefined;
  private alertedAt: number | undefined;
  private stopped = false;

  constructor(
    @Inject(WITNESSES) private readonly set: WitnessSet,
    @Inject(CONFIG) private readonly config: Config,
    private readonly checkpoints: CheckpointService,
    private readonly notes: CheckpointNotes,
    private readonly cosignatures: CosignaturesRepository,
    @Optional() private readonly metrics?: GatehouseMetrics,
  ) {}

  onApplicationBootstrap(): void {
    if (this.set.witnesses.length === 0) return;
    this.metrics?.observeWitnessing(() => ({
      cosignatures: this.latestCount,
      quorum: this.set.quorum,
      unwitnessedSeconds:
        this.unwitnessedSince === undefined
          ? 0
          : Math.max(0, (Date.now() - this.unwitnessedSince) / 1000),
    }));
    this.checkpoints.onCreated(() => {
      this.kick();
    });
    this.timer = setInterval(() => {
      this.kick();
    }, ROUND_MS);
    this.timer.unref();
    this.kick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.round;
  }

  get quorum(): number {
    return this.set.quorum;
  }

  get witnesses(): readonly WitnessEndpoint[] {
    return this.set.witnesses;
  }

  /**
   * Submits the latest checkpoint to every witness that has not cosigned it, now, whatever
   * their backoff; resolves once each answered or failed.
   */
  async submitNow(): Promise<void> {
    const run = this.round.then(() => this.submitLatest(true));
    this.round = run;
    await run;
  }

  /**
   * The cosignatures of a checkpoint by the configured witnesses' current keys, of its text
   * under the ledger's current origin (a witness knows a log by its origin: another origin is
   * another log to it).
   */
  async cosignaturesOf(treeSize: number): Promise<CosignatureRow[]> {
    const found = await this.checkpoints.latest(treeSize);
    if (!found) return [];
    return this.cosignaturesOver(this.textOf(found.checkpoint), treeSize);
  }

  /** The latest checkpoint note with the cosignatures of its text; undefined with none. */
  async latestNote(): Promise<string | undefined> {
    const latest = await this.checkpoints.latest();
    return latest && (await this.cosignedNote(latest.checkpoint)).note;
  }

  /** A checkpoint's signed note with the kept cosignatures that verify over its text. */
  async cosignedNote(
    checkpoint: Checkpoint,
  ): Promise<{ note: string; cosignatures: CosignatureRow[] }> {
    const { text, note } = await this.notes.noteOf(checkpoint);
    const cosignatures = await this.cosignaturesOver(text, checkpoint.treeSize);
    if (cosignatures.length === 0) return { note, cosignatures };
    const lines = cosignatures.map((c) => parseSignatureLine(c.signature));
    return { note: formatNote(withSignatures(parseNote(note), lines)), cosignatures };
  }

  /**
   * The largest tree size at or below `atOrBelow` that the quorum of configured witnesses
   * cosigned, as stored: a caller that relies on it verifies the lines over the text it means.
   */
  async latestWitnessedSize(atOrBelow: number): Promise<number | undefined> {
    const found = await this.cosignatures.latestWitnessed(
      atOrBelow,
      this.set.quorum,
      this.set.witnesses.map((w) => w.vkey),
    );
    return found?.treeSize;
  }

  /** At least the quorum of configured witnesses cosigned it (never, without witnesses). */
  witnessed(cosignatures: readonly CosignatureRow[]): boolean {
    return (
      this.set.quorum > 0 && new Set(cosignatures.map((c) => c.witness)).size >= this.set.quorum
    );
  }

  /**
   * The kept cosignatures of `treeSize` that verify over `text`, by configured witnesses, under
   * the current origin. Checked, not taken by tree size: a ledger truncated and grown again to
   * a size a witness cosigned holds other events under that size.
   */
  private async cosignaturesOver(text: string, treeSize: number): Promise<CosignatureRow[]> {
    return (await this.cosignatures.ofCheckpoint(treeSize)).filter((c) => {
      const witness = this.set.witnesses.find((w) => w.vkey === c.vkey);
      return (
        witness !== undefined &&
        c.origin === this.config.ledger.origin &&
        cosignatureOver(text, c.signature, witness.key) !== null
      );
    });
  }

  private textOf(checkpoint: Checkpoint): string {
    return checkpointText({
      origin: this.config.ledger.origin,
      treeSize: checkpoint.treeSize,
      rootHash: checkpoint.rootHash,
    });
  }

  /** One round at a time; a kick during a round makes one more after it. */
  private kick(): void {
    if (this.pending || this.stopped) return;
    this.pending = true;
    this.round = this.round.then(async () => {
      this.pending = false;
      await this.submitLatest(false);
    });
  }

  private async submitLatest(ignoreBackoff: boolean): Promise<void> {
    try {
      const latest = await this.notes.latest();
      if (!latest) return;
      const now = Date.now();
      await Promise.all(
        this.set.witnesses.map(async (witness) => {
          const backoff = this.backoff.get(witness.name);
          if (!ignoreBackoff && backoff && backoff.until > now) return;
          try {
            await this.submit(witness, latest);
            this.backoff.delete(witness.name);
          } catch (error) {
            const delayMs = Math.min(
              (backoff?.delayMs ?? FIRST_RETRY_MS / 2) * 2,
              this.set.retryMaxSeconds * 1000,
            );
            this.backoff.set(witness.name, { delayMs, until: Date.now() + delayMs });
            this.logger.warn(
              `witness ${witness.name} did not cosign checkpoint ${latest.checkpoint.treeSize}: ${(error as Error).message}; retrying in ${Math.round(delayMs / 1000)} s`,
            );
          }
        }),
      );
      await this.judgeQuorum(latest);
    } catch (error) {
      this.logger.error(`witnessing round failed: ${(error as Error).message}`);
    }
  }

  private async submit(witness: WitnessEndpoint, latest: CheckpointNote): Promise<void> {
    const size = latest.checkpoint.treeSize;
    const have = await this.cosignatures.ofCheckpoint(size);
    if (have.some((c) => c.vkey === witness.vkey)) {
      this.known.set(witness.name, Math.max(this.known.get(witness.name) ?? 0, size));
      return;
    }
    let old =
      this.known.get(witness.name) ??
      (await this.cosignatures.latestCosignedSize(witness.vkey)) ??
      0;
    // A second try only after a 409, which tells the size to prove from.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (old > size)
        throw new WitnessFailure(
          `it cosigned size ${old}, beyond this checkpoint of size ${size}: a later checkpoint will be submitted; if the ledger does not grow past it, the witness saw events this ledger no longer has (a restore from an older backup?)`,
        );
      const proof =
        old === 0 || old === size ? [] : (await this.checkpoints.consistencyProof(old, size)).proof;
      const { status, text } = await post(
        `${witness.url}/add-checkpoint`,
        addCheckpointBody(old, proof, latest.note),
      );
      if (status === 409) {
        old = parseSizeBody(text);
        this.known.set(witness.name, old);
        continue;
      }
      if (status !== 200)
        throw new WitnessFailure(`answered ${status}: ${text.split('\n')[0]?.slice(0, 200) ?? ''}`);
      const cosignature = cosignatureFrom(latest.note, text, witness.key);
      await this.cosignatures.insert({
        treeSize: size,
        witness: witness.name,
        vkey: witness.vkey,
        origin: this.config.ledger.origin,
        signature: cosignature.line,
        timestamp: cosignature.timestamp,
      });
      this.known.set(witness.name, size);
      return;
    }
    throw new WitnessFailure(`its cosigned size moved while submitting (now ${old})`);
  }

  private async judgeQuorum(latest: CheckpointNote): Promise<void> {
    const cosignatures = await this.cosignaturesOf(latest.checkpoint.treeSize);
    this.latestCount = new Set(cosignatures.map((c) => c.witness)).size;
    if (this.witnessed(cosignatures)) {
      this.unwitnessedSince = undefined;
      this.alertedAt = undefined;
      return;
    }
    this.unwitnessedSince ??= Date.parse(latest.checkpoint.ts);
    const seconds = (Date.now() - this.unwitnessedSince) / 1000;
    if (seconds < this.set.alertAfterSeconds || this.alertedAt === latest.checkpoint.treeSize)
      return;
    this.alertedAt = latest.checkpoint.treeSize;
    this.logger.error(
      `ALERT ledger unwitnessed for ${Math.round(seconds)} s: checkpoint ${latest.checkpoint.treeSize} has ${this.latestCount} of the ${this.set.quorum} cosignatures it needs (${this.set.witnesses.map((w) => w.name).join(', ')})`,
    );
  }
}

/** POSTs a body and reads at most MAX_ANSWER_BYTES of the answer. */
async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new WitnessFailure(`unreachable: ${(error as Error).message}`);
  }
  const reader = response.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader) {
    for (;;) {
      const read = await reader.read();
      if (read.done) break;
      const value = read.value as Uint8Array;
      size += value.length;
      if (size > MAX_ANSWER_BYTES) {
        await reader.cancel();
        throw new WitnessFailure(`answered more than ${MAX_ANSWER_BYTES} bytes`);
      }
      chunks.push(value);
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new WitnessFailure('answered a body that is not UTF-8');
  }
  return { status: response.status, text };
}
