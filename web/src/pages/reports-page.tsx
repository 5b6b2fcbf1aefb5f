import { useId, useState, type ReactNode, type SubmitEvent } from 'react';
import { problemOf, type Problem } from '../api/problem.js';
import {
  exportAuditReport,
  exportedReports,
  fetchReportFile,
  reportPermissions,
  type ExportedAuditReport,
  type ReportPermissions,
} from '../api/reports.js';
import type { Session } from '../api/session.js';
import { ProblemView } from '../problem-view.js';
import { reportAccess, type ReportAccess } from '../report-access.js';
import { REPORT_FORMATS, type ExportedReport, type ReportFormat } from '../report-files.js';
import { saveFile } from '../save-file.js';
import { useLoaded } from '../use-loaded.js';
import { ReportVerification, type ReportCandidate } from './report-verification.js';

/** Export a signed audit report, download it, and verify a report in this browser. */
export function ReportsPage({ session }: { session: Session }): ReactNode {
  const permissions = useLoaded(() => reportPermissions(session.csrfToken), [session.csrfToken]);
  const [candidate, setCandidate] = useState<ReportCandidate | null>(null);
  return (
    <div aria-busy={permissions.state === 'loading'}>
      <h1>Reports</h1>
      {permissions.state === 'loading' && <p role="status">Loading what you may do…</p>}
      {permissions.state === 'failed' && (
        <ProblemView title="Your permissions could not be read" problem={permissions.problem} />
      )}
      {permissions.state === 'loaded' && (
        <Exports session={session} me={permissions.value} onJson={setCandidate} />
      )}
      <ReportVerification candidate={candidate} onCandidate={setCandidate} />
    </div>
  );
}

function Exports({
  session,
  me,
  onJson,
}: {
  session: Session;
  me: ReportPermissions;
  onJson: (candidate: ReportCandidate) => void;
}): ReactNode {
  const access = reportAccess(me.abilities);
  // Each export adds a report.exported event: the list reads afresh after one.
  const [exports, setExports] = useState(0);
  const roles = me.roles.length > 0 ? me.roles.join(', ') : 'no roles';
  return (
    <>
      {access.export ? (
        <ExportForm
          session={session}
          onJson={onJson}
          onExported={() => {
            setExports(exports + 1);
          }}
        />
      ) : (
        <p>
          Your roles ({roles}) may not export audit reports: that needs the permission to export
          reports. You can still verify a report file below.
        </p>
      )}
      {access.list ? (
        <ExportedList session={session} access={access} reads={exports} onJson={onJson} />
      ) : (
        access.download && (
          <p>Your roles ({roles}) may not read the ledger, where exported reports are listed.</p>
        )
      )}
    </>
  );
}

type Exporting =
  | { readonly state: 'idle' }
  | { readonly state: 'exporting' }
  | { readonly state: 'failed'; readonly problem: Problem }
  | { readonly state: 'exported'; readonly report: ExportedAuditReport };

function ExportForm({
  session,
  onJson,
  onExported,
}: {
  session: Session;
  onJson: (candidate: ReportCandidate) => void;
  onExported: () => void;
}): ReactNode {
  const id = useId();
  const [subject, setSubject] = useState('');
  const [format, setFormat] = useState<ReportFormat>('JSON');
  const [exporting, setExporting] = useState<Exporting>({ state: 'idle' });
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setExporting({ state: 'exporting' });
    exportAuditReport(session.csrfToken, subject.trim(), format).then(
      (report) => {
        setExporting({ state: 'exported', report });
        onExported();
      },
      (error: unknown) => {
        setExporting({ state: 'failed', problem: problemOf(error) });
      },
    );
  };
  return (
    <section aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Export a signed report</h2>
      <form className="decision" onSubmit={submit}>
        <label htmlFor={`${id}-subject`}>Subject</label>
        <p className="hint" id={`${id}-subject-hint`}>
          <code>model:&lt;name&gt;</code>, <code>model:&lt;name&gt;@&lt;version&gt;</code>,{' '}
          <code>promotion:&lt;id&gt;</code>, <code>rollout:&lt;id&gt;</code> or{' '}
          <code>period:&lt;from&gt;/&lt;to&gt;</code> (RFC 3339 instants or dates)
        </p>
        <input
          id={`${id}-subject`}
          name="subject"
          required
          aria-describedby={`${id}-subject-hint`}
          value={subject}
          onChange={(event) => {
            setSubject(event.target.value);
          }}
        />
        <label htmlFor={`${id}-format`}>Format</label>
        <select
          id={`${id}-format`}
          name="format"
          value={format}
          onChange={(event) => {
            setFormat(REPORT_FORMATS.find((f) => f === event.target.value) ?? 'JSON');
          }}
        >
          <option value="JSON">JSON (signed, verifiable)</option>
          <option value="PDF">PDF (for people)</option>
          <option value="CSV">CSV (one row per event)</option>
        </select>
        <button type="submit" disabled={exporting.state === 'exporting'}>
          Export
        </button>
      </form>
      {exporting.state === 'exporting' && <p role="status">Exporting and signing the report…</p>}
      {exporting.state === 'failed' && (
        <ProblemView title="The report was not exported" problem={exporting.problem} />
      )}
      {exporting.state === 'exported' && (
        <ExportedFacts session={session} report={exporting.report} onJson={onJson} />
      )}
    </section>
  );
}

function ExportedFacts({
  session,
  report,
  onJson,
}: {
  session: Session;
  report: ExportedAuditReport;
  onJson: (candidate: ReportCandidate) => void;
}): ReactNode {
  return (
    <div className="receipt">
      <p role="status">
        Exported report <code className="hash">{report.id}</code> ({report.format}).
      </p>
      <dl className="facts">
        <dt>Subject</dt>
        <dd>{report.subject}</dd>
        <dt>Events</dt>
        <dd>
          {report.eventCount}, each with an inclusion proof in the checkpoint of {report.treeSize}{' '}
          events, root <code className="hash">{report.rootHash}</code>
        </dd>
        <dt>SHA-256 of the JSON file</dt>
        <dd className="hash">{report.sha256}</dd>
      </dl>
      <Downloads
        session={session}
        report={{ id: report.id, subject: report.subject, sha256: report.sha256 }}
        onJson={onJson}
      />
    </div>
  );
}

type Download =
  | { readonly state: 'idle' }
  | { readonly state: 'downloading'; readonly format: ReportFormat }
  | { readonly state: 'failed'; readonly problem: Problem }
  | { readonly state: 'saved'; readonly name: string; readonly format: ReportFormat };

/**
 * The three files of a report. The JSON downloaded here is also handed to the verifier below,
 * with the digest the export recorded, so that the auditor checks the very bytes saved.
 */
function Downloads({
  session,
  report,
  onJson,
}: {
  session: Session;
  report: { readonly id: string; readonly subject: string; readonly sha256: string };
  onJson: (candidate: ReportCandidate) => void;
}): ReactNode {
  const [download, setDownload] = useState<Download>({ state: 'idle' });
  const fetchFile = (format: ReportFormat): void => {
    setDownload({ state: 'downloading', format });
    fetchReportFile(session.csrfToken, report.id, format)
      .then(async (file) => {
        saveFile(file.name, file.blob);
        if (format === 'JSON')
          onJson({
            name: file.name,
            text: await file.blob.text(),
            origin: 'downloaded',
            exportedSha256: report.sha256,
          });
        setDownload({ state: 'saved', name: file.name, format });
      })
      .catch((error: unknown) => {
        setDownload({ state: 'failed', problem: problemOf(error) });
      });
  };
  return (
    <div>
      <div className="pager">
        {REPORT_FORMATS.map((format) => (
          <button
            key={format}
            type="button"
            disabled={download.state === 'downloading'}
            onClick={() => {
              fetchFile(format);
            }}
          >
            Download {format}
            <span className="visually-hidden"> of {report.subject}</span>
          </button>
        ))}
      </div>
      {download.state === 'downloading' && (
        <p role="status">Downloading the {download.format} file…</p>
      )}
      {download.state === 'saved' && (
        <p role="status">
          Saved {download.name}
          {download.format === 'JSON' ? '; it is ready to verify below.' : '.'}
        </p>
      )}
      {download.state === 'failed' && (
        <ProblemView title="The report could not be downloaded" problem={download.problem} />
      )}
    </div>
  );
}

function ExportedList({
  session,
  access,
  reads,
  onJson,
}: {
  session: Session;
  access: ReportAccess;
  reads: number;
  onJson: (candidate: ReportCandidate) => void;
}): ReactNode {
  const id = useId();
  const reports = useLoaded(() => exportedReports(session.csrfToken), [session.csrfToken, reads]);
  return (
    <section aria-labelledby={`${id}-title`} aria-busy={reports.state === 'loading'}>
      <h2 id={`${id}-title`}>Exported reports</h2>
      {reports.state === 'loading' && <p role="status">Loading the exported reports…</p>}
      {reports.state === 'failed' && (
        <ProblemView title="The exported reports could not be listed" problem={reports.problem} />
      )}
      {reports.state === 'loaded' && reports.value.length === 0 && (
        <p role="status">No report has been exported yet.</p>
      )}
      {reports.state === 'loaded' && reports.value.length > 0 && (
        <ExportedTable session={session} reports={reports.value} access={access} onJson={onJson} />
      )}
    </section>
  );
}

function ExportedTable({
  session,
  reports,
  access,
  onJson,
}: {
  session: Session;
  reports: readonly ExportedReport[];
  access: ReportAccess;
  onJson: (candidate: ReportCandidate) => void;
}): ReactNode {
  return (
    <table>
      <caption>
        {reports.length === 1 ? '1 report' : `${String(reports.length)} reports`}, newest first,
        from their <code>report.exported</code> events
      </caption>
      <thead>
        <tr>
          <th scope="col">Subject</th>
          <th scope="col">Exported</th>
          <th scope="col">Events</th>
          <th scope="col">SHA-256 of the JSON</th>
          {access.download && <th scope="col">Files</th>}
        </tr>
      </thead>
      <tbody>
        {reports.map((report) => (
          <tr key={report.id}>
            <th scope="row">{report.subject}</th>
            <td>
              {report.ts} by {report.exportedBy} as {report.format} (seq {report.seq})
            </td>
            <td>
              {report.eventCount} (checkpoint {report.treeSize})
            </td>
            <td className="hash">{report.sha256}</td>
            {access.download && (
              <td>
                <Downloads session={session} report={report} onJson={onJson} />
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
