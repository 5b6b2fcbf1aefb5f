import { Worker } from 'node:worker_threads';
import { BatchStore } from './batch-store.js';
import {
  startLogWriter,
  type LogWriterOptions,
  type WriterCommand,
  type WriterReport,
} from './log-writer.js';

/** The writer thread's name in `top -H`, `ps -L` and /proc (15 bytes at most). */
export const WRITER_THREAD_NAME = 'prediction-log';

/** The service's end of its log writer. */
export interface WriterHost {
  /** Hands a command over; a `records` command's numbers move (the array is unusable after). */
  send(command: WriterCommand): void;
  /** Ends the writer at once, whatever it holds (after `stop` has been answered, normally). */
  terminate(): Promise<void>;
}

export interface WriterEvents {
  report(report: WriterReport): void;
  /** The writer ended without being asked to (its thread failed): what it held is lost. */
  lost(error: Error): void;
}

/**
 * Starts the log's writer on a thread of its own. From TypeScript sources (the unit and
 * end-to-end tests run those) there is no compiled worker file to start, and the writer runs
 * in this thread instead, behind the same commands and reports; the tests that start the
 * built service (`gatehouse serve`) exercise the thread.
 */
export function startWriter(
  url: string,
  options: LogWriterOptions,
  events: WriterEvents,
): WriterHost {
  if (import.meta.url.endsWith('.ts')) return inlineWriter(url, options, events);
  const worker = new Worker(new URL('./log-writer.worker.js', import.meta.url), {
    workerData: { url, options },
  });
  let ending = false;
  worker.on('message', (report: WriterReport) => {
    events.report(report);
  });
  worker.on('error', (error) => {
    if (!ending) events.lost(error);
    ending = true;
  });
  worker.on('exit', (code) => {
    if (!ending) events.lost(new Error(`the writer thread exited with code ${code}`));
    ending = true;
  });
  return {
    send(command) {
      if (command.kind === 'records')
        worker.postMessage(command, [command.packed.numbers.buffer as ArrayBuffer]);
      else worker.postMessage(command);
    },
    async terminate() {
      ending = true;
      await worker.terminate();
    },
  };
}

/** The writer in this thread; commands and reports take a turn of the event loop, as messages do. */
function inlineWriter(url: string, options: LogWriterOptions, events: WriterEvents): WriterHost {
  const writer = startLogWriter(new BatchStore(url, options.writeTimeoutMs), options, (report) => {
    setImmediate(() => {
      events.report(report);
    });
  });
  return {
    send(command) {
      setImmediate(() => {
        writer.handle(command);
      });
    },
    terminate: () => Promise.resolve(),
  };
}
