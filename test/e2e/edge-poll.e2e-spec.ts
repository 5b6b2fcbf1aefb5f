import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceLogRecord } from '../../src/edge/device-log.js';
import { deviceBucket } from '../../src/edge/edge-assignment.js';
import { verifyEdgeBundle, type EdgeBundle } from '../../src/edge/edge-bundle-verify.js';
import { buildGermanCreditModels, defaultGermanCreditPath } from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { startLongRunning, type ServingProcess } from '../support/cli.js';
import { registerVersion } from '../support/registry.js';
import {
  clientOf,
  evaluate,
  FAST_ROLLOUT_ENV,
  fastPolicies,
  gql,
  inStage,
  liveCreditEndpoint,
  PEOPLE,
  promote,
  RATIONALE,
  sleep,
  uploadDataset,
  waitForRollout,
  type RolloutView,
} from '../support/rollout-story.js';

interface ArmView {
  readonly arm: string;
  readonly version: number;
  readonly answers: boolean;
  readonly bundleSha256: string;
}

/**
 * `gatehouse edge serve --url`: a real device runtime polling a real service follows the
 * endpoint's rollout (live, then the shadow bundle, then live again after a rollback) without a
 * restart, and a step back fed to it by a stub service is refused while it goes on serving.
 */
describe('edge serve polls for its bundle', () => {
  let app: TestApp;
  let policiesDir: string;
  let dir: string;
  const tokens: Record<string, string> = {};
  const client = clientOf(() => app.url, tokens);
  let jwks: { keys: unknown[] };
  let candidateVersion: number;
  let started: RolloutView;
  let liveBytes: Uint8Array;
  let liveBundle: EdgeBundle;
  let bundleFile: string;
  let jwksFile: string;
  let tokenFile: string;
  let featureRows: number[][];
  /** A device the shadow stage's 50 % sample covers. */
  const deviceId =
    Array.from({ length: 100 }, (_, i) => `kiosk-${i}`).find((d) => deviceBucket(d) < 5000) ?? '';

  const digestOf = (b: EdgeBundle) => b.manifest.subject[0].digest.sha256;

  async function verified(bytes: Uint8Array): Promise<EdgeBundle> {
    const v = await verifyEdgeBundle(bytes, jwks);
    if (!v.ok) throw new Error(`${v.code} ${v.file}: ${v.reason}`);
    return v.bundle;
  }

  async function armsOn(device: ServingProcess): Promise<ArmView[]> {
    const r = await fetch(`${device.url}/v2/models/credit`);
    return ((await r.json()) as { arms: ArmView[] }).arms;
  }

  /** Reads until `done` holds of what was read; the state, never a set time, is waited for. */
  async function waitFor<T>(what: string, read: () => Promise<T> | T, done: (v: T) => boolean) {
    const until = Date.now() + 60_000;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > until) throw new Error(`${what}: still ${JSON.stringify(value)}`);
      await sleep(100);
    }
  }

  async function infer(device: ServingProcess): Promise<void> {
    const r = await fetch(`${device.url}/v2/models/credit/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          {
            name: liveBundle.spec.inputName,
            datatype: 'FP32',
            shape: [featureRows.length, featureRows[0]?.length ?? 0],
            data: featureRows.flat(),
          },
        ],
      }),
    });
    expect(r.status).toBe(200);
  }

  function lastRecords(logFile: string, n: number): DeviceLogRecord[] {
    return readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .slice(-n)
      .map((l) => JSON.parse(l) as DeviceLogRecord);
  }

  function serve(logFile: string, url: string, env: Record<string, string>) {
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
        deviceId,
        '--url',
        url,
        '--poll-interval',
        '1s',
      ],
      env,
      /listening on (http:\/\/\S+)/,
    );
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-edge-poll-'));
    policiesDir = fastPolicies();
    app = await startTestApp({ ...FAST_ROLLOUT_ENV, GATEHOUSE_POLICIES_DIR: policiesDir });
    for (const [who, roles] of Object.entries(PEOPLE)) tokens[who] = await app.token(who, ...roles);
    tokens[deviceId] = await app.token(deviceId, 'device');
    const models = buildGermanCreditModels();
    await liveCreditEndpoint(client, 'credit', models.fair, defaultGermanCreditPath());
    candidateVersion = await registerVersion(
      app,
      tokens['dana']!,
      'credit-risk',
      models.fairRetrained,
    );
    jwks = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as { keys: unknown[] };
    const r = await fetch(`${app.url}/v1/edge/credit/bundle?device=${deviceId}`, {
      headers: { authorization: `Bearer ${tokens[deviceId]}` },
    });
    expect(r.status).toBe(200);
    liveBytes = new Uint8Array(await r.arrayBuffer());
    liveBundle = await verified(liveBytes);
    bundleFile = join(dir, 'credit.edge.tar');
    jwksFile = join(dir, 'jwks.json');
    tokenFile = join(dir, 'device.token');
    writeFileSync(bundleFile, liveBytes);
    writeFileSync(jwksFile, JSON.stringify(jwks));
    writeFileSync(tokenFile, tokens[deviceId]);
    const columns = liveBundle.spec.featureColumns.map((c) => models.data.featureNames.indexOf(c));
    featureRows = Array.from({ length: 5 }, (_, i) =>
      columns.map((c) => Math.fround(models.data.X[i]?.[c] ?? 0)),
    );
  }, 240_000);

  afterAll(async () => {
    await app.close();
    rmSync(policiesDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts on the live bundle, serves the shadow bundle from its next poll, and live again after a rollback; a restart runs the newest', async () => {
    const logFile = join(dir, 'device.ndjson');
    const device = await serve(logFile, app.url, { GATEHOUSE_TOKEN_FILE: tokenFile });
    try {
      const liveDigest = digestOf(liveBundle);
      expect(await armsOn(device)).toEqual([
        { arm: 'live', version: liveBundle.spec.version, answers: true, bundleSha256: liveDigest },
      ]);

      const dataset = await uploadDataset(client, defaultGermanCreditPath());
      started = await promote(client, {
        endpoint: 'credit',
        model: 'credit-risk',
        version: candidateVersion,
        evaluationId: await evaluate(client, 'credit-risk', candidateVersion, dataset),
        strategy: 'SHADOW_THEN_CANARY',
        plan: {
          shadow: { sampleRate: 0.5, minRequests: 100_000, minDurationSeconds: 1 },
          canary: { steps: [50], minRequestsPerStep: 100_000, bakeSeconds: 1 },
        },
        rollbackCriteria: {
          maxErrorRate: { value: 0.02, window: { minRequests: 100_000, seconds: 60 } },
          minDisparateImpact: { value: 0.7, window: { minRequests: 100_000, seconds: 60 } },
          rationale: RATIONALE,
        },
      });
      await waitForRollout(client, started.id, inStage('shadow'));

      const shadowArms = await waitFor(
        'the shadow bundle served',
        () => armsOn(device),
        (arms) => arms.length === 2,
      );
      const shadowBundle = await verified(new Uint8Array(readFileSync(bundleFile)));
      const shadowDigest = digestOf(shadowBundle);
      expect(shadowBundle.candidate?.assignment).toMatchObject({
        mode: 'shadow',
        rolloutId: started.id,
        candidateVersion,
      });
      expect(shadowArms).toEqual([
        {
          arm: 'live',
          version: liveBundle.spec.version,
          answers: true,
          bundleSha256: shadowDigest,
        },
        { arm: 'shadow', version: candidateVersion, answers: false, bundleSha256: shadowDigest },
      ]);
      // The service's ETag for this device is the bundle the runtime wrote and serves.
      const etag = await fetch(`${app.url}/v1/edge/credit/bundle?device=${deviceId}`, {
        headers: { authorization: `Bearer ${tokens[deviceId]!}` },
      });
      expect(etag.headers.get('etag')).toBe(`"${shadowDigest}"`);
      await infer(device);
      expect(lastRecords(logFile, 2).map((r) => [r.arm, r.modelVersion, r.bundleSha256])).toEqual([
        ['live', liveBundle.spec.version, shadowDigest],
        ['shadow', candidateVersion, shadowDigest],
      ]);
      expect(device.output()).toContain(
        `now serving bundle sha256:${shadowDigest} (live credit-risk@${liveBundle.spec.version}, shadow credit-risk@${candidateVersion}; shadow, stage shadow of rollout ${started.id})`,
      );

      await gql(
        client,
        `mutation($id: ID!, $reason: String!) { rollbackRollout(id: $id, reason: $reason) { id } }`,
        { id: started.id, reason: 'The polling test rolls the candidate back by hand.' },
        'erin',
      );
      await waitForRollout(client, started.id, (r) => r.status === 'ROLLED_BACK');
      const backArms = await waitFor(
        'the live bundle served again',
        () => armsOn(device),
        (arms) => arms.length === 1,
      );
      const backBundle = await verified(new Uint8Array(readFileSync(bundleFile)));
      expect(backBundle.candidate).toBe(null);
      expect(backArms).toEqual([
        {
          arm: 'live',
          version: liveBundle.spec.version,
          answers: true,
          bundleSha256: digestOf(backBundle),
        },
      ]);
      expect(backBundle.evidence.checkpoint.checkpoint.treeSize).toBeGreaterThan(
        shadowBundle.evidence.checkpoint.checkpoint.treeSize,
      );
      await infer(device);
      expect(lastRecords(logFile, 1)[0]?.bundleSha256).toBe(digestOf(backBundle));
      expect(device.errorOutput()).toBe('');
    } finally {
      expect(await device.stop()).toBe(0);
    }

    // A restart runs the bundle file, which is the newest served.
    const restarted = await serve(logFile, app.url, { GATEHOUSE_TOKEN_FILE: tokenFile });
    try {
      const digest = digestOf(await verified(new Uint8Array(readFileSync(bundleFile))));
      expect(restarted.output()).toContain(`(bundle sha256:${digest})`);
      expect((await armsOn(restarted))[0]?.bundleSha256).toBe(digest);
    } finally {
      expect(await restarted.stop()).toBe(0);
    }
  }, 180_000);

  it('refuses an older genuine bundle, and a service that fails, while it goes on serving', async () => {
    const newest = new Uint8Array(readFileSync(bundleFile));
    const newestDigest = digestOf(await verified(newest));
    const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
    // A service that fails once, then hands out the bundle the device started on long ago.
    const stub: Server = createServer((request, response) => {
      seen.push({ url: request.url ?? '', headers: request.headers });
      if (seen.length === 1) {
        response.writeHead(503, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'down for now' } }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/x-tar', etag: '"old"' });
      response.end(liveBytes);
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    const stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
    const device = await serve(join(dir, 'stepped.ndjson'), stubUrl, {
      GATEHOUSE_TOKEN: tokens[deviceId]!,
    });
    try {
      const stderr = await waitFor(
        'the step back refused',
        () => device.errorOutput(),
        (text) => text.includes('refused bundle'),
      );
      expect(stderr).toContain(
        `gatehouse: warning: polling ${stubUrl}/ for the bundle failed (1 in a row): the service answered 503: down for now; still serving sha256:${newestDigest}, next poll in 2s\n`,
      );
      expect(stderr).toMatch(
        new RegExp(
          `gatehouse: warning: refused bundle sha256:${digestOf(liveBundle)} \\(live credit-risk@${liveBundle.spec.version}\\) from ${stubUrl}/: a step back: its checkpoint tree size \\d+ is smaller than \\d+ of the bundle served; still serving sha256:${newestDigest}\\n`,
        ),
      );
      expect(seen[1]).toMatchObject({
        url: `/v1/edge/credit/bundle?device=${deviceId}`,
        headers: {
          authorization: `Bearer ${tokens[deviceId]!}`,
          'if-none-match': `"${newestDigest}"`,
        },
      });
      expect((await armsOn(device)).map((a) => a.bundleSha256)).toEqual([newestDigest]);
      expect(new Uint8Array(readFileSync(bundleFile))).toEqual(newest);
      await infer(device);
    } finally {
      expect(await device.stop()).toBe(0);
      await new Promise((resolve) => stub.close(resolve));
    }
  }, 120_000);
});
