import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceLogFile } from '../../src/edge/device-log-file.js';
import { verifyEdgeBundle, type EdgeBundle } from '../../src/edge/edge-bundle-verify.js';
import { armsOf, EdgeRuntime } from '../../src/edge/edge-runtime.js';
import {
  buildGermanCreditModels,
  constantModel,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { registerVersion } from '../support/registry.js';
import {
  clientOf,
  evaluate,
  FAST_ROLLOUT_ENV,
  fastPolicies,
  inStage,
  liveCreditEndpoint,
  PEOPLE,
  promote,
  RATIONALE,
  rollout,
  sleep,
  uploadDataset,
  waitForRollout,
  type RolloutView,
} from '../support/rollout-story.js';

/**
 * A fleet in a shadow stage: five simulated devices, each an edge runtime in this process,
 * fetch their bundles over REST with their own device tokens, answer requests over HTTP, and
 * upload their device logs; the candidate disagrees with live, and the rollout controller
 * rolls it back on the agreement criterion, judged on device traffic alone (the service's own
 * inference path serves nothing). Each device's next poll returns the live bundle.
 */
const DEVICES = ['kiosk-1', 'kiosk-2', 'kiosk-3', 'kiosk-4', 'kiosk-5'];
const WINDOW = { minRequests: 20, seconds: 60 };

interface Device {
  readonly id: string;
  etag: string;
  bundle: EdgeBundle;
  runtime: EdgeRuntime;
  url: string;
  readonly logFile: string;
  sent: number;
}

describe('fleet rollouts: a faulty candidate on devices is rolled back by its criteria', () => {
  let app: TestApp;
  let policiesDir: string;
  let dir: string;
  let models: GermanCreditModels;
  const tokens: Record<string, string> = {};
  const client = clientOf(() => app.url, tokens);
  let jwks: { keys: unknown[] };
  let started: RolloutView;
  const devices: Device[] = [];

  /** The device's bundle, with its own token; a 409 right after a change is asked again. */
  async function fetchBundle(
    id: string,
    etag?: string,
  ): Promise<{ status: number; etag: string; bundle?: EdgeBundle }> {
    const until = Date.now() + 60_000;
    for (;;) {
      const r = await fetch(`${app.url}/v1/edge/credit/bundle`, {
        headers: {
          authorization: `Bearer ${tokens[id]!}`,
          ...(etag === undefined ? {} : { 'if-none-match': etag }),
        },
      });
      const bytes = new Uint8Array(await r.arrayBuffer());
      if (r.status === 200) {
        const v = await verifyEdgeBundle(bytes, jwks);
        if (!v.ok) throw new Error(`${id}: ${v.code} ${v.file}: ${v.reason}`);
        return { status: 200, etag: r.headers.get('etag') ?? '', bundle: v.bundle };
      }
      if (r.status === 304) return { status: 304, etag: etag ?? '' };
      if (r.status !== 409 || Date.now() > until)
        throw new Error(`${id}: ${r.status} ${new TextDecoder().decode(bytes)}`);
      await sleep(50);
    }
  }

  async function answer(device: Device, rows: number[][]): Promise<void> {
    const spec = device.bundle.spec;
    const r = await fetch(`${device.url}/v2/models/credit/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          {
            name: spec.inputName,
            datatype: 'FP32',
            shape: [rows.length, rows[0]?.length ?? 0],
            data: rows.flat(),
          },
        ],
      }),
    });
    expect(r.status).toBe(200);
  }

  /** Uploads the device log's records not yet sent, as `gatehouse edge sync` does. */
  async function sync(device: Device): Promise<void> {
    const lines = readFileSync(device.logFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const fresh = lines.slice(device.sent);
    if (fresh.length === 0) return;
    const r = await fetch(`${app.url}/v1/edge/credit/predictions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-ndjson',
        authorization: `Bearer ${tokens[device.id]!}`,
      },
      body: fresh.map((l) => `${l}\n`).join(''),
    });
    if (r.status !== 200) throw new Error(`${device.id}: upload ${r.status} ${await r.text()}`);
    device.sent = lines.length;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-fleet-rollback-'));
    policiesDir = fastPolicies();
    app = await startTestApp({ ...FAST_ROLLOUT_ENV, GATEHOUSE_POLICIES_DIR: policiesDir });
    for (const [who, roles] of Object.entries(PEOPLE)) tokens[who] = await app.token(who, ...roles);
    for (const id of DEVICES) tokens[id] = await app.token(id, 'device');
    models = buildGermanCreditModels();
    await liveCreditEndpoint(client, 'credit', models.fair, defaultGermanCreditPath());
    // Says yes to everyone: it disagrees with live wherever live says no.
    const faulty = await registerVersion(
      app,
      tokens['dana']!,
      'credit-risk',
      constantModel(models.fair, 0.9),
    );
    const dataset = await uploadDataset(client, defaultGermanCreditPath());
    jwks = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as { keys: unknown[] };
    started = await promote(client, {
      endpoint: 'credit',
      model: 'credit-risk',
      version: faulty,
      evaluationId: await evaluate(client, 'credit-risk', faulty, dataset),
      strategy: 'SHADOW_THEN_CANARY',
      plan: {
        shadow: { sampleRate: 1, minRequests: 100_000, minDurationSeconds: 1 },
        canary: { steps: [25, 50], minRequestsPerStep: 40, bakeSeconds: 1 },
      },
      rollbackCriteria: {
        maxErrorRate: { value: 0.02, window: WINDOW },
        minDisparateImpact: { value: 0.7, window: { minRequests: 60, seconds: 60 } },
        minAgreementWithLive: { value: 0.95, window: WINDOW },
        rationale: RATIONALE,
      },
    });
    await waitForRollout(client, started.id, inStage('shadow'));
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled(devices.map((d) => d.runtime.close()));
    await app.close();
    rmSync(policiesDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('devices get shadow bundles, answer and sync; the controller rolls back; the next poll is live', async () => {
    for (const id of DEVICES) {
      const got = await fetchBundle(id);
      const bundle = got.bundle!;
      expect(bundle.candidate?.assignment).toMatchObject({
        mode: 'shadow',
        rolloutId: started.id,
        candidateVersion: started.candidateVersion,
      });
      const logFile = join(dir, `${id}.device-log.ndjson`);
      const runtime = new EdgeRuntime({
        arms: await armsOf(bundle),
        log: DeviceLogFile.open(logFile, id, () => undefined),
      });
      const url = await runtime.listen(0, '127.0.0.1');
      devices.push({ id, etag: got.etag, bundle, runtime, url, logFile, sent: 0 });
    }
    const columns = devices[0]!.bundle.spec.featureColumns.map((c) =>
      models.data.featureNames.indexOf(c),
    );
    const row = (i: number) =>
      columns.map((c) => Math.fround(models.data.X[i % models.data.X.length]?.[c] ?? 0));

    // Rounds of traffic and syncs until the controller has judged the devices' shadow runs.
    const firstSync = Date.now();
    let lastSync = firstSync;
    let n = 0;
    let current = await rollout(client, started.id);
    const until = Date.now() + 120_000;
    while (current.status === 'RUNNING' && Date.now() < until) {
      for (const d of devices) {
        await answer(d, [row(n), row(n + 1)]);
        n += 2;
      }
      for (const d of devices) await sync(d);
      lastSync = Date.now();
      current = await rollout(client, started.id);
    }
    const rolledBackAt = Date.now();
    expect(current.status).toBe('ROLLED_BACK');
    const rollback = current.history.find((e) => e.type === 'rollout.rolled_back');
    expect(rollback?.payload['criterion']).toBe('minAgreementWithLive');
    expect(rollback?.actor.sub).not.toBe('erin');

    // The devices' shadow runs are in the prediction log, under the shadow arm.
    for (const d of devices) {
      const records = readFileSync(d.logFile, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { arm: string; modelVersion: number });
      expect(records.filter((r) => r.arm === 'shadow').length).toBe(
        records.filter((r) => r.arm === 'live').length,
      );
      expect(records.find((r) => r.arm === 'shadow')?.modelVersion).toBe(started.candidateVersion);
    }

    for (const d of devices) {
      const next = await fetchBundle(d.id, d.etag);
      expect(next.status).toBe(200);
      expect(next.bundle?.candidate).toBe(null);
      expect(next.bundle?.spec.version).toBe(started.previousVersion);
      const arms = await armsOf(next.bundle!);
      expect(arms.map((a) => [a.arm, a.answers])).toEqual([['live', true]]);
      await Promise.all(arms.map((a) => a.session.release()));
    }
    process.stdout.write(
      `fleet rollback: ${n} rows answered on devices; first sync to rollback seen ${rolledBackAt - firstSync} ms, last sync to rollback seen ${rolledBackAt - lastSync} ms\n`,
    );
  }, 180_000);
});
