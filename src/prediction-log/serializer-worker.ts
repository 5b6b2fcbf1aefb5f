import { parentPort, workerData } from 'node:worker_threads';
import { BatchAssembler } from './batch-assembler.js';
import { unpackPredictions, type ToSerializer } from './serializer-thread.js';

/** The prediction log's serializer thread (serializer-thread.ts says why and how). */
const port = parentPort;
if (!port) throw new Error('serializer-worker.js runs as a worker thread');
const assembler = new BatchAssembler((workerData as { batchRows: number }).batchRows);
port.on('message', (message: ToSerializer) => {
  if (message.type === 'add') {
    const { sealed, failed } = assembler.add(unpackPredictions(message.items));
    if (failed.length > 0) port.postMessage({ type: 'failed', reasons: failed });
    for (const batch of sealed)
      port.postMessage({ type: 'sealed', batch }, [batch.bytes.buffer as ArrayBuffer]);
  } else {
    for (const batch of assembler.closeAll())
      port.postMessage({ type: 'sealed', batch }, [batch.bytes.buffer as ArrayBuffer]);
    port.postMessage({ type: 'closed', seq: message.seq });
  }
});
