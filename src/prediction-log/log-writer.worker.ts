import { writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { BatchStore } from './batch-store.js';
import { startLogWriter, type LogWriterOptions, type WriterCommand } from './log-writer.js';
import { WRITER_THREAD_NAME } from './writer-host.js';

/** The prediction log's writer thread (writer-host.ts starts it). */

/** Its nice value: below the service's threads (0), well above the idle class. */
const WRITER_NICENESS = 10;

const { url, options } = workerData as { url: string; options: LogWriterOptions };

try {
  writeFileSync('/proc/thread-self/comm', WRITER_THREAD_NAME);
} catch {
  // Not Linux: the thread keeps its name.
}
try {
  // This thread only: on Linux a thread's priority is its own. Under contention for the cores
  // the threads answering requests come first; the log has its queue to catch up with.
  setPriority(0, WRITER_NICENESS);
} catch {
  // Not permitted here (some sandboxes): the writer runs at the service's priority.
}

const port = parentPort;
if (port) {
  const writer = startLogWriter(new BatchStore(url, options.writeTimeoutMs), options, (report) => {
    if (report.kind === 'read') port.postMessage(report, [report.numbers.buffer as ArrayBuffer]);
    else port.postMessage(report);
  });
  port.on('message', (command: WriterCommand) => {
    writer.handle(command);
  });
}
