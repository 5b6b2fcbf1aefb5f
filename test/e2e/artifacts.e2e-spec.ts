import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { ArtifactsService } from '../../src/artifacts/artifacts.service.js';
import { NotFoundError } from '../../src/common/errors.js';
import {
  buildGermanCreditModels,
  decodeModel,
  encodeModel,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';

const MAX_BYTES = 20_000;

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

interface ArtifactAnswer {
  sha256: string;
  size: number;
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
  opsets: Record<string, number>;
}

const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('PUT /v1/artifacts', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let scientist: string;
  let auditor: string;

  async function put(
    body: Uint8Array,
    options: { token?: string | null; contentType?: string | null } = {},
  ): Promise<{ status: number; body: unknown }> {
    const token = options.token === undefined ? scientist : options.token;
    const contentType =
      options.contentType === undefined ? 'application/octet-stream' : options.contentType;
    const headers: Record<string, string> = {};
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    if (contentType !== null) headers['content-type'] = contentType;
    const response = await fetch(`${app.url}/v1/artifacts`, { method: 'PUT', headers, body });
    return { status: response.status, body: await response.json() };
  }

  async function refused(body: Uint8Array): Promise<ErrorBody['error']> {
    const res = await put(body);
    expect(res.status).toBe(400);
    const { error } = res.body as ErrorBody;
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.details?.['field']).toBe('artifact');
    // A person's reason, not a library's stack.
    expect(error.message).not.toMatch(/\bat .*\.(js|ts):\d+|index out of range|wire type|\.cc:\d+/);
    return error;
  }

  function storedBlobs(): string[] {
    const root = join(app.config.dataDir, 'blobs', 'sha256');
    if (!existsSync(root)) return [];
    return readdirSync(root).flatMap((dir) => readdirSync(join(root, dir)));
  }

  function tmpFiles(): string[] {
    const tmp = join(app.config.dataDir, 'blobs', 'tmp');
    return existsSync(tmp) ? readdirSync(tmp) : [];
  }

  async function artifactRows(sha256: string): Promise<number> {
    const client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(
        'SELECT count(*) AS n FROM artifacts WHERE sha256 = $1',
        [sha256],
      );
      return Number(rows[0]?.n);
    } finally {
      await client.end();
    }
  }

  async function uploadEvents(sha256: string) {
    const res = await app.gql<{
      ledgerEvents: { events: { type: string; actor: { sub: string }; payload: unknown }[] };
    }>(
      `query ($subject: String) {
        ledgerEvents(afterSeq: 0, limit: 50, subject: $subject) { events { type actor { sub } payload } }
      }`,
      { subject: `artifact:${sha256}` },
      auditor,
    );
    expect(res.errors).toBeUndefined();
    return res.data!.ledgerEvents.events;
  }

  beforeAll(async () => {
    models = buildGermanCreditModels();
    app = await startTestApp({ GATEHOUSE_ARTIFACT_MAX_BYTES: String(MAX_BYTES) });
    scientist = await app.token('dana', 'data-scientist');
    auditor = await app.token('audrey', 'auditor');
  });
  afterAll(async () => {
    await app.close();
  });

  it('stores the fair model and answers its digest and signature as ONNX Runtime reads it', async () => {
    const bytes = models.fair.bytes;
    const res = await put(bytes);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      sha256: sha256Of(bytes),
      size: bytes.length,
      inputs: [
        { name: 'features', datatype: 'FP32', shape: [-1, models.fair.featureNames.length] },
      ],
      outputs: [{ name: 'score', datatype: 'FP32', shape: [-1, 1] }],
      opsets: { 'ai.onnx': 17 },
    });
    expect(storedBlobs()).toContain(sha256Of(bytes));
  });

  it('takes a body without a content type, and the tree ensemble of ai.onnx.ml', async () => {
    const res = await put(models.trees.bytes, { contentType: null });
    expect(res.status).toBe(200);
    const answer = res.body as ArtifactAnswer;
    expect(answer.sha256).toBe(sha256Of(models.trees.bytes));
    expect(answer.opsets).toEqual({ 'ai.onnx': 17, 'ai.onnx.ml': 3 });
    expect(answer.outputs).toEqual([{ name: 'score', datatype: 'FP32', shape: [-1, 1] }]);
    const classifier = await put(models.treesClassifier.bytes);
    expect(classifier.status).toBe(200);
    expect((classifier.body as ArtifactAnswer).outputs.map((o) => o.name)).toEqual([
      'label',
      'probabilities',
    ]);
  });

  it('answers the same bytes twice the same, with one row and one ledger event', async () => {
    const bytes = models.mlp.bytes;
    const first = await put(bytes);
    const second = await put(bytes, { token: await app.token('erin', 'data-scientist') });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(await artifactRows(sha256Of(bytes))).toBe(1);
    const events = await uploadEvents(sha256Of(bytes));
    expect(events).toEqual([
      {
        type: 'artifact.uploaded',
        actor: { sub: 'dana' },
        payload: first.body,
      },
    ]);
  });

  it('refuses random bytes', async () => {
    const random = new Uint8Array(5000);
    for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + 13) % 251;
    const error = await refused(random);
    expect(error.message).toMatch(/^artifact: is not (an|a complete) ONNX model/);
  });

  it('refuses a model cut in half', async () => {
    const bytes = models.unfair.bytes;
    const error = await refused(bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(error.message).toMatch(/^artifact: is not a complete ONNX model/);
    expect(await artifactRows(sha256Of(bytes.subarray(0, Math.floor(bytes.length / 2))))).toBe(0);
  });

  it('refuses a model whose opset ONNX Runtime does not support', async () => {
    const model = decodeModel(models.unfair.bytes);
    model.opsetImport = [{ domain: '', version: 27 }];
    const error = await refused(encodeModel(model));
    expect(error.message).toBe(
      'artifact: the model uses ai.onnx opset 27; the ONNX Runtime of this service supports ai.onnx opsets 7 to 26',
    );
    const custom = decodeModel(models.unfair.bytes);
    custom.opsetImport.push({ domain: 'com.example.custom', version: 1 });
    expect((await refused(encodeModel(custom))).message).toMatch(
      /imports operator set domain "com\.example\.custom"/,
    );
  });

  it('refuses a graph ONNX Runtime cannot load, with its reason', async () => {
    const model = decodeModel(models.unfair.bytes);
    const first = model.graph?.node?.[0];
    if (!first) throw new Error('the model has no nodes');
    first.opType = 'NotAnOperator';
    const error = await refused(encodeModel(model));
    expect(error.message).toMatch(/^artifact: ONNX Runtime cannot load the model: .*NotAnOperator/);
  });

  it('keeps nothing of refused uploads', () => {
    const accepted = [models.fair, models.trees, models.treesClassifier, models.mlp].map((m) =>
      sha256Of(m.bytes),
    );
    expect(storedBlobs().sort()).toEqual(accepted.sort());
    expect(tmpFiles()).toEqual([]);
  });

  it('answers 413 past the size limit, declared or streamed, and keeps nothing', async () => {
    const before = storedBlobs();
    const big = new Uint8Array(MAX_BYTES + 1).fill(1);
    const declared = await put(big);
    expect(declared.status).toBe(413);
    expect((declared.body as ErrorBody).error).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: `artifact is larger than the limit of ${MAX_BYTES} bytes`,
    });

    // Chunked, without Content-Length: counted as it streams and cut off at the limit. The
    // client stops sending when the answer comes, as curl and fetch do.
    const streamed = await new Promise<{ status: number; body: string; sent: number }>(
      (resolve, reject) => {
        let sent = 0;
        let answered = false;
        const req = httpRequest(`${app.url}/v1/artifacts`, {
          method: 'PUT',
          headers: {
            authorization: `Bearer ${scientist}`,
            'content-type': 'application/octet-stream',
            'transfer-encoding': 'chunked',
          },
        });
        req.on('response', (response) => {
          answered = true;
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            req.destroy();
            resolve({ status: response.statusCode ?? 0, body: text, sent });
          });
        });
        req.on('error', (error) => {
          if (!answered) reject(error);
        });
        const more = (): void => {
          if (answered || sent > 100 * MAX_BYTES) return;
          sent += 4096;
          if (req.write(new Uint8Array(4096).fill(2))) setImmediate(more);
          else req.once('drain', more);
        };
        more();
      },
    );
    // Answered although the request never ended: the server did not wait for the end. (How
    // much the client had written by then is up to the socket buffers and the machine's load:
    // under a full test run it reached the 100 × cap, answered all the same.)
    expect(streamed.status).toBe(413);
    expect(streamed.sent).toBeGreaterThan(MAX_BYTES);
    expect((JSON.parse(streamed.body) as ErrorBody).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(storedBlobs()).toEqual(before);
    expect(tmpFiles()).toEqual([]);
  });

  it('refuses a content type that is not bytes', async () => {
    const res = await put(models.fair.bytes, { contentType: 'text/plain' });
    expect(res.status).toBe(400);
    expect((res.body as ErrorBody).error).toMatchObject({
      code: 'BAD_USER_INPUT',
      message:
        'content-type: text/plain is not accepted here; send the bytes as application/octet-stream',
    });
    expect((await put(models.fair.bytes, { contentType: 'application/json' })).status).toBe(400);
    expect((await put(models.fair.bytes, { contentType: 'image/png' })).status).toBe(415);
  });

  it('needs a token, and a role that may create artifacts', async () => {
    const anonymous = await put(models.fair.bytes, { token: null });
    expect(anonymous.status).toBe(401);
    expect((anonymous.body as ErrorBody).error.code).toBe('UNAUTHENTICATED');
    const engineer = await put(models.fair.bytes, {
      token: await app.token('eve', 'ml-engineer'),
    });
    expect(engineer.status).toBe(403);
    expect((engineer.body as ErrorBody).error.code).toBe('FORBIDDEN');
  });

  it('answers the artifact query with what the upload answered, and who uploaded it when', async () => {
    const bytes = models.fair.bytes;
    const sha256 = sha256Of(bytes);
    const res = await app.gql<{
      artifact: {
        sha256: string;
        size: number;
        format: string;
        inputs: unknown[];
        outputs: unknown[];
        opsets: { domain: string; version: number }[];
        createdBy: string;
        createdAt: string;
      } | null;
    }>(
      `query ($sha256: String!) {
        artifact(sha256: $sha256) {
          sha256 size format createdBy createdAt
          inputs { name datatype shape } outputs { name datatype shape } opsets { domain version }
        }
      }`,
      { sha256 },
      auditor,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.artifact).toMatchObject({
      sha256,
      size: bytes.length,
      format: 'onnx',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 60] }],
      outputs: [{ name: 'score', datatype: 'FP32', shape: [-1, 1] }],
      opsets: [{ domain: 'ai.onnx', version: 17 }],
      createdBy: 'dana',
    });
    expect(Date.now() - Date.parse(res.data!.artifact!.createdAt)).toBeLessThan(120_000);

    const unknown = await app.gql(
      '{ artifact(sha256: "' + '0'.repeat(64) + '") { sha256 } }',
      {},
      auditor,
    );
    expect(unknown.data).toEqual({ artifact: null });
    const malformed = await app.gql('{ artifact(sha256: "abc") { sha256 } }', {}, auditor);
    expect(malformed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const noRole = await app.gql(
      '{ artifact(sha256: "' + sha256 + '") { sha256 } }',
      {},
      await app.token('ivan', 'inference-client'),
    );
    expect(noRole.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('lets other modules look an artifact up by digest', async () => {
    const service = app.running.app.get(ArtifactsService);
    const found = await service.get(sha256Of(models.trees.bytes));
    expect(found.inputs).toEqual([{ name: 'features', datatype: 'FP32', shape: [-1, 60] }]);
    await expect(service.get('f'.repeat(64))).rejects.toBeInstanceOf(NotFoundError);
  });
});
