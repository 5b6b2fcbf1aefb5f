import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * RFC 8785 for the JSON the log holds (no -0, no lone surrogates), written here from the
 * specification rather than taken from the service: the auditor's side of the digest.
 */
function jcs(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${jcs(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The auditor's recomputation of a batch digest from the table alone (docs/inference.md). */
export async function recomputeDigest(db: pg.Client, batchId: number): Promise<string> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT request_id, endpoint, model_version, arm, inputs, outputs, error, latency_ms,
            routing_key_hash, created_at
     FROM predictions WHERE batch_id = $1 ORDER BY id`,
    [batchId],
  );
  const hash = createHash('sha256');
  for (const r of rows) {
    const line = jcs({ ...r, created_at: (r['created_at'] as Date).toISOString() });
    hash.update(`${line}\n`);
  }
  return hash.digest('hex');
}
