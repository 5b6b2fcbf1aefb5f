import { useId, useState, type ChangeEvent, type ReactNode, type SubmitEvent } from 'react';
import { parsePinnedJwks, reportFileKind } from '../report-files.js';
import { verifyInBrowser, type ReportVerification as Verdict } from '../report-verifier.js';

/** A report file to verify: one downloaded on this page, or one the auditor chose. */
export interface ReportCandidate {
  readonly name: string;
  readonly text: string;
  readonly origin: 'downloaded' | 'chosen';
  /** The digest `report.exported` recorded, when the file came from an export listed here. */
  readonly exportedSha256?: string;
}

type Verifying =
  | { readonly state: 'idle' }
  | { readonly state: 'verifying' }
  | { readonly state: 'refused'; readonly reason: string }
  | { readonly state: 'not-verified'; readonly reason: string }
  | { readonly state: 'done'; readonly verdict: Verdict; readonly candidate: ReportCandidate };

const RENDERINGS = {
  pdf: 'This is a PDF rendering of a report. It carries no signature over its own bytes; like gatehouse verify-report, the console verifies the signed JSON report. Download the JSON of the same report and verify that.',
  csv: 'This is a CSV rendering of a report. It carries no signature over its own bytes; like gatehouse verify-report, the console verifies the signed JSON report. Download the JSON of the same report and verify that.',
  other: 'This file is not a Gatehouse report: the console verifies the signed JSON report.',
} as const;

/**
 * The verdict on a report, computed in this browser by the verifier `gatehouse verify-report`
 * runs, against keys the auditor pins: the service is not asked whether its report is good.
 */
export function ReportVerification({
  candidate,
  onCandidate,
}: {
  candidate: ReportCandidate | null;
  onCandidate: (candidate: ReportCandidate) => void;
}): ReactNode {
  const id = useId();
  const [jwksText, setJwksText] = useState('');
  const [verifying, setVerifying] = useState<Verifying>({ state: 'idle' });
  const pinned = jwksText.trim() === '' ? null : parsePinnedJwks(jwksText);

  const readJwks = (event: ChangeEvent<HTMLInputElement>): void => {
    const file = event.target.files?.[0];
    if (!file) return;
    void file.text().then((text) => {
      setJwksText(text);
      setVerifying({ state: 'idle' });
    });
  };
  const readReport = (event: ChangeEvent<HTMLInputElement>): void => {
    const file = event.target.files?.[0];
    if (!file) return;
    void file.text().then((text) => {
      onCandidate({ name: file.name, text, origin: 'chosen' });
      setVerifying({ state: 'idle' });
    });
  };
  const verify = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const keys = parsePinnedJwks(jwksText);
    if (!keys.ok) {
      setVerifying({ state: 'refused', reason: keys.problem });
      return;
    }
    if (candidate === null) {
      setVerifying({
        state: 'refused',
        reason: 'no report: download its JSON above or choose a file',
      });
      return;
    }
    const kind = reportFileKind(candidate.text);
    if (kind !== 'json') {
      setVerifying({ state: 'not-verified', reason: RENDERINGS[kind] });
      return;
    }
    setVerifying({ state: 'verifying' });
    verifyInBrowser(candidate.text, keys.jwks).then(
      (verdict) => {
        setVerifying({ state: 'done', verdict, candidate });
      },
      (error: unknown) => {
        setVerifying({
          state: 'refused',
          reason: `the verifier could not run: ${error instanceof Error ? error.message : String(error)}`,
        });
      },
    );
  };

  return (
    <section aria-labelledby={`${id}-title`} aria-busy={verifying.state === 'verifying'}>
      <h2 id={`${id}-title`}>Verify a report in this browser</h2>
      <p>
        The verdict is computed here, by the verifier <code>gatehouse verify-report</code> runs,
        against the public keys you pin: your copy of <code>/.well-known/jwks.json</code>, obtained
        independently. It checks the report&apos;s signature, the checkpoint&apos;s, every
        event&apos;s hash, signature, link and inclusion proof, and every figure against the events.
        Only the signed JSON report is verified; its PDF and CSV are renderings of it.
      </p>
      <form className="decision" onSubmit={verify}>
        <label htmlFor={`${id}-jwks`}>Pinned JWKS</label>
        <p className="hint" id={`${id}-jwks-hint`}>
          {pinned === null
            ? 'Paste the JWK set, or choose its file.'
            : pinned.ok
              ? `Pins ${String(pinned.kids.length)} key(s): ${pinned.kids.join(', ')}`
              : pinned.problem}
        </p>
        <textarea
          id={`${id}-jwks`}
          rows={5}
          spellCheck={false}
          aria-describedby={`${id}-jwks-hint`}
          value={jwksText}
          onChange={(event) => {
            setJwksText(event.target.value);
            setVerifying({ state: 'idle' });
          }}
        />
        <label htmlFor={`${id}-jwks-file`}>JWKS file</label>
        <input
          id={`${id}-jwks-file`}
          type="file"
          accept=".json,.jwks,application/json"
          onChange={readJwks}
        />
        <label htmlFor={`${id}-report-file`}>Report file</label>
        <p className="hint" id={`${id}-report-hint`}>
          {candidate === null
            ? 'Choose a report file, or download a JSON report on this page.'
            : `To verify: ${candidate.name} (${candidate.origin === 'downloaded' ? 'downloaded on this page' : 'chosen from your files'})`}
        </p>
        <input
          id={`${id}-report-file`}
          type="file"
          accept=".json,.pdf,.csv,application/json"
          aria-describedby={`${id}-report-hint`}
          onChange={readReport}
        />
        <p>
          <button type="submit" disabled={verifying.state === 'verifying'}>
            Verify
          </button>
        </p>
      </form>
      <div role="status">
        {verifying.state === 'verifying' && <p>Verifying in this browser…</p>}
        {verifying.state === 'refused' && (
          <p className="problem">Not verified: {verifying.reason}.</p>
        )}
        {verifying.state === 'not-verified' && (
          <p className="problem">Not verified: {verifying.reason}</p>
        )}
        {verifying.state === 'done' && (
          <VerdictView verdict={verifying.verdict} candidate={verifying.candidate} />
        )}
      </div>
    </section>
  );
}

function VerdictView({
  verdict,
  candidate,
}: {
  verdict: Verdict;
  candidate: ReportCandidate;
}): ReactNode {
  const exported = candidate.exportedSha256;
  return (
    <div className={verdict.ok ? 'receipt' : 'problem'}>
      {verdict.ok ? (
        <p className="ok verdict">
          Valid: report {verdict.reportId} ({verdict.subject}) verifies against the pinned keys.
        </p>
      ) : (
        <>
          <p className="failed verdict">
            Invalid: {verdict.failures.length} check(s) failed
            {verdict.reportId === null ? '' : ` for report ${verdict.reportId}`}.
          </p>
          <ul aria-label="Failed checks">
            {verdict.failures.map((failure, i) => (
              <li key={i}>
                <strong>{failure.check}</strong>: {failure.detail}
              </li>
            ))}
          </ul>
        </>
      )}
      <dl className="facts">
        <dt>File</dt>
        <dd>{candidate.name}</dd>
        <dt>Checked</dt>
        <dd>
          {verdict.eventsChecked} events, {verdict.proofsChecked} inclusion proofs and{' '}
          {verdict.signaturesChecked} signatures
          {verdict.checkpoint
            ? ` against checkpoint ${String(verdict.checkpoint.treeSize)} (root ${verdict.checkpoint.rootHash})`
            : ''}
        </dd>
        <dt>SHA-256 of the file</dt>
        <dd>
          <span className="hash">{verdict.fileSha256}</span>
          {exported === undefined
            ? ''
            : exported === verdict.fileSha256
              ? ' — the digest report.exported recorded'
              : ` — not the digest report.exported recorded (${exported})`}
          {verdict.canonicalFile ? '' : ' (not the exported bytes: the file was reformatted)'}
        </dd>
      </dl>
    </div>
  );
}
