import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EDGE_FILES } from '../../src/edge/edge-bundle-format.js';
import { verifyEdgeBundle, type EdgeBundle } from '../../src/edge/edge-bundle-verify.js';
import { readUstar } from '../../src/edge/ustar.js';
import { buildGermanCreditModels, defaultGermanCreditPath } from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runCli } from '../support/cli.js';
import { pythonWithCryptography } from '../support/python.js';
import { newTestKey } from '../support/synthetic-edge-bundle.js';
import { createSession } from '../support/onnx-scoring.js';
import { createEndpoint, setTraffic } from '../support/registry.js';
import {
  clientOf,
  liveCreditEndpoint,
  PEOPLE,
  SIGN_OFF,
  type RolloutView,
} from '../support/rollout-story.js';

const PYTHON_VERIFIER = fileURLToPath(
  new URL('../../docs/examples/verify_edge_bundle.py', import.meta.url),
);
const sha256 = (bytes: string | Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('edge bundles: GET /v1/edge/{endpoint}/bundle and gatehouse edge bundle', () => {
  let app: TestApp;
  let dir: string;
  const tokens: Record<string, string> = {};
  let rollout: RolloutView;
  let jwks: { keys: unknown[] };
  let bytes: Uint8Array;
  let bundle: EdgeBundle;

  const get = (path: string, who: string): Promise<Response> =>
    fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${tokens[who]!}` } });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-edge-'));
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    for (const [who, roles] of Object.entries(PEOPLE)) tokens[who] = await app.token(who, ...roles);
    tokens['dana-only'] = await app.token('dana', 'data-scientist');
    const client = clientOf(() => app.url, tokens);
    rollout = await liveCreditEndpoint(
      client,
      'credit',
      buildGermanCreditModels().fair,
      defaultGermanCreditPath(),
    );
    // An endpoint that serves nothing, and one whose live version no promotion put there.
    await createEndpoint(app, tokens['erin']!, 'idle', 'credit-risk');
    await createEndpoint(app, tokens['erin']!, 'unpromoted', 'credit-risk');
    await setTraffic(app, 'unpromoted', { liveVersion: 1 });
    jwks = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as { keys: unknown[] };

    const response = await get('/v1/edge/credit/bundle', 'audrey');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-tar');
    expect(response.headers.get('content-disposition')).toBe(
      'attachment; filename="credit-credit-risk-1.edge.tar"',
    );
    bytes = new Uint8Array(await response.arrayBuffer());
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    const verified = await verifyEdgeBundle(bytes, jwks);
    if (!verified.ok) throw new Error(`${verified.file}: ${verified.reason}`);
    bundle = verified.bundle;
  }, 240_000);

  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the live version as served: the artifact, and the binding the inference path scores it with', async () => {
    expect(rollout.status).toBe('COMPLETED');
    expect(sha256(bundle.model)).toBe(bundle.spec.artifactSha256);
    expect(bundle.spec).toMatchObject({
      v: 1,
      endpoint: 'credit',
      model: 'credit-risk',
      version: 1,
      task: 'BINARY_CLASSIFICATION',
    });
    const metadata = (await (await get('/v2/models/credit', 'ivan')).json()) as {
      inputs: unknown[];
      outputs: unknown[];
    };
    expect(bundle.spec.signature.inputs).toEqual(metadata.inputs);
    expect(bundle.spec.signature.outputs).toEqual(metadata.outputs);
    expect(bundle.modelCard).toMatchObject({ intendedUse: expect.any(String) });
  });

  it('scores with ONNX Runtime on the device exactly as the service answers', async () => {
    const { spec } = bundle;
    const row = spec.featureColumns.map((_, i) => (i % 5) / 4);
    const answer = (await (
      await fetch(`${app.url}/v2/models/credit/infer`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tokens['ivan']!}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          inputs: [{ name: spec.inputName, datatype: 'FP32', shape: [1, row.length], data: row }],
        }),
      })
    ).json()) as { outputs: { name: string; data: number[] }[] };
    const served = answer.outputs.find((o) => o.name === spec.scoreOutput)?.data;
    const session = await createSession(bundle.model);
    const { ort } = await import('../support/onnx-scoring.js');
    const out = await session.run({
      [spec.inputName]: new ort.Tensor('float32', Float32Array.from(row), [1, row.length]),
    });
    const local = Array.from(out[spec.scoreOutput]?.data as Float32Array);
    expect(served).toBeDefined();
    expect(local[spec.scoreIndex]).toBeCloseTo(served?.[spec.scoreIndex] ?? Number.NaN, 6);
  });

  it('carries the promotion’s approvals, statements by digest, and the policy it was decided under', async () => {
    const { promotion } = bundle;
    const { promotionRequest } = (
      await app.gql<{
        promotionRequest: { requestDigest: string; policySha256: string; status: string };
      }>(
        `query($id: ID!) { promotionRequest(id: $id) { requestDigest policySha256 status } }`,
        { id: promotion.promotionId },
        tokens['audrey'],
      )
    ).data!;
    expect(promotion).toMatchObject({
      endpoint: 'credit',
      model: 'credit-risk',
      version: 1,
      strategy: 'INITIAL',
      requestedBy: 'dana',
      rolloutId: rollout.id,
      requestDigest: promotionRequest.requestDigest,
      policySha256: promotionRequest.policySha256,
    });
    expect(promotion.approvals.map((a) => [a.approver, a.role]).sort()).toEqual([
      ['cora', 'compliance-officer'],
      ['erin', 'ml-engineer'],
      ['vera', 'model-validator'],
    ]);
    const cora = promotion.approvals.find((a) => a.approver === 'cora');
    expect(cora).toMatchObject({
      signOff: true,
      statement: SIGN_OFF,
      statementSha256: sha256(SIGN_OFF),
    });
  });

  it('carries the go-live event exactly as the NDJSON export gives it, proven against a signed checkpoint', async () => {
    const { evidence } = bundle;
    expect(evidence.event).toMatchObject({
      type: 'deployment.live.changed',
      subject: 'endpoint:credit',
    });
    const line = readUstar(bytes).find((m) => m.name === EDGE_FILES.event)!;
    const exported = await (
      await get(`/v1/ledger/events?afterSeq=${evidence.event.seq - 1}&limit=1`, 'audrey')
    ).text();
    expect(new TextDecoder().decode(line.bytes)).toBe(exported);
    const checkpoint = await (
      await get(
        `/v1/ledger/checkpoint?treeSize=${evidence.checkpoint.checkpoint.treeSize}`,
        'audrey',
      )
    ).json();
    expect(checkpoint).toEqual(evidence.checkpoint);
    expect(evidence.checkpoint.checkpoint.treeSize).toBeGreaterThanOrEqual(evidence.event.seq);
    // No checkpoint covered the go-live before the first bundle: the bundle made one.
    const { ledgerEvents } = (
      await app.gql<{
        ledgerEvents: { events: { actor: { sub: string }; payload: { treeSize: number } }[] };
      }>(
        `query { ledgerEvents(limit: 10, type: "ledger.checkpoint") { events { actor { sub } payload } } }`,
        {},
        tokens['audrey'],
      )
    ).data!;
    expect(ledgerEvents.events.map((e) => [e.actor.sub, e.payload.treeSize])).toEqual([
      ['audrey', evidence.checkpoint.checkpoint.treeSize],
    ]);
  });

  it('gives the same bytes again for the same state, and an ML engineer may fetch it', async () => {
    const again = await get('/v1/edge/credit/bundle', 'erin');
    expect(again.status).toBe(200);
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(bytes);
  });

  (pythonWithCryptography() ? it : it.skip)(
    'verifies with the Python verifier of docs/examples, another language following docs/edge.md',
    () => {
      const file = join(dir, 'python.tar');
      const keys = join(dir, 'python-jwks.json');
      writeFileSync(file, bytes);
      writeFileSync(keys, JSON.stringify(jwks));
      const run = spawnSync('python3', [PYTHON_VERIFIER, file, keys], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe(
        `verified: credit-risk@1 live on credit, promotion ${bundle.promotion.promotionId}, ledger seq ${bundle.evidence.event.seq} in tree size ${bundle.evidence.checkpoint.checkpoint.treeSize}, signed by ${bundle.kid}\n`,
      );
      expect(run.status).toBe(0);
    },
  );

  it('refuses a bundle changed by one byte', async () => {
    const changed = bytes.slice();
    const model = readUstar(bytes).findIndex((m) => m.name === EDGE_FILES.model);
    expect(model).toBeGreaterThanOrEqual(0);
    let at = 0;
    for (const m of readUstar(bytes)) {
      at += 512;
      if (m.name === EDGE_FILES.model) break;
      at += Math.ceil(m.bytes.length / 512) * 512;
    }
    changed[at + 100] = (changed[at + 100]! + 1) % 256;
    expect(await verifyEdgeBundle(changed, jwks)).toMatchObject({
      ok: false,
      code: 'digest',
      file: 'model.onnx',
    });
  });

  it('answers 404, 409 and 400 clearly, and 403 to roles without read EdgeBundle', async () => {
    const missing = await get('/v1/edge/nowhere/bundle', 'audrey');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toBe(
      'endpoint nowhere does not exist',
    );
    const idle = await get('/v1/edge/idle/bundle', 'audrey');
    expect(idle.status).toBe(409);
    expect(((await idle.json()) as { error: { message: string } }).error.message).toBe(
      'endpoint idle has no live version: a bundle carries the version a completed promotion put live',
    );
    const unpromoted = await get('/v1/edge/unpromoted/bundle', 'audrey');
    expect(unpromoted.status).toBe(409);
    expect(((await unpromoted.json()) as { error: { message: string } }).error.message).toBe(
      'version 1 of endpoint unpromoted was not put live by a completed promotion: there are no approvals to bundle',
    );
    const bad = await get('/v1/edge/Not_A_Slug/bundle', 'audrey');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /^endpoint: must be a slug/,
    );
    expect((await get('/v1/edge/credit/bundle', 'dana-only')).status).toBe(403);
    expect((await get('/v1/edge/credit/bundle', 'ivan')).status).toBe(403);
    expect((await fetch(`${app.url}/v1/edge/credit/bundle`)).status).toBe(401);
  });

  describe('gatehouse edge bundle', () => {
    let env: Record<string, string>;
    beforeAll(() => {
      const tokenFile = join(dir, 'token');
      writeFileSync(tokenFile, tokens['erin']!);
      env = { GATEHOUSE_URL: app.url, GATEHOUSE_TOKEN_FILE: tokenFile };
    });

    it('downloads, verifies against the service’s JWKS and saves the bundle', async () => {
      const file = join(dir, 'credit.tar');
      const out = await runCli(
        ['edge', 'bundle', '--endpoint', 'credit', '-o', file, '--json'],
        env,
      );
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      const result = JSON.parse(out.stdout) as { bundle: Record<string, unknown> };
      expect(result.bundle).toMatchObject({
        file,
        endpoint: 'credit',
        model: 'credit-risk',
        version: 1,
        kid: bundle.kid,
        promotionId: bundle.promotion.promotionId,
        eventSeq: bundle.evidence.event.seq,
        keysFrom: 'service',
      });
      expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
    });

    it('verifies against a pinned JWKS, and saves nothing that does not verify', async () => {
      const pinned = join(dir, 'jwks.json');
      writeFileSync(pinned, JSON.stringify(jwks));
      const good = await runCli(
        ['edge', 'bundle', '--endpoint', 'credit', '-o', join(dir, 'pinned.tar'), '--jwks', pinned],
        env,
      );
      expect(good.code).toBe(0);
      expect(good.stdout).toMatch(
        /^Bundle of credit-risk@1 live on credit \(promotion [0-9a-f-]{36}, ledger seq \d+ in the checkpoint of tree size \d+, signed by \S+\) verified and saved to /,
      );

      const stranger = join(dir, 'stranger.json');
      writeFileSync(stranger, JSON.stringify({ keys: [(await newTestKey()).jwk] }));
      const refused = join(dir, 'refused.tar');
      const bad = await runCli(
        ['edge', 'bundle', '--endpoint', 'credit', '-o', refused, '--jwks', stranger],
        env,
      );
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(
        /^gatehouse: the bundle of endpoint credit does not verify \(unknown-key\): manifest\.jws: signed with key \S+, which is not in the trusted JWKS\n$/,
      );
      expect(existsSync(refused)).toBe(false);
    });

    it('exits 8 for an endpoint without a live version, 2 for a bad name or an unknown endpoint, 7 for a role without the permission', async () => {
      const idle = await runCli(
        ['edge', 'bundle', '--endpoint', 'idle', '-o', join(dir, 'idle.tar')],
        env,
      );
      expect(idle.code).toBe(8);
      expect(idle.stderr).toMatch(/endpoint idle has no live version/);
      const bad = await runCli(
        ['edge', 'bundle', '--endpoint', '../etc', '-o', join(dir, 'x.tar')],
        env,
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^gatehouse: --endpoint: "..\/etc" is not an endpoint name/);
      const missing = await runCli(
        ['edge', 'bundle', '--endpoint', 'nowhere', '-o', join(dir, 'n.tar')],
        env,
      );
      expect(missing.code).toBe(2);
      const scientist = join(dir, 'scientist-token');
      writeFileSync(scientist, tokens['dana-only']!);
      const forbidden = await runCli(
        ['edge', 'bundle', '--endpoint', 'credit', '-o', join(dir, 'f.tar')],
        { ...env, GATEHOUSE_TOKEN_FILE: scientist },
      );
      expect(forbidden.code).toBe(7);
    });
  });

  it('after a key rotation, signs the manifest with the new key; the go-live keeps the old key’s signature, and both verify with the JWKS', async () => {
    const admin = await app.token('ada', 'admin');
    const r = await app.gql<{ rotateSigningKey: { kid: string; previousKid: string } }>(
      'mutation { rotateSigningKey { kid previousKid } }',
      {},
      admin,
    );
    const rotation = r.data!.rotateSigningKey;
    const response = await get('/v1/edge/credit/bundle', 'audrey');
    expect(response.status).toBe(200);
    const rotated = new Uint8Array(await response.arrayBuffer());
    const before = await verifyEdgeBundle(rotated, jwks);
    expect(before).toMatchObject({ ok: false, code: 'unknown-key', file: 'manifest.jws' });
    const keys = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as {
      keys: unknown[];
    };
    const after = await verifyEdgeBundle(rotated, keys);
    if (!after.ok) throw new Error(`${after.file}: ${after.reason}`);
    expect(after.bundle.kid).toBe(rotation.kid);
    expect(after.bundle.evidence.jws.startsWith(bundle.evidence.jws.split('.')[0]!)).toBe(true);
    expect(bundle.kid).toBe(rotation.previousKid);
  });
});
