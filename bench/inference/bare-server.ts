/**
 * The baseline of bench/inference: the least a server can do to answer an Open Inference
 * Protocol request — node:http, JSON.parse, one ONNX Runtime run with the same session
 * options, JSON.stringify. No authentication, routing, tensor checks beyond the shape, or
 * prediction log. `node dist/bench/inference/bare-server.js MODEL.onnx` prints the URL it
 * listens on.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ort, SESSION_OPTIONS } from '../../src/runtime/ort.js';

interface Request {
  id?: string;
  inputs: { name: string; shape: number[]; data: number[] }[];
}

const modelPath = process.argv[2];
if (modelPath === undefined) throw new Error('usage: bare-server.js MODEL.onnx');
const session = await ort.InferenceSession.create(readFileSync(modelPath), SESSION_OPTIONS);
const outputName = session.outputNames[0] ?? 'score';

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: message }));
}

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let request: Request;
  try {
    request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Request;
  } catch {
    fail(res, 400, 'not JSON');
    return;
  }
  const input = request.inputs[0];
  if (!input || input.shape.reduce((a, b) => a * b, 1) !== input.data.length) {
    fail(res, 400, 'bad tensor');
    return;
  }
  const tensor = new ort.Tensor('float32', Float32Array.from(input.data), input.shape);
  const result = await session.run({ [input.name]: tensor });
  const output = result[outputName];
  if (!output) {
    fail(res, 500, 'no output');
    return;
  }
  const body = JSON.stringify({
    id: request.id ?? crypto.randomUUID(),
    model_name: 'credit',
    model_version: '1',
    outputs: [
      {
        name: outputName,
        datatype: 'FP32',
        shape: output.dims,
        data: Array.from(output.data as Float32Array),
      },
    ],
  });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
}

const server = createServer((req, res) => {
  answer(req, res).catch((error: unknown) => {
    fail(res, 500, String(error));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`bare server listening on http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
