import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { ReportFormat } from './report-document.js';

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

/** The SQL of the reports' own table, audit_reports: each exported report, stored once. */
@Injectable()
export class ReportsRepository {
  constructor(private readonly dataSource: DataSource) {}

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
