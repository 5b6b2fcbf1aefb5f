import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A witness's cosignature of one of the ledger's checkpoints, as stored. */
export interface CosignatureRow {
  readonly treeSize: number;
  /** The cosigner name (its key name). */
  readonly witness: string;
  /** The witness's verifier key, type 0x04, at the time it cosigned. */
  readonly vkey: string;
  /** The origin of the checkpoint text it signed. */
  readonly origin: string;
  /** `— <witness> base64(key ID || timestamp || signature)`, without a newline. */
  readonly signature: string;
  /** POSIX seconds, as the cosignature states. */
  readonly timestamp: number;
}

interface RawRow {
  tree_size: string;
  witness: string;
  vkey: string;
  origin: string;
  signature: string;
  signed_at: string;
}

/** All SQL on `ledger_cosignatures`. */
@Injectable()
export class CosignaturesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Once per checkpoint and key: a second answer of the same witness keeps the first. */
  async insert(row: CosignatureRow): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO ledger_cosignatures (tree_size, witness, vkey, origin, signature, signed_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [row.treeSize, row.witness, row.vkey, row.origin, row.signature, row.timestamp],
    );
  }

  async ofCheckpoint(treeSize: number): Promise<CosignatureRow[]> {
    const rows = await this.dataSource.query<RawRow[]>(
      'SELECT * FROM ledger_cosignatures WHERE tree_size = $1 ORDER BY witness, signed_at',
      [treeSize],
    );
    return rows.map(rowOf);
  }

  /** The largest tree size this key cosigned, as far as this ledger holds. */
  async latestCosignedSize(vkey: string): Promise<number | undefined> {
    const rows = await this.dataSource.query<{ size: string | null }[]>(
      'SELECT max(tree_size) AS size FROM ledger_cosignatures WHERE vkey = $1',
      [vkey],
    );
    const size = rows[0]?.size;
    return size === null || size === undefined ? undefined : Number(size);
  }

  /**
   * The latest checkpoint at or below `atOrBelow` cosigned by at least `quorum` distinct
   * witnesses among `vkeys`, with those cosignatures; undefined when there is none. What a
   * verifier asks: the newest point up to which truncation and forks are detectable.
   */
  async latestWitnessed(
    atOrBelow: number,
    quorum: number,
    vkeys: readonly string[],
  ): Promise<{ treeSize: number; cosignatures: CosignatureRow[] } | undefined> {
    if (quorum < 1 || vkeys.length === 0) return undefined;
    const found = await this.dataSource.query<{ tree_size: string }[]>(
      `SELECT tree_size FROM ledger_cosignatures
        WHERE tree_size <= $1 AND vkey = ANY($3)
        GROUP BY tree_size HAVING count(DISTINCT witness) >= $2
        ORDER BY tree_size DESC LIMIT 1`,
      [atOrBelow, quorum, vkeys],
    );
    const size = found[0]?.tree_size;
    if (size === undefined) return undefined;
    const cosignatures = (await this.ofCheckpoint(Number(size))).filter((c) =>
      vkeys.includes(c.vkey),
    );
    return { treeSize: Number(size), cosignatures };
  }
}

function rowOf(r: RawRow): CosignatureRow {
  return {
    treeSize: Number(r.tree_size),
    witness: r.witness,
    vkey: r.vkey,
    origin: r.origin,
    signature: r.signature,
    timestamp: Number(r.signed_at),
  };
}
