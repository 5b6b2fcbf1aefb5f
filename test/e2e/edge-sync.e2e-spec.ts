import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { verifyEdgeBundle, type EdgeBundle } from '../../src/edge/edge-bundle-verify.js';
import {
  recordHash,
  sealRecord,
  unhashed,
  type DeviceLogRecord,
} from '../../src/edge/device-log.js';
import { readUstar, writeUstar } from '../../src/edge/ustar.js';
import { buildGermanCreditModels, defaultGermanCreditPath } from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { freePort, runCli, startLongRunning, type ServingProcess } from '../support/cli.js';
import { clientOf, liveCreditEndpoint, PEOPLE } from '../support/rollout-story.js';

/**
 * The device side and the way home: `gatehouse edge serve` answers from a bundle with nothing
 * of the service reachable, writes the device log, continues it across restarts; `gatehouse
 * edge sync` and `POST /v1/edge/{endpoint}/predictions` take it into the prediction log, sealed
 * in the ledger, refusing anything that is not the device's own unbroken chain.
 */
/** Says on stderr every Nest, TypeORM or Fastify module a process resolves. */
const FRAMEWORK_WATCH =
  "data:text/javascript,import{registerHooks}from'node:module';registerHooks({resolve(s,c,n){const r=n(s,c);" +
  "if(/@nestjs|typeorm|fastify/.test(r.url))process.stderr.write('FRAMEWORK '+r.url+'\\n');return r}});";

describe('edge serve, the device log and sync', () => {
  let app: TestApp;
  let dir: string;
  let db: pg.Client;
  const tokens: Record<string, string> = {};
  let bundleFile: string;
  let jwksFile: string;
  let bundle: EdgeBundle;
  let featureRows: number[][];
  let logFile: string;
  let syncEnv: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-edge-sync-'));
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    for (const [who, roles] of Object.entries(PEOPLE)) tokens[who] = await app.token(who, ...roles);
    tokens['kiosk-7'] = await app.token('kiosk-7', 'device');
    tokens['kiosk-8'] = await app.token('kiosk-8', 'device');
    const models = buildGermanCreditModels();
    await liveCreditEndpoint(
      clientOf(() => app.url, tokens),
      'credit',
      models.fair,
      defaultGermanCreditPath(),
    );
    db = new pg.Client({ connectionString: app.database.url });
    await db.connect();

    // The device fetches its bundle with its own token: the device role may.
    const response = await fetch(`${app.url}/v1/edge/credit/bundle`, {
      headers: { authorization: `Bearer ${tokens['kiosk-7']}` },
    });
    expect(response.status).toBe(200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const jwks = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as {
      keys: unknown[];
    };
    const verified = await verifyEdgeBundle(bytes, jwks);
    if (!verified.ok) throw new Error(`${verified.file}: ${verified.reason}`);
    bundle = verified.bundle;
    bundleFile = join(dir, 'credit.edge.tar');
    jwksFile = join(dir, 'jwks.json');
    writeFileSync(bundleFile, bytes);
    writeFileSync(jwksFile, JSON.stringify(jwks));
    const columns = bundle.spec.featureColumns.map((c) => models.data.featureNames.indexOf(c));
    featureRows = Array.from({ length: 20 }, (_, i) =>
      columns.map((c) => Math.fround(models.data.X[i]?.[c] ?? 0)),
    );
    logFile = join(dir, 'kiosk-7.ndjson');
    const tokenFile = join(dir, 'kiosk-7.token');
    writeFileSync(tokenFile, tokens['kiosk-7']);
    syncEnv = { GATEHOUSE_URL: app.url, GATEHOUSE_TOKEN_FILE: tokenFile };
  }, 240_000);

  afterAll(async () => {
    await db.end();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `edge serve` with nothing of the service reachable: no database, a service URL that answers nothing. */
  async function serve(extra: string[] = []): Promise<ServingProcess> {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    return startLongRunning(
      [
        'edge',
        'serve',
        bundleFile,
        '--jwks',
        jwksFile,
        '--port',
        '0',
        '--log',
        logFile,
        '--device',
        'kiosk-7',
        ...extra,
      ],
      { GATEHOUSE_URL: nowhere },
      /listening on (http:\/\/\S+)/,
      60_000,
      ['--import', FRAMEWORK_WATCH],
    );
  }

  const inferBody = (rows: number[][], id?: string) => ({
    ...(id === undefined ? {} : { id }),
    inputs: [
      {
        name: bundle.spec.inputName,
        datatype: 'FP32',
        shape: [rows.length, rows[0]!.length],
        data: rows.flat(),
      },
    ],
  });

  async function post(url: string, body: unknown, token?: string): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    });
  }

  function logRecords(): DeviceLogRecord[] {
    return readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as DeviceLogRecord);
  }

  const upload = (lines: string[], device = 'kiosk-7', endpoint = 'credit'): Promise<Response> =>
    fetch(`${app.url}/v1/edge/${endpoint}/predictions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-ndjson',
        authorization: `Bearer ${tokens[device]!}`,
      },
      body: lines.map((l) => `${l}\n`).join(''),
    });

  const count = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await db.query<{ n: string }>(sql, params)).rows[0]?.n);

  const uploadedState = async () => ({
    predictions: await count('SELECT count(*) AS n FROM predictions'),
    records: await count('SELECT count(*) AS n FROM edge_device_records'),
    batches: await count('SELECT count(*) AS n FROM prediction_batches'),
    position: (
      await db.query('SELECT last_seq, last_hash FROM edge_device_positions ORDER BY device_id')
    ).rows,
  });

  async function ledgerEvents(
    type: string,
  ): Promise<{ seq: number; payload: Record<string, unknown> }[]> {
    const result = await app.gql<{
      ledgerEvents: { events: { seq: number; payload: Record<string, unknown> }[] };
    }>(
      `query($type: String!) { ledgerEvents(type: $type, limit: 1000) { events { seq payload } } }`,
      { type },
      tokens['audrey'],
    );
    expect(result.errors).toBeUndefined();
    return result.data?.ledgerEvents.events ?? [];
  }

  async function sealed(type: string, predicate: (p: Record<string, unknown>) => boolean) {
    for (let i = 0; i < 100; i++) {
      const found = (await ledgerEvents(type)).find((e) => predicate(e.payload));
      if (found) return found;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no sealed ${type} event`);
  }

  it('answers offline as the service does, logs every prediction hash-chained, and sync brings them into the sealed prediction log', async () => {
    const device = await serve();
    const answers: { id: string; model_name: string; model_version: string; outputs: unknown }[] =
      [];
    try {
      for (let i = 0; i < 4; i++) {
        const r = await post(
          `${device.url}/v2/models/credit/infer`,
          inferBody([featureRows[i]!], `req-${i}`),
        );
        expect(r.status).toBe(200);
        answers.push((await r.json()) as (typeof answers)[number]);
      }
      const two = await post(
        `${device.url}/v2/models/credit/infer`,
        inferBody(featureRows.slice(4, 6)),
      );
      expect(two.status).toBe(200);
      const twoAnswer = (await two.json()) as { id: string; outputs: { shape: number[] }[] };
      expect(twoAnswer.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(twoAnswer.outputs[0]?.shape[0]).toBe(2);

      // The same answer, and the same refusal, as the service's own inference path.
      for (let i = 0; i < 4; i++) {
        const served = await post(
          `${app.url}/v2/models/credit/infer`,
          inferBody([featureRows[i]!], `req-${i}`),
          tokens['ivan'],
        );
        expect(served.status).toBe(200);
        expect(answers[i]).toEqual(await served.json());
      }
      expect(answers[0]).toMatchObject({ id: 'req-0', model_name: 'credit', model_version: '1' });
      const wrong = inferBody([featureRows[0]!.slice(1)]);
      const refusedHere = await post(`${device.url}/v2/models/credit/infer`, wrong);
      const refusedThere = await post(`${app.url}/v2/models/credit/infer`, wrong, tokens['ivan']);
      expect(refusedHere.status).toBe(400);
      expect(await refusedHere.json()).toEqual(await refusedThere.json());
      const notJson = await fetch(`${device.url}/v2/models/credit/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"inputs": [',
      });
      expect(notJson.status).toBe(400);
      expect(
        ((await notJson.json()) as { error: { details: { field: string } } }).error.details.field,
      ).toBe('body');
      const other = await post(`${device.url}/v2/models/other/infer`, inferBody([featureRows[0]!]));
      expect(other.status).toBe(404);

      expect((await fetch(`${device.url}/v2/health/live`)).status).toBe(200);
      expect((await fetch(`${device.url}/v2/health/ready`)).status).toBe(200);
      const metadata = (await (await fetch(`${device.url}/v2/models/credit`)).json()) as Record<
        string,
        unknown
      >;
      expect(metadata).toMatchObject({ name: 'credit', versions: ['1'], platform: 'onnxruntime' });
      // The runtime is small: no framework of the service is loaded.
      expect(device.errorOutput()).not.toMatch(/FRAMEWORK/);
    } finally {
      expect(await device.stop('SIGTERM')).toBe(0);
    }

    // Refused requests are not predictions: five answered, five records, chained from seq 1.
    const records = logRecords();
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(records[0]!.prev).toBe('0'.repeat(64));
    for (const [i, r] of records.entries()) {
      const { hash, ...rest } = r;
      expect(recordHash(rest)).toBe(hash);
      if (i > 0) expect(r.prev).toBe(records[i - 1]!.hash);
      expect(r).toMatchObject({
        v: 1,
        deviceId: 'kiosk-7',
        endpoint: 'credit',
        arm: 'live',
        model: 'credit-risk',
        modelVersion: 1,
        bundleSha256: bundle.manifest.subject[0].digest.sha256,
        error: null,
      });
    }
    expect(records[0]!.outputs).toEqual(
      (answers[0]!.outputs as Record<string, unknown>[]).map((o) => ({ ...o })),
    );

    // The service's own answers above are logged off their request path: wait for them, so
    // that what follows counts only what the upload writes.
    for (let i = 0; i < 100; i++) {
      if (
        (await count(`SELECT count(*) AS n FROM predictions WHERE request_id LIKE 'req-%'`)) === 4
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await count(`SELECT count(*) AS n FROM predictions WHERE request_id LIKE 'req-%'`)).toBe(
      4,
    );
    const before = await uploadedState();
    const sync = await runCli(
      ['edge', 'sync', '--log', logFile, '--endpoint', 'credit', '--json'],
      syncEnv,
    );
    expect(sync.stderr).toBe('');
    expect(sync.code).toBe(0);
    const result = JSON.parse(sync.stdout) as {
      sync: { uploaded: number; position: { seq: number; hash: string } };
    };
    expect(result.sync).toMatchObject({
      uploaded: 5,
      position: { seq: 5, hash: records[4]!.hash },
    });

    const rows = await db.query<{
      request_id: string;
      arm: string;
      model_version: number;
      seq: string;
      batch_id: string;
    }>(
      `SELECT p.request_id, p.arm, p.model_version, r.seq, r.batch_id
         FROM edge_device_records r JOIN predictions p ON p.id = r.prediction_id
        WHERE r.device_id = 'kiosk-7' ORDER BY r.seq`,
    );
    expect(rows.rows.map((r) => [r.request_id, r.arm, r.model_version, Number(r.seq)])).toEqual(
      records.map((r) => [r.requestId, 'live', 1, r.seq]),
    );
    const after = await uploadedState();
    expect(after.predictions - before.predictions).toBe(5);
    expect(after.batches - before.batches).toBe(1);

    const batchId = Number(rows.rows[0]!.batch_id);
    const logged = await sealed('predictions.logged', (p) => p['batchId'] === batchId);
    expect(logged.payload).toMatchObject({ endpoint: 'credit', count: 5 });
    const uploaded = await sealed('edge.predictions.uploaded', (p) => p['batchId'] === batchId);
    expect(uploaded.payload).toEqual({
      deviceId: 'kiosk-7',
      endpoint: 'credit',
      firstSeq: 1,
      lastSeq: 5,
      count: 5,
      lastHash: records[4]!.hash,
      bundleSha256s: [bundle.manifest.subject[0].digest.sha256],
      batchId,
    });
    const verify = await app.gql<{ verifyLedger: { ok: boolean } }>(
      '{ verifyLedger { ok } }',
      {},
      tokens['audrey'],
    );
    expect(verify.data?.verifyLedger.ok).toBe(true);

    // Run again: nothing new, nothing written.
    const again = await runCli(['edge', 'sync', '--log', logFile, '--endpoint', 'credit'], syncEnv);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /^Nothing to upload: the service has device kiosk-7's log of credit up to seq 5\n$/,
    );
    expect(await uploadedState()).toEqual(after);
  }, 120_000);

  it('continues the chain after a restart, and after a crash that tore the last line', async () => {
    let device = await serve();
    for (let i = 6; i < 8; i++)
      expect(
        (await post(`${device.url}/v2/models/credit/infer`, inferBody([featureRows[i]!]))).status,
      ).toBe(200);
    expect(await device.stop('SIGTERM')).toBe(0);
    const whole = logRecords();
    expect(whole.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(whole[5]!.prev).toBe(whole[4]!.hash);

    // A power cut in the middle of an append leaves part of a line.
    appendFileSync(logFile, '{"arm":"live","bundleSha256":"ab');
    device = await serve();
    expect(device.errorOutput()).toMatch(
      /warning: the device log \S+ ended with a torn record \(the last line has no end\): cut off its last 32 bytes; the chain continues from seq 7/,
    );
    expect(
      (await post(`${device.url}/v2/models/credit/infer`, inferBody([featureRows[8]!]))).status,
    ).toBe(200);
    // A second edge serve on the same log would fork the chain: refused.
    const second = await runCli(
      [
        'edge',
        'serve',
        bundleFile,
        '--jwks',
        jwksFile,
        '--port',
        '0',
        '--log',
        logFile,
        '--device',
        'kiosk-7',
      ],
      {},
    );
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/is in use by process \d+/);
    expect(await device.stop('SIGTERM')).toBe(0);
    const records = logRecords();
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(records[7]!.prev).toBe(records[6]!.hash);

    // Another device's id on this log is refused: one log, one device.
    const stranger = await runCli(
      [
        'edge',
        'serve',
        bundleFile,
        '--jwks',
        jwksFile,
        '--port',
        '0',
        '--log',
        logFile,
        '--device',
        'kiosk-8',
      ],
      {},
    );
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toMatch(/holds the records of device kiosk-7, not kiosk-8/);

    const sync = await runCli(['edge', 'sync', '--log', logFile, '--endpoint', 'credit'], syncEnv);
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(
      /^Uploaded 3 records \(seq 6 to 8\) of device kiosk-7 for credit; the service is at seq 8\n$/,
    );
  }, 120_000);

  it('refuses a tampered bundle, or one signed by a key it was not given, before serving anything', async () => {
    const bytes = readFileSync(bundleFile);
    // The model's member header: its name at the start of a 512-byte block.
    let model = bytes.indexOf('model.onnx');
    while (model % 512 !== 0) model = bytes.indexOf('model.onnx', model + 1);
    const tampered = Buffer.from(bytes);
    // A byte of the model's data, past its header.
    tampered[model + 512 + 100] = (tampered[model + 512 + 100] ?? 0) ^ 0x01;
    const tamperedFile = join(dir, 'tampered.edge.tar');
    writeFileSync(tamperedFile, tampered);
    const out = await runCli(
      [
        'edge',
        'serve',
        tamperedFile,
        '--jwks',
        jwksFile,
        '--port',
        '0',
        '--log',
        join(dir, 'never.ndjson'),
      ],
      {},
    );
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(
      /^gatehouse: \S+tampered\.edge\.tar: the bundle does not verify against \S+jwks\.json \(digest\): model\.onnx: /,
    );
    expect(out.stdout).toBe('');

    // The same files without their signature.
    const unsignedFile = join(dir, 'unsigned.edge.tar');
    writeFileSync(
      unsignedFile,
      writeUstar(readUstar(new Uint8Array(bytes)).filter((m) => m.name !== 'manifest.jws')),
    );
    const unsigned = await runCli(
      [
        'edge',
        'serve',
        unsignedFile,
        '--jwks',
        jwksFile,
        '--port',
        '0',
        '--log',
        join(dir, 'never.ndjson'),
      ],
      {},
    );
    expect(unsigned.code).toBe(2);
    expect(unsigned.stderr).toMatch(
      /unsigned\.edge\.tar: the bundle does not verify against \S+ \(unsigned\): /,
    );
    expect(existsSync(join(dir, 'never.ndjson'))).toBe(false);

    const strangerJwks = join(dir, 'stranger.json');
    writeFileSync(strangerJwks, JSON.stringify({ keys: [] }));
    const unknown = await runCli(
      ['edge', 'serve', bundleFile, '--jwks', strangerJwks, '--port', '0'],
      {},
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/\(unknown-key\): manifest\.jws: /);
  }, 60_000);

  describe('POST /v1/edge/{endpoint}/predictions', () => {
    let accepted: DeviceLogRecord[];
    const line = (r: DeviceLogRecord): string => JSON.stringify(r);
    /** The next record of the chain after `after`, as a device would seal it. */
    const next = (
      after: DeviceLogRecord,
      change: Partial<DeviceLogRecord> = {},
    ): DeviceLogRecord => {
      return sealRecord({
        ...unhashed(after),
        seq: after.seq + 1,
        prev: after.hash,
        requestId: `forged-${after.seq + 1}`,
        ...change,
      }).record;
    };
    const refusal = async (r: Response) => ({
      status: r.status,
      error: ((await r.json()) as { error: { message: string } }).error,
    });

    beforeAll(() => {
      accepted = logRecords();
    });

    it('answers records sent again with what is already there, writing nothing', async () => {
      const before = await uploadedState();
      const r = await upload(accepted.slice(2, 8).map(line));
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({
        deviceId: 'kiosk-7',
        endpoint: 'credit',
        received: 6,
        accepted: 0,
        alreadyAccepted: 6,
        position: { seq: 8, hash: accepted[7]!.hash },
        batchId: null,
      });
      expect(await uploadedState()).toEqual(before);
    });

    it('refuses a gap, a broken chain, a record that differs from one accepted, naming the seq; nothing is written', async () => {
      const before = await uploadedState();
      const nine = next(accepted[7]!);
      const ten = next(nine);
      const gap = await refusal(await upload([line(ten)]));
      expect(gap.status).toBe(409);
      expect(gap.error.message).toBe(
        'the upload starts at seq 10, the service expects seq 9 next (device kiosk-7 has uploaded up to seq 8)',
      );

      // A record changed after it was hashed.
      const forged = { ...nine, latencyMs: nine.latencyMs + 1 };
      const broken = await refusal(await upload([line(forged), line(ten)]));
      expect(broken.status).toBe(409);
      expect(broken.error.message).toMatch(
        /^seq 9: the chain is broken: hash \w+ does not recompute/,
      );

      // A record re-hashed but chained to something else.
      const unlinked = next(accepted[7]!, { prev: 'f'.repeat(64) });
      const link = await refusal(await upload([line(unlinked)]));
      expect(link.status).toBe(409);
      expect(link.error.message).toBe(
        `seq 9: prev ${'f'.repeat(64)} is not the hash of the accepted seq 8 (${accepted[7]!.hash})`,
      );

      // Seq 8 rewritten, and correctly chained: not the record the service holds.
      const rewritten = next(accepted[6]!, { requestId: 'rewritten' });
      const differs = await refusal(await upload([line(rewritten), line(next(rewritten))]));
      expect(differs.status).toBe(409);
      expect(differs.error.message).toBe(
        `seq 8: differs from the record already accepted with that seq (hash ${accepted[7]!.hash}, sent ${rewritten.hash})`,
      );

      // A bundle the service never issued.
      const foreign = next(accepted[7]!, { bundleSha256: 'a'.repeat(64) });
      const notIssued = await refusal(await upload([line(foreign)]));
      expect(notIssued.status).toBe(400);
      expect(notIssued.error.message).toBe(
        `bundleSha256: seq 9: ${'a'.repeat(64)} is not a bundle this service issued for endpoint credit`,
      );
      expect(await uploadedState()).toEqual(before);

      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toMatch(/gatehouse_edge_uploads_total\{[^}]*outcome="gap"[^}]*\} 1/);
      expect(metrics).toMatch(/gatehouse_edge_uploads_total\{[^}]*outcome="differs"[^}]*\} 1/);
    });

    it('refuses another device’s records, and every other use of a device token', async () => {
      const before = await uploadedState();
      const nine = next(accepted[7]!);
      const other = await refusal(await upload([line(nine)], 'kiosk-8'));
      expect(other.status).toBe(403);
      expect(other.error.message).toBe(
        'seq 9: deviceId kiosk-7 is not the device this token is for (kiosk-8); a device uploads its own log only',
      );
      // kiosk-8's own position is its own: nothing.
      const position = await fetch(`${app.url}/v1/edge/credit/predictions/position`, {
        headers: { authorization: `Bearer ${tokens['kiosk-8']!}` },
      });
      expect(await position.json()).toEqual({
        deviceId: 'kiosk-8',
        endpoint: 'credit',
        seq: 0,
        hash: '0'.repeat(64),
      });
      expect(await uploadedState()).toEqual(before);

      // Nothing else: no inference on the service, no reading, no upload without the role.
      expect(
        (
          await post(
            `${app.url}/v2/models/credit/infer`,
            inferBody([featureRows[0]!]),
            tokens['kiosk-7'],
          )
        ).status,
      ).toBe(403);
      const read = await app.gql('{ endpoints { items { name } } }', {}, tokens['kiosk-7']);
      expect(read.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      expect((await upload([line(nine)], 'ivan')).status).toBe(403);
    });

    it('refuses hostile bodies with the field and the reason', async () => {
      const before = await uploadedState();
      const nine = next(accepted[7]!);
      const cases: [string, number, RegExp][] = [
        [
          line(nine).replace('{', '{"__proto__":{"x":1},'),
          400,
          /__proto__: a member of this name is not accepted/,
        ],
        [
          line(next(accepted[7]!, { requestId: 'a\u0000b' })),
          400,
          /^requestId: seq 9: requestId: contains NUL/,
        ],
        [
          line(nine).replace('"requestId":"forged-9"', '"requestId":"\\ud800"'),
          400,
          /unpaired UTF-16 surrogate/,
        ],
        [
          line(nine).replace(/"latencyMs":[^,]+/, '"latencyMs":1e400'),
          400,
          /latencyMs: must be a finite number/,
        ],
        [line(nine).replace('"seq":9', '"seq":-3'), 400, /seq: must be a whole number from 1/],
        [
          line(nine).replace('"v":1', '"v":1,"extra":true'),
          400,
          /extra: is not a member of a record/,
        ],
        ['not json', 400, /line 1: is not JSON/],
      ];
      for (const [body, status, message] of cases) {
        const r = await refusal(await upload([body]));
        expect([body.slice(0, 40), r.status]).toEqual([body.slice(0, 40), status]);
        expect(r.error.message).toMatch(message);
      }
      const many = await refusal(await upload(Array.from({ length: 10_001 }, () => '{}')));
      expect(many.status).toBe(413);
      expect(many.error.message).toBe(
        'body: more than 10000 records (the record limit of one upload); send them in chunks',
      );
      const huge = await refusal(await upload(['x'.repeat(9 * 1024 * 1024)]));
      expect(huge.status).toBe(413);
      expect(huge.error.message).toBe(
        'body: a device log upload is larger than the limit of 8388608 bytes',
      );
      const wrongType = await fetch(`${app.url}/v1/edge/credit/predictions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${tokens['kiosk-7']!}`,
        },
        body: '{}',
      });
      expect(wrongType.status).toBe(400);
      expect(await uploadedState()).toEqual(before);
    });
  });
});
