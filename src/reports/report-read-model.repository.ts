import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Json, JsonObject } from './report-document.js';

/** A stored ledger event as the report needs it. */
export interface StoredEvent {
  readonly seq: number;
  readonly canonical: string;
  readonly hash: string;
  readonly jws: string;
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

const EVENT_COLUMNS = 'seq, canonical, hash, jws';

/**
 * What an audit report is made of, read where the modules that own it store it. A report is an
 * export of the record: it reads and never writes here, and everything it puts in a signed
 * document is a ledger event or a row the ledger fixes by digest, so it reads the tables
 * themselves rather than each module's service (which would make reports depend on every
 * module for reads that no other caller shares). The tables, and why:
 *
 * - `models`, `model_versions`: the versions and artifact digests of a model subject, whose
 *   events the report gathers;
 * - `promotion_requests`, `rollouts`: which promotions and rollouts a model, promotion or
 *   rollout subject covers;
 * - `ledger_events`: the events themselves, by subject, type, time range and an endpoint's
 *   traffic changes (append-only, so a read never sees a changed event);
 * - `evaluations`, `gate_evaluations`: the results and gate evidence the ledger holds only by
 *   digest; the report checks each against its event's digest before it signs.
 *
 * The Merkle tree and the signing keys come through the ledger module (CheckpointService,
 * LedgerKeysService); the reports' own table is ReportsRepository's. The reads are not one
 * transaction: the events are closed by seq (the checkpoint covers the newest), and the rows
 * read by id are those the events name, fixed by their digests.
 */
@Injectable()
export class ReportReadModel {
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
}
