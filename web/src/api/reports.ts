import {
  downloadName,
  exportedReportOf,
  reportPath,
  type ExportedReport,
  type ReportFormat,
} from '../report-files.js';
import {
  ExportAuditReportDocument,
  ExportedReportsDocument,
  ReportPermissionsDocument,
  type ExportAuditReportMutation,
  type ExportedReportsQuery,
  type ReportPermissionsQuery,
} from '../../../src/client/generated/graphql.js';
import { runOperation } from './graphql-client.js';
import { problemOfResponse, ProblemError } from './problem.js';

export type ReportPermissions = ReportPermissionsQuery['me'];
export type ExportedAuditReport = ExportAuditReportMutation['exportAuditReport'];

/** The signed-in person's roles and abilities, which decide what the page offers. */
export async function reportPermissions(csrfToken: string): Promise<ReportPermissions> {
  return (await runOperation(ReportPermissionsDocument, {}, csrfToken)).me;
}

/** Every report the ledger says was exported, newest first, read page by page to the end. */
export async function exportedReports(csrfToken: string): Promise<ExportedReport[]> {
  const all: ExportedReport[] = [];
  let afterSeq: number | null = 0;
  while (afterSeq !== null) {
    const data: ExportedReportsQuery = await runOperation(
      ExportedReportsDocument,
      { afterSeq },
      csrfToken,
    );
    for (const event of data.ledgerEvents.events) {
      const report = exportedReportOf(event);
      if (report) all.push(report);
    }
    afterSeq = data.ledgerEvents.nextAfterSeq;
  }
  return all.reverse();
}

export async function exportAuditReport(
  csrfToken: string,
  subject: string,
  format: ReportFormat,
): Promise<ExportedAuditReport> {
  const data = await runOperation(ExportAuditReportDocument, { subject, format }, csrfToken);
  return data.exportAuditReport;
}

/** A report file's bytes as the service serves them, with the name it gives the file. */
export interface ReportFile {
  readonly name: string;
  readonly format: ReportFormat;
  readonly blob: Blob;
}

/**
 * The bytes of one format of a report. A plain link cannot fetch them: the session cookie
 * authenticates only a request carrying the session's CSRF token, and a link sends no header.
 */
export async function fetchReportFile(
  csrfToken: string,
  id: string,
  format: ReportFormat,
): Promise<ReportFile> {
  const response = await fetch(reportPath(id, format), {
    credentials: 'same-origin',
    headers: { 'x-csrf-token': csrfToken },
  });
  if (!response.ok) throw new ProblemError(await problemOfResponse(response));
  const fallback = `gatehouse-report-${id}.${format.toLowerCase()}`;
  return {
    name: downloadName(response.headers.get('content-disposition'), fallback),
    format,
    blob: await response.blob(),
  };
}
