import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Can } from '../auth/decorators.js';
import { BadInputError } from '../common/errors.js';
import { reportCsv } from './report-csv.js';
import type { ReportFile, ReportFormat } from './report-document.js';
import { reportPdf } from './report-pdf.js';
import { ReportsService } from './reports.service.js';

const BY_EXTENSION: Record<string, ReportFormat> = { json: 'JSON', pdf: 'PDF', csv: 'CSV' };
const MEDIA: Record<ReportFormat, string> = {
  JSON: 'application/json',
  PDF: 'application/pdf',
  CSV: 'text/csv; charset=utf-8',
};

/** `GET /v1/reports/{id}[.json|.pdf|.csv]`: the extension, else `Accept`, else the format asked for. */
@Controller()
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get('v1/reports/:file')
  @Can('read', 'Report')
  async report(
    @Param('file') file: string,
    @Headers('accept') accept: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const match = /^([^.]+)(?:\.([a-z]+))?$/.exec(file);
    const extension = match?.[2];
    if (!match || (extension !== undefined && !(extension in BY_EXTENSION)))
      throw new BadInputError('file', 'must be <id>, <id>.json, <id>.pdf or <id>.csv');
    const stored = await this.reports.get(match[1] ?? '');
    const format =
      (extension === undefined ? undefined : BY_EXTENSION[extension]) ??
      fromAccept(accept) ??
      stored.format;
    const name = `gatehouse-report-${stored.id}.${format.toLowerCase()}`;
    void reply
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('x-report-sha256', stored.sha256)
      .type(MEDIA[format]);
    switch (format) {
      case 'JSON':
        void reply.send(stored.document);
        return;
      case 'CSV':
        void reply.send(reportCsv((JSON.parse(stored.document) as ReportFile).report));
        return;
      case 'PDF': {
        const parsed = JSON.parse(stored.document) as ReportFile;
        void reply.send(await reportPdf(parsed.report, parsed.signature));
        return;
      }
    }
  }
}

/** The first of the three media types the client accepts, in its order; q-values are not weighed. */
function fromAccept(accept: string | undefined): ReportFormat | undefined {
  for (const part of (accept ?? '').split(',')) {
    const media = part.split(';')[0]?.trim().toLowerCase();
    if (media === 'application/pdf') return 'PDF';
    if (media === 'text/csv') return 'CSV';
    if (media === 'application/json') return 'JSON';
  }
  return undefined;
}
