/**
 * The report verifier of `gatehouse verify-report`, run in the browser. Loaded on first use:
 * it brings jose and the ledger's checks, which the console's other pages do not need.
 */
import type { Jwks } from '../../src/reports/report-document.js';
import type { ReportVerification } from '../../src/reports/report-verify.js';

export type { ReportFailure, ReportVerification } from '../../src/reports/report-verify.js';

/** The verdict the browser computes on `text` against the keys the auditor pinned. */
export async function verifyInBrowser(text: string, jwks: Jwks): Promise<ReportVerification> {
  const { verifyReport } = await import('../../src/reports/report-verify.js');
  return verifyReport(text, { jwks });
}
