// The model thread (src/runtime/model-worker.worker.ts), except that a run whose first input
// value is -666 ends the thread at once, as a crash in a native run would: for the tests of
// what the pool does when a thread dies under it.
import { parentPort } from 'node:worker_threads';
import '../../src/runtime/model-worker.worker.ts';

parentPort?.on('message', (message) => {
  if (message.kind === 'run' && message.feeds[0]?.data[0] === -666) process.exit(3);
});
