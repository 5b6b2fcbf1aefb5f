import { useState, type ReactNode } from 'react';
import { exportEvents } from '../api/ledger.js';
import { problemOf, type Problem } from '../api/problem.js';
import type { Session } from '../api/session.js';
import { ProblemView } from '../problem-view.js';
import { saveFile } from '../save-file.js';
import { exportFileName } from './event-export.js';
import { describeFilter, type EventFilter } from './event-filter.js';

type ExportState =
  | { readonly state: 'idle' }
  | { readonly state: 'busy' }
  | { readonly state: 'done'; readonly count: number; readonly file: string }
  | { readonly state: 'failed'; readonly problem: Problem };

/** Saves the events that match the filter, every page of them, as a file of JSON lines. */
export function ExportButton({
  session,
  filter,
}: {
  session: Session;
  filter: EventFilter;
}): ReactNode {
  const [status, setStatus] = useState<ExportState>({ state: 'idle' });
  const described = describeFilter(filter);
  const run = (): void => {
    setStatus({ state: 'busy' });
    const file = exportFileName(filter);
    exportEvents(session.csrfToken, filter).then(
      (lines) => {
        saveFile(file, new Blob([...lines], { type: 'application/x-ndjson' }));
        setStatus({ state: 'done', count: lines.length, file });
      },
      (error: unknown) => {
        setStatus({ state: 'failed', problem: problemOf(error) });
      },
    );
  };
  return (
    <div className="export">
      <button type="button" onClick={run} disabled={status.state === 'busy'}>
        Download {described === '' ? 'all events' : 'the matching events'} (JSON lines)
      </button>
      <p className="hint" role="status">
        {status.state === 'busy' && 'Reading the events…'}
        {status.state === 'done' &&
          `Downloaded ${status.count} event${status.count === 1 ? '' : 's'} as ${status.file}: each line as GET /v1/ledger/events writes it, verifiable with the JWKS.`}
      </p>
      {status.state === 'failed' && (
        <ProblemView title="The export failed" problem={status.problem} />
      )}
    </div>
  );
}
