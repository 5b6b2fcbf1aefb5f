/**
 * `gatehouse report export ID --format pdf|json|csv -o FILE`: a signed audit report of a
 * promotion or a rollout (or any report subject), exported on the service and saved here.
 */
import { randomUUID } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import {
  ExportReportDocument,
  ReportSubjectOfDocument,
  type ReportFormat,
} from '../../client/generated/graphql.js';
import type { GatehouseClient } from '../../client/gatehouse-client.js';
import { ProblemError } from '../../client/problem.js';
import { sha256Hex } from '../../policy/policy-file.js';
import { EXIT } from '../exit.js';
import { connect, finish, runVerb, type RemoteOptions } from '../remote/remote.js';
import { checkIdArgument } from './promotion.js';

export interface ReportExportOptions extends RemoteOptions {
  readonly format?: string;
  readonly output: string;
}

const FORMATS: Record<string, ReportFormat> = { json: 'JSON', pdf: 'PDF', csv: 'CSV' };

function badInput(message: string): ProblemError {
  return new ProblemError({ code: 'BAD_USER_INPUT', message });
}

/** --format, else the output file's extension, else JSON (the one that verifies offline). */
export function reportFormatOf(format: string | undefined, output: string): ReportFormat {
  if (format !== undefined) {
    const chosen = FORMATS[format.toLowerCase()];
    if (!chosen)
      throw badInput(`--format: must be pdf, json or csv, not ${JSON.stringify(format)}`);
    return chosen;
  }
  return FORMATS[extname(output).slice(1).toLowerCase()] ?? 'JSON';
}

/**
 * A subject as the service spells it (`promotion:<id>`, `model:credit-risk@2`, a period), or a
 * bare id, which is a promotion's or a rollout's, whichever the service knows.
 */
async function subjectOf(client: GatehouseClient, id: string): Promise<string> {
  if (id.includes(':')) return id;
  const known = checkIdArgument('ID', id);
  const found = await client.run(ReportSubjectOfDocument, { id: known });
  if (found.promotionRequest) return `promotion:${known}`;
  if (found.rollout) return `rollout:${known}`;
  throw new ProblemError({ code: 'NOT_FOUND', message: `no promotion or rollout has id ${known}` });
}

export function reportExport(id: string, options: ReportExportOptions): Promise<void> {
  return runVerb(options, async () => {
    const format = reportFormatOf(options.format, options.output);
    const client = await connect(options);
    const subject = await subjectOf(client, id);
    const { exportAuditReport: report } = await client.run(ExportReportDocument, {
      subject,
      format,
    });
    const { bytes } = await client.download(`v1/reports/${report.id}.${format.toLowerCase()}`);
    // The JSON file is the signed document itself; its digest is the one the ledger holds.
    if (format === 'JSON') {
      const digest = sha256Hex(bytes);
      if (digest !== report.sha256)
        throw new Error(`the report downloaded has SHA-256 ${digest}, not ${report.sha256}`);
    }
    if (options.output === '-') {
      process.stdout.write(bytes);
      process.exitCode = EXIT.ok;
      return;
    }
    save(options.output, bytes);
    finish(
      options,
      EXIT.ok,
      { report: { ...report, file: options.output, bytes: bytes.byteLength } },
      `Report ${report.id} of ${report.subject} (${format}, ${report.eventCount} events, tree size ${report.treeSize}) saved to ${options.output}`,
    );
  });
}

/** Written beside the target and renamed: a half-written file is never left under its name. */
export function save(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.${randomUUID()}.part`;
  try {
    writeFileSync(temporary, bytes, { flag: 'wx' });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw badInput(`-o: ${path}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be written'}`);
  }
}
