import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import type { ReportFormat } from './report-document.js';
import { AuditReportModel, ReportFormatEnum } from './report.model.js';
import type { StoredReport } from './reports.repository.js';
import { ReportsService } from './reports.service.js';

@Resolver(() => AuditReportModel)
export class ReportsResolver {
  constructor(private readonly reports: ReportsService) {}

  @Mutation(() => AuditReportModel, {
    description:
      'Exports a signed audit report of a model, a model version, a promotion, a rollout or a period; ledgered as report.exported.',
  })
  @Can('export', 'Report')
  async exportAuditReport(
    @Args('subject') subject: string,
    @Args('format', { type: () => ReportFormatEnum, defaultValue: 'JSON' }) format: ReportFormat,
    @CurrentPrincipal() principal: Principal,
  ): Promise<AuditReportModel> {
    return reportView(await this.reports.export(subject, format, principal));
  }

  @Query(() => AuditReportModel, {
    description: 'An exported report (NOT_FOUND when there is none).',
  })
  @Can('read', 'Report')
  async auditReport(@Args('id', { type: () => ID }) id: string): Promise<AuditReportModel> {
    return reportView(await this.reports.get(id));
  }
}

const EXTENSIONS: Record<ReportFormat, string> = { JSON: 'json', PDF: 'pdf', CSV: 'csv' };

function reportView(r: StoredReport): AuditReportModel {
  return {
    id: r.id,
    subject: r.subject,
    format: r.format,
    url: `/v1/reports/${r.id}.${EXTENSIONS[r.format]}`,
    sha256: r.sha256,
    eventCount: r.eventCount,
    treeSize: r.treeSize,
    rootHash: r.rootHash,
    periodFrom: r.periodFrom?.toISOString() ?? null,
    periodTo: r.periodTo?.toISOString() ?? null,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
  };
}
