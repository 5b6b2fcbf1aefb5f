import { Injectable } from '@nestjs/common';
import { ConflictError, DomainError } from '../common/errors.js';
import { StoredTreeError } from './checkpoint.service.js';
import { LedgerRepository } from './ledger.repository.js';
import {
  encodeEntryBundle,
  MAX_BUNDLE_ENTRY_BYTES,
  sizesWithWidth,
  tileNodes,
  tilePath,
  tileWidth,
  TILE_WIDTH,
  type TileId,
} from './tiles.js';

/** A tile or bundle that the tree, at its size and its checkpoints' sizes, does not have. */
export class TileNotFoundError extends DomainError {
  constructor(path: string, reason: string) {
    super('NOT_FOUND', `tile ${path} does not exist: ${reason}`, { what: 'tile', key: path });
  }
}

/**
 * The ledger's tree as C2SP tlog-tiles, read from the stored complete-subtree hashes and the
 * events' canonical text; nothing is stored for tiles. A partial tile is served when its width
 * is the tile's width at the current tree size or at the size of some checkpoint, including
 * after the full tile exists (the spec allows deleting it then; keeping it costs nothing here
 * and lets a client that verified an old checkpoint fetch exactly what that checkpoint names).
 */
@Injectable()
export class TilesService {
  constructor(private readonly repository: LedgerRepository) {}

  /** The bytes of hash tile `tile` (level ≥ 0): its width's hashes, 32 bytes each. */
  async hashTile(tile: TileId & { level: number }): Promise<Buffer> {
    await this.assertServed(tile);
    const { level, from, count } = tileNodes(tile);
    const hashes = await this.repository.nodeRun(level, from, count);
    if (hashes.length !== count)
      throw new StoredTreeError(
        `tile ${tilePath(tile)} needs ${count} Merkle nodes of level ${level} from ${from}; ${hashes.length} are stored`,
      );
    return Buffer.concat(hashes);
  }

  /**
   * Entry bundle `tile`: each event's canonical text behind its length, so that SHA-256(0x00 ‖
   * entry) is the matching hash of level-0 tile N. An event longer than a uint16 prefix can say
   * cannot be in a bundle; the bundle holding it is refused, naming the event, and the NDJSON
   * export serves those events instead (docs/decisions.md).
   */
  async entryBundle(tile: TileId & { level: 'entries' }): Promise<Buffer> {
    await this.assertServed(tile);
    const after = Number(tile.index) * TILE_WIDTH;
    const rows = await this.repository.canonicalRun(after, tile.width);
    if (rows.length !== tile.width)
      throw new StoredTreeError(
        `entry bundle ${tilePath(tile)} needs events ${after + 1} to ${after + tile.width}; ${rows.length} are stored`,
      );
    const entries = rows.map((r) => Buffer.from(r.canonical, 'utf8'));
    const tooLong = entries.findIndex((e) => e.length > MAX_BUNDLE_ENTRY_BYTES);
    if (tooLong >= 0) {
      const seq = after + tooLong + 1;
      throw new ConflictError(
        `event ${seq} is ${entries[tooLong]?.length} bytes, more than the ${MAX_BUNDLE_ENTRY_BYTES} an entry bundle's uint16 length prefix can carry; read events ${after + 1} to ${after + tile.width} from /v1/ledger/events?afterSeq=${after}&limit=${tile.width}`,
        { seq, bytes: entries[tooLong]?.length, limit: MAX_BUNDLE_ENTRY_BYTES },
      );
    }
    return encodeEntryBundle(entries);
  }

  private async assertServed(tile: TileId): Promise<void> {
    const path = tilePath(tile);
    const treeSize = await this.repository.headSeq();
    const level = tile.level === 'entries' ? 0 : tile.level;
    const now = tileWidth(level, tile.index, treeSize);
    if (tile.width === TILE_WIDTH) {
      if (now < TILE_WIDTH)
        throw new TileNotFoundError(
          path,
          now === 0
            ? `the tree of ${treeSize} leaves does not reach it`
            : `it is not full yet: the tree of ${treeSize} leaves gives it ${now} hashes (${tilePath({ ...tile, width: now })})`,
        );
      return;
    }
    if (now === tile.width) return;
    if (now < tile.width)
      throw new TileNotFoundError(
        path,
        `the tree of ${treeSize} leaves gives it ${now} hashes, fewer than ${tile.width}`,
      );
    const sizes = sizesWithWidth(tile.level, tile.index, tile.width);
    if (!(await this.repository.checkpointBetween(sizes.from, sizes.to)))
      throw new TileNotFoundError(
        path,
        sizes.to - sizes.from === 1n
          ? `no checkpoint has tree size ${sizes.from}, the size that gives it width ${tile.width}, and the tree has grown past it`
          : `no checkpoint has a tree size from ${sizes.from} to ${sizes.to - 1n}, the sizes that give it width ${tile.width}, and the tree has grown past them`,
      );
  }
}
