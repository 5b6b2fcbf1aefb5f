/**
 * The floor of bench/streaming, as a process of its own: a JetStream consumer that only parses
 * each request, runs it through ONNX Runtime and publishes the answer, with nothing of
 * Gatehouse around it (no routing, metrics, prediction log or ledger). It settles each message
 * as Gatehouse does (answer published through JetStream, then acknowledged with the server's
 * confirmation), holding at most MAX_ACK_PENDING messages at once.
 *
 * `node bare-consumer.js MODEL STREAM INPUT OUTPUT MAX_ACK_PENDING`; prints `ready` once pulling.
 */
import { readFileSync } from 'node:fs';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { ort } from '../../src/runtime/ort.js';

const [modelPath = '', stream = '', input = '', output = '', maxAckPendingText = '1024'] =
  process.argv.slice(2);
const maxAckPending = Number(maxAckPendingText);

const session = await ort.InferenceSession.create(readFileSync(modelPath), {
  intraOpNumThreads: 1,
  logSeverityLevel: 4,
});
const inputName = session.inputNames[0] ?? 'features';
const outputName = session.outputNames[0] ?? 'score';
const nc = await connect({ servers: ['nats://127.0.0.1:4222'] });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
await jsm.consumers.add(stream, {
  durable_name: 'bare',
  ack_policy: AckPolicy.Explicit,
  filter_subject: input,
  max_ack_pending: maxAckPending,
});
const consumer = await js.consumers.get(stream, 'bare');
const messages = await consumer.consume({ max_messages: maxAckPending });
process.stdout.write('ready\n');
const encoder = new TextEncoder();
const decoder = new TextDecoder();

for await (const message of messages) {
  void (async () => {
    const request = JSON.parse(decoder.decode(message.data)) as {
      inputs: { shape: number[]; data: number[] | number[][] }[];
    };
    const tensor = request.inputs[0];
    const shape = tensor?.shape ?? [0, 0];
    const features = Float32Array.from((tensor?.data ?? []).flat());
    const result = await session.run({
      [inputName]: new ort.Tensor('float32', features, [shape[0] ?? 0, shape[1] ?? 0]),
    });
    const scores = Array.from(result[outputName]?.data as Float32Array);
    const id = message.headers?.get('Nats-Msg-Id') ?? '';
    const h = natsHeaders();
    h.set('Nats-Msg-Id', id);
    await js.publish(
      output,
      encoder.encode(JSON.stringify({ id, outputs: [{ name: outputName, data: scores }] })),
      { headers: h },
    );
    await message.ackAck();
  })();
}
