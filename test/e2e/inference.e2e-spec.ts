import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { connect } from 'node:net';
import pg from 'pg';
import { ENDPOINTS_CHANNEL } from '../../src/endpoints/endpoint-events.js';
import { EndpointRouter } from '../../src/inference/endpoint-router.service.js';
import {
  buildGermanCreditModels,
  type GermanCreditModels,
  type ScoringModel,
} from '../../src/model-builder/index.js';
import { PredictionLog } from '../../src/prediction-log/prediction-log.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import {
  createEndpoint,
  registerModel,
  registerVersion,
  seedLiveEndpoint,
  setTraffic,
} from '../support/registry.js';

interface OipOutput {
  name: string;
  datatype: string;
  shape: number[];
  data: number[];
}

interface InferAnswer {
  status: number;
  body: {
    id?: string;
    model_name?: string;
    model_version?: string;
    outputs?: OipOutput[];
    error?: { code: string; message: string; details?: { field?: string } };
  };
}

const CREDIT_VERSIONS = ['fair', 'unfair', 'mlp', 'trees'] as const;

describe('real-time inference (Open Inference Protocol)', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let client: string;
  let db: pg.Client;

  /** The i-th row of german_credit.csv's features, as the float32 values a client sends. */
  const row = (i: number): number[] => Array.from(models.data.X[i] ?? []);
  const rows = (from: number, count: number): number[][] =>
    Array.from({ length: count }, (_, k) => row(from + k));

  const request = (data: unknown, shape: number[], extra: Record<string, unknown> = {}) => ({
    inputs: [{ name: 'features', datatype: 'FP32', shape, data }],
    ...extra,
  });

  async function infer(
    endpoint: string,
    body: unknown,
    options: { token?: string | null; routingKey?: string } = {},
  ): Promise<InferAnswer> {
    const token = options.token === undefined ? client : options.token;
    const response = await fetch(`${app.url}/v2/models/${endpoint}/infer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(options.routingKey === undefined ? {} : { 'x-routing-key': options.routingKey }),
      },
      body: JSON.stringify(body),
      // A model that misbehaves must answer, not hang.
      signal: AbortSignal.timeout(15_000),
    });
    return { status: response.status, body: (await response.json()) as InferAnswer['body'] };
  }

  async function get(path: string, token: string | null = client) {
    const response = await fetch(`${app.url}${path}`, {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  function scoresOf(answer: InferAnswer): number[] {
    const score = answer.body.outputs?.find((o) => o.name === 'score');
    if (!score) throw new Error(`no score in ${JSON.stringify(answer.body)}`);
    return score.data;
  }

  function expectScores(actual: number[], model: ScoringModel, X: number[][]): void {
    const expected = model.predict(X.map((x) => Float32Array.from(x)));
    expect(actual).toHaveLength(expected.length);
    actual.forEach((v, i) => {
      expect(Math.abs(v - (expected[i] ?? Number.NaN))).toBeLessThan(1e-5);
    });
  }

  async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  beforeAll(async () => {
    models = buildGermanCreditModels();
    app = await startTestApp({
      GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
      GATEHOUSE_INFER_MAX_ROWS: '64',
      GATEHOUSE_MICROBATCH_MAX_ROWS: '32',
      GATEHOUSE_PREDICTION_LOG_FLUSH_MS: '50',
    });
    client = await app.token('app-7', 'inference-client');
    await seedLiveEndpoint(app, {
      model: 'credit',
      endpoint: 'credit',
      versions: CREDIT_VERSIONS.map((k) => models[k]),
    });
    db = new pg.Client({ connectionString: app.database.url });
    await db.connect();
  }, 180_000);

  afterAll(async () => {
    await db.end();
    await app.close();
  });

  describe('health and metadata', () => {
    it('answers the OIP health paths without a token', async () => {
      expect(await get('/v2/health/live', null)).toEqual({ status: 200, body: { live: true } });
      expect(await get('/v2/health/ready', null)).toEqual({ status: 200, body: { ready: true } });
    });

    it('describes the endpoint: versions, platform and the live signature', async () => {
      expect(await get('/v2/models/credit')).toEqual({
        status: 200,
        body: {
          name: 'credit',
          versions: ['1'],
          platform: 'onnxruntime',
          inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 60] }],
          outputs: [{ name: 'score', datatype: 'FP32', shape: [-1, 1] }],
        },
      });
    });

    it('says the endpoint is ready once its live version is loaded', async () => {
      expect(await get('/v2/models/credit/ready')).toEqual({
        status: 200,
        body: { name: 'credit', ready: true },
      });
    });
  });

  describe('scoring', () => {
    it('scores flat row-major data exactly as the model builder predicts', async () => {
      const X = rows(0, 25);
      const answer = await infer('credit', request(X.flat(), [25, 60], { id: 'req-flat-1' }));
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        id: 'req-flat-1',
        model_name: 'credit',
        model_version: '1',
      });
      expect(answer.body.outputs?.[0]).toMatchObject({
        name: 'score',
        datatype: 'FP32',
        shape: [25, 1],
      });
      expectScores(scoresOf(answer), models.fair, X);
    });

    it('accepts nested data and gives a UUIDv7 when the request has no id', async () => {
      const X = rows(100, 3);
      const answer = await infer('credit', request(X, [3, 60]));
      expect(answer.status).toBe(200);
      expect(answer.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-/);
      expectScores(scoresOf(answer), models.fair, X);
    });

    it('honours the outputs filter', async () => {
      const answer = await infer(
        'credit',
        request(row(5), [1, 60], { outputs: [{ name: 'score' }] }),
      );
      expect(answer.status).toBe(200);
      expect(answer.body.outputs?.map((o) => o.name)).toEqual(['score']);
      const unknown = await infer(
        'credit',
        request(row(5), [1, 60], { outputs: [{ name: 'probabilities' }] }),
      );
      expect(unknown.status).toBe(400);
      expect(unknown.body.error?.details?.field).toBe('outputs[0].name');
    });
  });

  describe('bad tensors are refused with a 400 that names the input', () => {
    const cases: [string, () => unknown, string, RegExp][] = [
      [
        'a wrong datatype',
        () => ({ inputs: [{ name: 'features', datatype: 'FP64', shape: [1, 60], data: row(0) }] }),
        'inputs[0].datatype',
        /input "features" is FP32, got FP64/,
      ],
      [
        'a wrong width',
        () => request(row(0).slice(0, 59), [1, 59]),
        'inputs[0].shape',
        /input "features" expected 60 values per row, got 59/,
      ],
      [
        'data that does not fill the shape',
        () => request(row(0).slice(0, 59), [1, 60]),
        'inputs[0].data',
        /input "features" has shape \[1, 60\]: expected 60 values, got 59/,
      ],
      [
        'an unknown input',
        () => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 60], data: row(0) }] }),
        'inputs[0].name',
        /unknown input "x"; the model's inputs: "features"/,
      ],
      [
        'a non-numeric value',
        () => request([...row(0).slice(0, 10), 'ten', ...row(0).slice(11)], [1, 60]),
        'inputs[0].data',
        /input "features" value 10 \(row 0, column 10\) must be a finite number within the float32 range, got the string "ten"/,
      ],
      [
        'too many rows',
        () => request(rows(0, 65).flat(), [65, 60]),
        'inputs[0].shape',
        /too many rows for input "features": 65, at most 64 per request/,
      ],
      ['no inputs', () => ({ inputs: [] }), 'inputs', /non-empty array/],
    ];

    it.each(cases)('%s', async (_what, body, field, message) => {
      const answer = await infer('credit', body());
      expect(answer.status).toBe(400);
      expect(answer.body.error?.code).toBe('BAD_USER_INPUT');
      expect(answer.body.error?.details?.field).toBe(field);
      expect(answer.body.error?.message).toMatch(message);
    });

    /** A raw POST to the infer path: the body as given, headers as given. */
    async function post(
      body: string | ReadableStream<Uint8Array>,
      headers: Record<string, string> = {},
      path = 'credit',
    ) {
      const response = await fetch(`${app.url}/v2/models/${path}/infer`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${client}`,
          ...headers,
        },
        body,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
        signal: AbortSignal.timeout(15_000),
      });
      return {
        status: response.status,
        headers: response.headers,
        body: (await response.json()) as InferAnswer['body'],
      };
    }

    it('refuses a body that is not JSON, or empty, naming the body', async () => {
      const broken = await post('{"inputs": [');
      expect(broken.status).toBe(400);
      expect(broken.body.error).toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'body' },
        message: expect.stringMatching(/^body: is not valid JSON/),
      });
      const empty = await post('');
      expect(empty.status).toBe(400);
      expect(empty.body.error?.message).toMatch(/^body: is empty/);
    });

    it('refuses a member named __proto__, as a JSON parser guarding prototypes does', async () => {
      const text = JSON.stringify(request(row(0), [1, 60])).replace(
        '{"inputs"',
        '{"__proto__":{"polluted":true},"inputs"',
      );
      const answer = await post(text);
      expect(answer.status).toBe(400);
      expect(answer.body.error?.message).toBe('body: a member named __proto__ is not accepted');
      // A model input may still say "constructor" in a string.
      const named = await post(JSON.stringify({ ...request(row(0), [1, 60]), id: 'constructor' }));
      expect(named.status).toBe(200);
    });

    it('answers 415 for a body that is not sent as JSON', async () => {
      const body = JSON.stringify(request(row(0), [1, 60]));
      const plain = await post(body, { 'content-type': 'text/plain' });
      expect(plain.status).toBe(415);
      expect(plain.body.error).toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'content-type' },
      });
      const charset = await post(body, { 'content-type': 'Application/JSON; charset=utf-8' });
      expect(charset.status).toBe(200);
    });

    it('answers 413 past the body limit, declared or streamed, and closes the connection', async () => {
      const limit = 1_048_576; // GATEHOUSE_BODY_LIMIT_BYTES' default
      const declared = await post(' '.repeat(limit + 1));
      expect(declared.status).toBe(413);
      expect(declared.body.error).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        details: { field: 'body', limit },
      });
      expect(declared.headers.get('connection')).toBe('close');
      // Chunked, no Content-Length: counted as it arrives.
      const chunk = new TextEncoder().encode(' '.repeat(64 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent > limit + chunk.length) controller.close();
          else {
            sent += chunk.length;
            controller.enqueue(chunk);
          }
        },
      });
      const streamed = await post(stream);
      expect(streamed.status).toBe(413);
      // Within the limit, whitespace and all, it is answered.
      const padded = JSON.stringify(request(row(0), [1, 60])) + ' '.repeat(limit / 2);
      expect((await post(padded)).status).toBe(200);
    });

    it('lets a client leave before the end of its body without an answer, a prediction or a hang', async () => {
      const log = app.running.app.get(PredictionLog);
      const before = log.stats().accepted;
      const body = JSON.stringify(request(row(0), [1, 60]));
      const { hostname: host, port } = new URL(app.url);
      const socket = connect(Number(port), host);
      await once(socket, 'connect');
      socket.write(
        `POST /v2/models/credit/infer HTTP/1.1\r\nHost: ${host}\r\n` +
          `Authorization: Bearer ${client}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${String(body.length)}\r\n\r\n${body.slice(0, 20)}`,
      );
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.destroy();
      await once(socket, 'close');
      expect(Buffer.concat(received).toString()).toBe('');
      // The next request is answered, and only its prediction is recorded.
      expect((await post(body)).status).toBe(200);
      expect(log.stats().accepted).toBe(before + 1);
    });

    it('reads the endpoint from the path as Fastify would, and leaves other paths to it', async () => {
      const body = JSON.stringify(request(row(0), [1, 60]));
      const encoded = await post(body, {}, '%63redit');
      expect(encoded.status).toBe(200);
      expect(encoded.body.model_name).toBe('credit');
      const query = await fetch(`${app.url}/v2/models/credit/infer?trace=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${client}` },
        body,
      });
      expect(query.status).toBe(200);
      await query.arrayBuffer();
      const got = await fetch(`${app.url}/v2/models/credit/infer`, {
        headers: { authorization: `Bearer ${client}` },
      });
      expect(got.status).toBe(404);
      await got.arrayBuffer();
      const deeper = await post(body, {}, 'credit/versions/1');
      expect(deeper.status).toBe(404);
    });
  });

  describe('endpoints and permissions', () => {
    it('answers 404 for an unknown endpoint', async () => {
      const answer = await infer('no-such-endpoint', request(row(0), [1, 60]));
      expect(answer.status).toBe(404);
      expect(answer.body.error?.message).toMatch(/endpoint no-such-endpoint does not exist/);
      expect((await get('/v2/models/no-such-endpoint')).status).toBe(404);
    });

    it('answers 409 for an endpoint without a live version, and it is not ready', async () => {
      await createEndpoint(app, await app.token('erin', 'ml-engineer'), 'credit-empty', 'credit');
      const answer = await infer('credit-empty', request(row(0), [1, 60]));
      expect(answer.status).toBe(409);
      expect(answer.body.error?.message).toMatch(/credit-empty has no live version/);
      expect(await get('/v2/models/credit-empty/ready')).toEqual({
        status: 503,
        body: { name: 'credit-empty', ready: false, reason: 'no live version' },
      });
    });

    it('needs a token with the infer permission', async () => {
      expect((await infer('credit', request(row(0), [1, 60]), { token: null })).status).toBe(401);
      const auditor = await app.token('audrey', 'auditor');
      const refused = await infer('credit', request(row(0), [1, 60]), { token: auditor });
      expect(refused.status).toBe(403);
      expect((await get('/v2/models/credit', auditor)).status).toBe(403);
    });
  });

  describe('traffic splits', () => {
    it('keeps a routing key on one version under a 50% canary', async () => {
      await setTraffic(app, 'credit', {
        candidateVersion: 2,
        mode: 'CANARY',
        candidateWeight: 5000,
      });
      // setTraffic's NOTIFY reaches this replica's router asynchronously.
      await eventually(
        () => app.running.app.get(EndpointRouter).peek('credit')?.mode === 'CANARY',
        'the canary to reach the router',
      );
      const X = rows(200, 1);
      const seen = new Map<string, Set<string>>();
      for (let k = 0; k < 24; k++) {
        const key = `customer-${k}`;
        for (let attempt = 0; attempt < 3; attempt++) {
          // The header and the routing_key parameter are the same key.
          const answer =
            attempt === 2
              ? await infer(
                  'credit',
                  request(X.flat(), [1, 60], { parameters: { routing_key: key } }),
                )
              : await infer('credit', request(X.flat(), [1, 60]), { routingKey: key });
          expect(answer.status).toBe(200);
          const version = answer.body.model_version ?? '';
          expectScores(scoresOf(answer), version === '2' ? models.unfair : models.fair, X);
          seen.set(key, (seen.get(key) ?? new Set()).add(version));
        }
      }
      for (const versions of seen.values()) expect(versions.size).toBe(1);
      const answered = new Set([...seen.values()].flatMap((v) => [...v]));
      expect(answered).toEqual(new Set(['1', '2']));
      const metadata = await get('/v2/models/credit');
      expect(metadata.body['versions']).toEqual(['1', '2']);
    });

    it('spreads requests without a routing key at random', async () => {
      const versions = new Set<string>();
      for (let i = 0; i < 40 && versions.size < 2; i++)
        versions.add((await infer('credit', request(row(1), [1, 60]))).body.model_version ?? '');
      expect(versions).toEqual(new Set(['1', '2']));
    });

    it('in SHADOW mode answers from live and runs the candidate off the response path', async () => {
      await setTraffic(app, 'credit', {
        candidateVersion: 3,
        mode: 'SHADOW',
        candidateWeight: 0,
        shadowSample: 10_000,
      });
      await eventually(
        () => app.running.app.get(EndpointRouter).peek('credit')?.mode === 'SHADOW',
        'the shadow state to reach the router',
      );
      const X = rows(300, 2);
      const ids = ['shadow-a', 'shadow-b', 'shadow-c'];
      for (const id of ids) {
        const answer = await infer('credit', request(X.flat(), [2, 60], { id }));
        expect(answer.body.model_version).toBe('1');
        expectScores(scoresOf(answer), models.fair, X);
      }
      await eventually(async () => {
        await app.running.app.get(PredictionLog).flush();
        const r = await db.query(
          `SELECT count(*)::int AS n FROM predictions WHERE arm = 'shadow' AND request_id = ANY($1)`,
          [ids],
        );
        return (r.rows[0] as { n: number }).n === ids.length;
      }, 'the shadow predictions to be logged');
      const shadow = await db.query(
        `SELECT model_version, outputs FROM predictions WHERE arm = 'shadow' AND request_id = $1`,
        ['shadow-a'],
      );
      const logged = shadow.rows[0] as { model_version: number; outputs: OipOutput[] };
      expect(logged.model_version).toBe(3);
      expectScores(logged.outputs[0]?.data ?? [], models.mlp, X);
    });

    it('follows a change made through another connection (UPDATE and NOTIFY)', async () => {
      await db.query(
        `UPDATE endpoints SET live_version = 4, candidate_version = NULL, mode = 'NONE',
           candidate_weight = 0, revision = revision + 1 WHERE name = 'credit'`,
      );
      await db.query(`SELECT pg_notify($1, 'credit')`, [ENDPOINTS_CHANNEL]);
      await eventually(
        async () => (await infer('credit', request(row(0), [1, 60]))).body.model_version === '4',
        'version 4 to answer',
      );
      expectScores(scoresOf(await infer('credit', request(row(7), [1, 60]))), models.trees, [
        row(7),
      ]);
    });

    it('reloads everything after its LISTEN connection is lost', async () => {
      const router = app.running.app.get(EndpointRouter);
      const before = router.listenerConnections();
      await db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'gatehouse-router' AND datname = current_database()`,
      );
      // Changed while nobody listens, without a notification: only the reload can see it.
      await db.query(
        `UPDATE endpoints SET live_version = 1, revision = revision + 1 WHERE name = 'credit'`,
      );
      await eventually(() => router.listenerConnections() > before, 'the router to reconnect');
      expect((await infer('credit', request(row(0), [1, 60]))).body.model_version).toBe('1');
      // And it listens again.
      await setTraffic(app, 'credit', { liveVersion: 2 });
      await eventually(
        async () => (await infer('credit', request(row(0), [1, 60]))).body.model_version === '2',
        'the next change after reconnecting',
      );
    });
  });

  it('serves ten endpoints at once from one process', async () => {
    const engineer = await app.token('erin', 'ml-engineer');
    const fleet = Array.from({ length: 10 }, (_, i) => ({
      name: `fleet-${i}`,
      version: (i % CREDIT_VERSIONS.length) + 1,
    }));
    for (const e of fleet) {
      await createEndpoint(app, engineer, e.name, 'credit');
      await setTraffic(app, e.name, { liveVersion: e.version });
    }
    const X = rows(400, 4);
    const answers = await Promise.all(
      fleet.flatMap((e) =>
        [0, 1, 2].map(async () => ({ e, answer: await infer(e.name, request(X, [4, 60])) })),
      ),
    );
    for (const { e, answer } of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body.model_name).toBe(e.name);
      expect(answer.body.model_version).toBe(String(e.version));
      expectScores(scoresOf(answer), models[CREDIT_VERSIONS[e.version - 1] ?? 'fair'], X);
    }
  });

  describe('faulty models', () => {
    beforeAll(async () => {
      const scientist = await app.token('dana', 'data-scientist');
      const engineer = await app.token('erin', 'ml-engineer');
      await registerModel(app, scientist, 'faulty');
      const faulty = [
        ['faulty-erroring', models.faulty.erroring],
        ['faulty-nan', models.faulty.nan],
        ['faulty-batch', models.faulty.erroringOnBatch],
      ] as const;
      for (const [endpoint, model] of faulty) {
        const version = await registerVersion(app, scientist, 'faulty', model);
        await createEndpoint(app, engineer, endpoint, 'faulty');
        await setTraffic(app, endpoint, { liveVersion: version });
      }
    }, 60_000);

    it('answers a failing model with a clear 500, not a hang', async () => {
      const answer = await infer('faulty-erroring', request(row(0), [1, 60], { id: 'err-1' }));
      expect(answer.status).toBe(500);
      expect(answer.body.error?.code).toBe('INTERNAL');
      expect(answer.body.error?.message).toMatch(
        /endpoint faulty-erroring, version 1: the model failed: .*Reshape/i,
      );
      await app.running.app.get(PredictionLog).flush();
      const logged = await db.query(
        `SELECT outputs, error FROM predictions WHERE request_id = 'err-1'`,
      );
      expect(logged.rows[0]).toMatchObject({
        outputs: null,
        error: expect.stringMatching(/Reshape/i),
      });
    });

    it('refuses NaN scores with a 500 that says so (JSON cannot carry NaN)', async () => {
      const answer = await infer('faulty-nan', request(row(0), [1, 60]));
      expect(answer.status).toBe(500);
      expect(answer.body.error?.message).toMatch(
        /version 2: the model failed: output "score" value 0 is NaN, which JSON cannot carry/,
      );
    });

    it('answers single rows of a model that refuses batches, even when merged', async () => {
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => infer('faulty-batch', request(row(i), [1, 60]))),
      );
      answers.forEach((answer, i) => {
        expect(answer.status).toBe(200);
        expectScores(scoresOf(answer), models.fair, [row(i)]);
      });
      const batch = await infer('faulty-batch', request(rows(0, 2).flat(), [2, 60]));
      expect(batch.status).toBe(500);
    });
  });
});
