import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { buildGermanCreditModels } from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { seedLiveEndpoint } from '../support/registry.js';

/**
 * Shutting down under inference traffic on keep-alive connections: the inference path is
 * answered ahead of Fastify (src/inference/infer-lane.ts), so it must close its connections
 * itself, or a busy client keeps the server from ever finishing its close.
 */
describe('shutting down under inference traffic', () => {
  let app: TestApp;
  let token: string;
  let body: string;

  beforeAll(async () => {
    const models = buildGermanCreditModels();
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    token = await app.token('app-1', 'inference-client');
    await seedLiveEndpoint(app, { model: 'credit', endpoint: 'credit', versions: [models.fair] });
    body = JSON.stringify({
      inputs: [
        {
          name: 'features',
          datatype: 'FP32',
          shape: [1, 60],
          data: Array.from(models.data.X[0] ?? []),
        },
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await app.database.drop();
  });

  it('answers a request in flight as it shuts down, on a connection it then closes', async () => {
    const agent = new Agent({ keepAlive: true });
    const server = app.running.app.getHttpServer();
    // A request whose body is still on its way when the service begins to close: its
    // connection is busy, so closing the server's idle connections leaves it open.
    const req = httpRequest(`${app.url}/v2/models/credit/infer`, {
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        authorization: `Bearer ${token}`,
      },
    });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.on('response', resolve).on('error', reject);
    });
    req.write(body.slice(0, 10));
    await new Promise((r) => setTimeout(r, 100));
    const closing = app.running.close().then(() => true);
    while (server.listening) await new Promise((r) => setTimeout(r, 10));
    req.end(body.slice(10));

    const answer = await response;
    let text = '';
    for await (const chunk of answer) text += String(chunk);
    // On an endpoint that requires the log (HIGH tier), answered means logged too: the log
    // stops only once the server has answered every request it had.
    expect({ status: answer.statusCode, text }).toEqual({ status: 200, text: expect.any(String) });
    // Kept alive, the connection would hold the close open until the keep-alive timeout.
    expect(answer.headers.connection).toBe('close');
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      closing,
      new Promise<false>((r) => (timer = setTimeout(r, 20_000, false))),
    ]);
    clearTimeout(timer);
    expect(closed).toBe(true);
    agent.destroy();
  }, 60_000);
});
