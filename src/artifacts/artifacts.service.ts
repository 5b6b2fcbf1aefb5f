import { readFile } from 'node:fs/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { BlobStore } from '../blobs/blob-store.js';
import { BadInputError, NotFoundError } from '../common/errors.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService } from '../ledger/ledger.service.js';
import type { TensorSpec } from '../runtime/tensor-spec.js';
import type { ArtifactEntity } from './artifact.entity.js';
import { inspectArtifact, type InspectedArtifact } from './artifact-inspection.js';
import { ArtifactsRepository } from './artifacts.repository.js';

/** What `PUT /v1/artifacts` answers, the same for the first upload of some bytes and any repeat. */
export interface ArtifactInfo {
  readonly sha256: string;
  readonly size: number;
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];
  readonly opsets: Record<string, number>;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * ONNX artifacts: content-addressed, inspected once, immutable. Other modules (the registry,
 * inference) ask `get` for an artifact's signature rather than reading the table.
 */
@Injectable()
export class ArtifactsService {
  readonly maxBytes: number;

  constructor(
    private readonly blobs: BlobStore,
    private readonly repository: ArtifactsRepository,
    private readonly ledger: LedgerService,
    @Inject(CONFIG) config: Config,
  ) {
    this.maxBytes = config.limits.artifactMaxBytes;
  }

  /**
   * Streams the bytes into the blob store and keeps them only if ONNX Runtime loads them.
   * The first upload of some bytes inserts the row and its `artifact.uploaded` event in one
   * transaction; a repeat answers the same and records nothing.
   */
  async upload(body: AsyncIterable<Uint8Array>, principal: Principal): Promise<ArtifactInfo> {
    const seen: { known?: ArtifactEntity | null; inspected?: InspectedArtifact } = {};
    const stored = await this.blobs.put(body, {
      maxBytes: this.maxBytes,
      what: 'artifact',
      inspect: async (tmpPath, sha256) => {
        // Bytes already accepted were inspected then; the row says what was learned.
        seen.known = await this.repository.find(sha256);
        if (!seen.known) seen.inspected = await inspectArtifact(await readFile(tmpPath));
      },
    });
    if (seen.known) return infoOf(seen.known);
    const facts = seen.inspected;
    if (!facts) throw new Error('artifact inspection did not run');
    const row = await this.ledger.transaction(async (tx) => {
      const inserted = await this.repository.insertIfAbsent(tx.manager, {
        sha256: stored.sha256,
        size: stored.size,
        format: 'onnx',
        inputs: facts.inputs,
        outputs: facts.outputs,
        opsets: facts.opsets,
        createdBy: principal.sub,
      });
      if (inserted) {
        tx.record({
          type: 'artifact.uploaded',
          subject: `artifact:${stored.sha256}`,
          actor: actorOf(principal),
          payload: {
            sha256: stored.sha256,
            size: stored.size,
            inputs: facts.inputs,
            outputs: facts.outputs,
            opsets: facts.opsets,
          },
        });
      }
      const saved = await this.repository.find(stored.sha256, tx.manager);
      if (!saved) throw new Error(`artifact ${stored.sha256} vanished after insert`);
      return saved;
    });
    return infoOf(row);
  }

  /**
   * The artifact, or null when no upload produced this digest; `manager` when the read belongs
   * to the caller's unit of work.
   */
  async find(sha256: string, manager?: EntityManager): Promise<ArtifactEntity | null> {
    return this.repository.find(checkDigest('sha256', sha256), manager);
  }

  /** The artifacts behind some versions, by digest (one query for all of them). */
  async bySha256(sha256s: readonly string[]): Promise<Map<string, ArtifactEntity>> {
    if (sha256s.length === 0) return new Map();
    const rows = await this.repository.findMany([...new Set(sha256s)]);
    return new Map(rows.map((r) => [r.sha256, r]));
  }

  /**
   * The artifact and its signature, for modules that refer to one (a model version being
   * registered, say): NotFoundError when these bytes were never uploaded.
   */
  async get(sha256: string): Promise<ArtifactEntity> {
    const found = await this.find(sha256);
    if (!found) throw new NotFoundError('artifact', sha256);
    return found;
  }
}

export function checkDigest(field: string, value: string): string {
  if (!SHA256.test(value))
    throw new BadInputError(field, 'must be a SHA-256 digest: 64 lowercase hexadecimal digits');
  return value;
}

function infoOf(row: ArtifactEntity): ArtifactInfo {
  return {
    sha256: row.sha256,
    size: row.size,
    inputs: row.inputs,
    outputs: row.outputs,
    opsets: row.opsets,
  };
}
