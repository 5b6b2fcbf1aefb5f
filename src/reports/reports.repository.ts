import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { PublicJwk } from '../ledger/signing-keys.js';
import type { Json, JsonObject, ReportFormat } from './report-document.js';

/** A stored ledger event as the report needs it. */
export interface StoredEvent {
  readonly seq: number;
  readonly canonical: string;
  readonly hash: string;
  readonly jws: string;
}

export interface StoredReport {
  readonly id: string;
  readonly subject: string;
  readonly format: ReportFormat;
  readonly document: string;
  readonly sha256: string;
  readonly eventCount: number;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly periodFrom: Date | null;
  readonly periodTo: Date | null;
  readonly createdBy: string;
  readonly createdAt: Date;
}

export interface PromotionRef {
  readonly id: string;
  readonly model: string;
  readonly version: number;
  readonly artifactSha256: string;
}

interface RawEvent {
  seq: string;
  canonical: string;
  hash: string;
  jws: string;
}

interface RawReport {
  id: string;
  subject: string;
  format: ReportFormat;
  document: string;
  sha256: string;
  event_count: number;
  tree_size: string;
  root_hash: string;
  period_from: Date | null;
  period_to: Date | null;
  created_by: string;
  created_at: Date;
}

const EVENT_COLUMNS = 'seq, canonical, hash, jws';

/** All SQL of audit reports: reads across the registry, promotions, rollouts and ledger. */
@Injectable()
export class ReportsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async modelVersions(
    model: string,
  ): Promise<{ version: number; artifactSha256: string }[] | undefined> {
    const [found] = await this.dataSource.query<{ id: string }[]>(
      'SELECT id FROM models WHERE name = $1',
      [model],
    );
    if (!found) return undefined;
    const rows = await this.dataSource.query<{ version: number; artifact_sha256: string }[]>(
      'SELECT version, artifact_sha256 FROM model_versions WHERE model_id = $1 ORDER BY version',
      [found.id],
    );
    return rows.map((r) => ({ version: r.version, artifactSha256: r.artifact_sha256 }));
  }

  /** Promotions of a model (of one version when given), oldest first. */
  async promotionsOf(model: string, version?: number): Promise<PromotionRef[]> {
    return this.promotions(
      version === undefined ? 'm.name = $1' : 'm.name = $1 AND v.version = $2',
      version === undefined ? [model] : [model, version],
    );
  }

  async promotion(id: string): Promise<PromotionRef | undefined> {
    return (await this.promotions('p.id = $1', [id]))[0];
  }

  private async promotions(where: string, params: unknown[]): Promise<PromotionRef[]> {
    const rows = await this.dataSource.query<
      { id: string; model: string; version: number; artifact_sha256: string }[]
    >(
      `SELECT p.id, m.name AS model, v.version, v.artifact_sha256
       FROM promotion_requests p
       JOIN model_versions v ON v.id = p.model_version_id
       JOIN models m ON m.id = v.model_id
       WHERE ${where} ORDER BY p.created_at, p.id`,
      params,
    );
    return rows.map((r) => ({
      id: r.id,
      model: r.model,
      version: r.version,
      artifactSha256: r.artifact_sha256,
    }));
  }

  async rolloutsOf(promotionIds: readonly string[]): Promise<string[]> {
    if (promotionIds.length === 0) return [];
    const rows = await this.dataSource.query<{ id: string }[]>(
      'SELECT id FROM rollouts WHERE promotion_id = ANY($1::uuid[]) ORDER BY created_at, id',
      [promotionIds],
    );
    return rows.map((r) => r.id);
  }

  async promotionOfRollout(rolloutId: string): Promise<string | undefined> {
    const [row] = await this.dataSource.query<{ promotion_id: string }[]>(
      'SELECT promotion_id FROM rollouts WHERE id = $1',
      [rolloutId],
    );
    return row?.promotion_id;
  }

  async eventsBySubjects(subjects: readonly string[], limit: number): Promise<StoredEvent[]> {
    if (subjects.length === 0) return [];
    return this.events('subject = ANY($1::text[])', [subjects], limit);
  }

  async eventsOfType(type: string, limit: number): Promise<StoredEvent[]> {
    return this.events('type = $1', [type], limit);
  }

  /** Events with from <= ts < to. */
  async eventsBetween(from: string, to: string, limit: number): Promise<StoredEvent[]> {
    return this.events('ts >= $1 AND ts < $2', [from, to], limit);
  }

  /** Traffic changes of an endpoint with fromSeq <= seq <= toSeq. */
  async deploymentEvents(
    endpoint: string,
    fromSeq: number,
    toSeq: number,
    limit: number,
  ): Promise<StoredEvent[]> {
    return this.events(
      `subject = $1 AND type IN ('deployment.live.changed', 'deployment.traffic.changed')
       AND seq >= $2 AND seq <= $3`,
      [`endpoint:${endpoint}`, fromSeq, Number.isFinite(toSeq) ? toSeq : Number.MAX_SAFE_INTEGER],
      limit,
    );
  }

  private async events(where: string, params: unknown[], limit: number): Promise<StoredEvent[]> {
    const rows = await this.dataSource.query<RawEvent[]>(
      `SELECT ${EVENT_COLUMNS} FROM ledger_events WHERE ${where} ORDER BY seq LIMIT ${String(Math.trunc(limit))}`,
      params,
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      canonical: r.canonical,
      hash: r.hash,
      jws: r.jws,
    }));
  }

  /** Stored complete-subtree hashes of the Merkle tree, keyed `level:idx`. */
  async merkleNodes(
    ids: readonly { level: number; index: number }[],
  ): Promise<Map<string, Buffer>> {
    if (ids.length === 0) return new Map();
    const rows = await this.dataSource.query<{ level: number; idx: string; hash: Buffer }[]>(
      `SELECT n.level, n.idx, n.hash FROM ledger_merkle_nodes n
       JOIN unnest($1::smallint[], $2::bigint[]) AS want(level, idx) USING (level, idx)`,
      [ids.map((i) => i.level), ids.map((i) => i.index)],
    );
    return new Map(rows.map((r) => [`${r.level}:${r.idx}`, r.hash]));
  }

  /** Every public key the ledger used, oldest first; the last one signs now. */
  async keys(): Promise<PublicJwk[]> {
    const rows = await this.dataSource.query<{ public_jwk: PublicJwk }[]>(
      'SELECT public_jwk FROM ledger_keys ORDER BY first_seq',
    );
    return rows.map((r) => r.public_jwk);
  }

  /** Stored results as text re-parsed, so numbers come back as the canonical text wrote them. */
  async evaluationResults(ids: readonly string[]): Promise<Map<string, JsonObject>> {
    if (ids.length === 0) return new Map();
    const rows = await this.dataSource.query<{ id: string; result: string | null }[]>(
      'SELECT id, result::text AS result FROM evaluations WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return new Map(
      rows.flatMap((r) => (r.result === null ? [] : [[r.id, JSON.parse(r.result) as JsonObject]])),
    );
  }

  async gateEvidence(ids: readonly string[]): Promise<Map<string, Json[]>> {
    if (ids.length === 0) return new Map();
    const rows = await this.dataSource.query<{ id: string; gates: string }[]>(
      'SELECT id, gates::text AS gates FROM gate_evaluations WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return new Map(rows.map((r) => [r.id, JSON.parse(r.gates) as Json[]]));
  }

  async insert(manager: EntityManager, report: Omit<StoredReport, 'createdAt'>): Promise<void> {
    await manager.query(
      `INSERT INTO audit_reports (id, subject, format, document, sha256, event_count, tree_size,
         root_hash, period_from, period_to, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        report.id,
        report.subject,
        report.format,
        report.document,
        report.sha256,
        report.eventCount,
        report.treeSize,
        report.rootHash,
        report.periodFrom,
        report.periodTo,
        report.createdBy,
      ],
    );
  }

  async find(
    id: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<StoredReport | undefined> {
    const [r] = await manager.query<RawReport[]>('SELECT * FROM audit_reports WHERE id = $1', [id]);
    return r === undefined
      ? undefined
      : {
          id: r.id,
          subject: r.subject,
          format: r.format,
          document: r.document,
          sha256: r.sha256,
          eventCount: r.event_count,
          treeSize: Number(r.tree_size),
          rootHash: r.root_hash,
          periodFrom: r.period_from,
          periodTo: r.period_to,
          createdBy: r.created_by,
          createdAt: r.created_at,
        };
  }
}
