import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENESIS_HASH, sealRecord, type DeviceLogRecord } from '../../src/edge/device-log.js';
import { deviceBucket } from '../../src/edge/edge-assignment.js';
import { verifyEdgeBundle, type EdgeBundle } from '../../src/edge/edge-bundle-verify.js';
import { buildGermanCreditModels, defaultGermanCreditPath } from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runCli } from '../support/cli.js';
import { pythonWithCryptography } from '../support/python.js';
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

const PYTHON_VERIFIER = fileURLToPath(
  new URL('../../docs/examples/verify_edge_bundle.py', import.meta.url),
);

/** Enough devices that every assignment of a 50 % shadow and 25 %, 50 % canary has some. */
const DEVICES = Array.from({ length: 40 }, (_, i) => `device-${i}`);
const REASON = 'Moving the fleet on by hand to watch each stage of its devices.';

interface Poll {
  readonly status: number;
  readonly etag: string | null;
  readonly assignment: string | null;
  readonly bytes: Uint8Array;
}

describe('fleet rollouts: the bundle a device polls for follows the endpoint’s rollout', () => {
  let app: TestApp;
  let policiesDir: string;
  let dir: string;
  const tokens: Record<string, string> = {};
  const client = clientOf(() => app.url, tokens);
  let jwks: { keys: unknown[] };
  let started: RolloutView;
  let candidateVersion: number;
  /** Per device, the bundle it runs: the last one its polls returned. */
  const running = new Map<string, { etag: string; bundle: EdgeBundle }>();
  /** The subject digest of a bundle of each kind the polls got, the last one. */
  const issued = new Map<string, string>();

  /** One poll, as a device makes it: with the ETag of what it runs. */
  async function pollOnce(device: string, who = 'erin', etag?: string): Promise<Poll> {
    const headers: Record<string, string> = { authorization: `Bearer ${tokens[who]!}` };
    if (etag !== undefined) headers['if-none-match'] = etag;
    const r = await fetch(`${app.url}/v1/edge/credit/bundle?device=${device}`, { headers });
    return {
      status: r.status,
      etag: r.headers.get('etag'),
      assignment: r.headers.get('x-edge-assignment'),
      bytes: new Uint8Array(await r.arrayBuffer()),
    };
  }

  /**
   * Polls until the service answers with a bundle (a 409 a moment after a state change means
   * the sequencer has not sealed its event yet), verifies it, and keeps it as the device's.
   */
  async function poll(device: string): Promise<{ bundle: EdgeBundle; changed: boolean }> {
    const until = Date.now() + 60_000;
    for (;;) {
      const current = running.get(device);
      const r = await pollOnce(device, 'erin', current?.etag);
      if (r.status === 304 && current) return { bundle: current.bundle, changed: false };
      if (r.status === 200) {
        const v = await verifyEdgeBundle(r.bytes, jwks);
        if (!v.ok) throw new Error(`${device}: ${v.code} ${v.file}: ${v.reason}`);
        // A device never steps back: a later state's bundle has a larger tree size.
        const treeSize = v.bundle.evidence.checkpoint.checkpoint.treeSize;
        if (current)
          expect(treeSize).toBeGreaterThan(current.bundle.evidence.checkpoint.checkpoint.treeSize);
        expect(r.assignment).toBe(v.bundle.candidate?.assignment.mode ?? 'live');
        running.set(device, { etag: r.etag ?? '', bundle: v.bundle });
        issued.set(r.assignment ?? 'live', v.bundle.manifest.subject[0].digest.sha256);
        return { bundle: v.bundle, changed: true };
      }
      if (r.status !== 409 || Date.now() > until)
        throw new Error(`${device}: ${r.status} ${new TextDecoder().decode(r.bytes)}`);
      await sleep(50);
    }
  }

  async function advance(id: string, to: string): Promise<void> {
    await gql(
      client,
      `mutation($id: ID!, $reason: String) { advanceRollout(id: $id, reason: $reason) { id } }`,
      { id, reason: REASON },
      'erin',
    );
    await waitForRollout(client, id, inStage(to));
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-fleet-'));
    policiesDir = fastPolicies();
    app = await startTestApp({ ...FAST_ROLLOUT_ENV, GATEHOUSE_POLICIES_DIR: policiesDir });
    for (const [who, roles] of Object.entries(PEOPLE)) tokens[who] = await app.token(who, ...roles);
    tokens['adam'] = await app.token('adam', 'admin');
    const models = buildGermanCreditModels();
    await liveCreditEndpoint(client, 'credit', models.fair, defaultGermanCreditPath());
    candidateVersion = await registerVersion(
      app,
      tokens['dana']!,
      'credit-risk',
      models.fairRetrained,
    );
    const dataset = await uploadDataset(client, defaultGermanCreditPath());
    jwks = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as { keys: unknown[] };
    // Minimums no test traffic reaches: the stages move only when the test advances them.
    started = await promote(client, {
      endpoint: 'credit',
      model: 'credit-risk',
      version: candidateVersion,
      evaluationId: await evaluate(client, 'credit-risk', candidateVersion, dataset),
      strategy: 'SHADOW_THEN_CANARY',
      plan: {
        shadow: { sampleRate: 0.5, minRequests: 100_000, minDurationSeconds: 1 },
        canary: { steps: [25, 50], minRequestsPerStep: 100_000, bakeSeconds: 1 },
      },
      rollbackCriteria: {
        maxErrorRate: { value: 0.02, window: { minRequests: 20, seconds: 60 } },
        minDisparateImpact: { value: 0.7, window: { minRequests: 60, seconds: 60 } },
        rationale: RATIONALE,
      },
    });
    await waitForRollout(client, started.id, inStage('shadow'));
  }, 240_000);

  afterAll(async () => {
    await app.close();
    rmSync(policiesDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('in shadow: the devices the sample covers get both versions, the others the live bundle', async () => {
    const operator = await pollOnce('device-0');
    expect(operator.status).toBe(200);
    const liveOnly = await fetch(`${app.url}/v1/edge/credit/bundle`, {
      headers: { authorization: `Bearer ${tokens['erin']!}` },
    });
    expect(liveOnly.headers.get('x-edge-assignment')).toBe('live');
    const liveEtag = liveOnly.headers.get('etag');
    const shadowEtags = new Set<string>();
    for (const device of DEVICES) {
      const { bundle } = await poll(device);
      expect(bundle.spec.version).toBe(started.previousVersion);
      if (deviceBucket(device) < 5000) {
        expect(bundle.candidate?.assignment).toEqual({
          v: 1,
          endpoint: 'credit',
          mode: 'shadow',
          rolloutId: started.id,
          stage: 'shadow',
          stageIndex: 0,
          basisPoints: 5000,
          liveVersion: started.previousVersion,
          candidateVersion,
        });
        expect(bundle.candidate?.spec.version).toBe(candidateVersion);
        expect(bundle.candidate?.promotion.rolloutId).toBe(started.id);
        expect(bundle.candidate?.evidence.event.type).toBe('rollout.stage.entered');
        shadowEtags.add(running.get(device)?.etag ?? '');
      } else {
        expect(bundle.candidate).toBe(null);
        expect(running.get(device)?.etag).toBe(liveEtag);
      }
    }
    // Shared by every device of the assignment: one bundle, cacheable, naming no device.
    expect(shadowEtags.size).toBe(1);
    expect([...shadowEtags][0]).toMatch(/^"[0-9a-f]{64}"$/);
    expect(DEVICES.filter((d) => running.get(d)?.bundle.candidate).length).toBeGreaterThan(5);
    expect(DEVICES.filter((d) => !running.get(d)?.bundle.candidate).length).toBeGreaterThan(5);
  });

  it('answers 304 to a device whose bundle has not changed, and serves it from memory', async () => {
    const shadowed = DEVICES.find((d) => running.get(d)?.bundle.candidate);
    const current = shadowed && running.get(shadowed);
    if (!shadowed || !current) throw new Error('no shadowed device');
    const again = await pollOnce(shadowed, 'erin', current.etag);
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);
    expect(again.etag).toBe(current.etag);
    expect(
      (await pollOnce(shadowed, 'erin', `W/"${'0'.repeat(64)}", ${current.etag}`)).status,
    ).toBe(304);
    expect((await pollOnce(shadowed, 'erin', `"${'0'.repeat(64)}"`)).status).toBe(200);
    // A newer checkpoint would change a bundle built again; the one kept is the one served.
    await gql(client, `mutation { createCheckpoint { treeSize } }`, {}, 'adam');
    expect((await pollOnce(shadowed, 'erin', current.etag)).status).toBe(304);
  });

  it('gatehouse edge bundle --device saves and describes the bundle of that device', async () => {
    const shadowed = DEVICES.find((d) => running.get(d)?.bundle.candidate);
    if (!shadowed) throw new Error('no shadowed device');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, tokens['erin']!);
    const env = { GATEHOUSE_URL: app.url, GATEHOUSE_TOKEN_FILE: tokenFile };
    const file = join(dir, 'device.tar');
    const out = await runCli(
      ['edge', 'bundle', '--endpoint', 'credit', '--device', shadowed, '-o', file, '--json'],
      env,
    );
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout) as { bundle: Record<string, unknown> };
    expect(result.bundle).toMatchObject({
      file,
      version: started.previousVersion,
      subjectSha256: running.get(shadowed)?.etag.replaceAll('"', ''),
      assignment: {
        mode: 'shadow',
        rolloutId: started.id,
        stage: 'shadow',
        basisPoints: 5000,
        candidateVersion,
      },
    });
    const human = await runCli(
      ['edge', 'bundle', '--endpoint', 'credit', '--device', shadowed, '-o', file],
      env,
    );
    expect(human.stdout).toMatch(
      new RegExp(
        `with candidate credit-risk@${candidateVersion} \\(shadow, stage shadow of rollout ${started.id}\\) verified and saved to `,
      ),
    );
  });

  it('the Python verifier of docs/examples verifies a shadow bundle from the service', () => {
    if (!pythonWithCryptography()) return;
    const shadowed = DEVICES.find((d) => running.get(d)?.bundle.candidate);
    if (!shadowed) throw new Error('no shadowed device');
    const file = join(dir, 'shadow.edge.tar');
    const keys = join(dir, 'jwks.json');
    return pollOnce(shadowed).then((r) => {
      writeFileSync(file, r.bytes);
      writeFileSync(keys, JSON.stringify(jwks));
      const run = spawnSync('python3', [PYTHON_VERIFIER, file, keys], { encoding: 'utf8' });
      expect(run.stdout).toMatch(
        new RegExp(
          `^verified: credit-risk@${started.previousVersion} live on credit, .*; candidate credit-risk@${candidateVersion} \\(shadow, stage shadow of rollout ${started.id}, 5000 basis points, ledger seq \\d+\\)\\n$`,
        ),
      );
      expect(run.status).toBe(0);
    });
  });

  it('in canary steps: the devices below the weight get the candidate, and raising it only adds devices', async () => {
    const canaryAt = new Map<number, Set<string>>();
    for (const [step, weight] of [
      ['canary-25', 2500],
      ['canary-50', 5000],
    ] as const) {
      await advance(started.id, step);
      const chosen = new Set<string>();
      for (const device of DEVICES) {
        const { bundle, changed } = await poll(device);
        // Every device's bundle proves the new state: a newer checkpoint, if nothing else.
        expect(changed).toBe(true);
        if (deviceBucket(device) < weight) {
          expect(bundle.candidate?.assignment).toMatchObject({
            mode: 'canary',
            stage: step,
            basisPoints: weight,
            candidateVersion,
          });
          chosen.add(device);
        } else expect(bundle.candidate).toBe(null);
      }
      canaryAt.set(weight, chosen);
    }
    const at25 = canaryAt.get(2500) ?? new Set();
    const at50 = canaryAt.get(5000) ?? new Set();
    expect(at25.size).toBeGreaterThan(0);
    expect(at50.size).toBeGreaterThan(at25.size);
    for (const d of at25) expect(at50.has(d)).toBe(true);
  });

  it('accepts a device’s records only of the arms and versions its bundle carries; the others are refused naming seq, arm and version, and nothing is written', async () => {
    const device = 'uploader-1';
    tokens[device] = await app.token(device, 'device');
    const live = issued.get('live');
    const shadow = issued.get('shadow');
    const canary = issued.get('canary');
    if (!live || !shadow || !canary) throw new Error(`not every kind of bundle was issued`);
    const was = started.previousVersion;
    if (was === null) throw new Error('the rollout replaced no live version');
    const now = candidateVersion;
    let head = { seq: 0, hash: GENESIS_HASH };
    const record = (bundleSha256: string, arm: DeviceLogRecord['arm'], modelVersion: number) => {
      const sealed = sealRecord({
        arm,
        bundleSha256,
        deviceId: device,
        endpoint: 'credit',
        error: null,
        inputs: [{ data: [1], datatype: 'FP32', name: 'features', shape: [1, 1] }],
        latencyMs: 1.5,
        model: 'credit-risk',
        modelVersion,
        outputs: [],
        prev: head.hash,
        requestId: `r-${head.seq + 1}`,
        routingKeyHash: null,
        seq: head.seq + 1,
        ts: '2026-12-08T03:00:00.000Z',
        v: 1,
      }).record;
      head = { seq: sealed.seq, hash: sealed.hash };
      return sealed;
    };
    const send = (records: DeviceLogRecord[]) =>
      fetch(`${app.url}/v1/edge/credit/predictions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-ndjson',
          authorization: `Bearer ${tokens[device]!}`,
        },
        body: records.map((r) => `${JSON.stringify(r)}\n`).join(''),
      });
    const position = async () =>
      (
        (await (
          await fetch(`${app.url}/v1/edge/credit/predictions/position`, {
            headers: { authorization: `Bearer ${tokens[device]!}` },
          })
        ).json()) as { seq: number }
      ).seq;
    const refusedAsBundle = async () => {
      const text = await (await fetch(`${app.url}/metrics`)).text();
      const line = /gatehouse_edge_uploads_total\{[^}]*outcome="bundle"[^}]*\} (\d+)/.exec(text);
      return Number(line?.[1] ?? 0);
    };

    const countedBefore = await refusedAsBundle();
    const outside: [string, string, DeviceLogRecord['arm'], number, string][] = [
      [live, 'live', 'shadow', now, 'arm'],
      [live, 'live', 'candidate', now, 'arm'],
      [live, 'live', 'live', now, 'modelVersion'],
      [shadow, 'shadow', 'candidate', now, 'arm'],
      [shadow, 'shadow', 'shadow', was, 'modelVersion'],
      [shadow, 'shadow', 'live', now, 'modelVersion'],
      [canary, 'canary', 'live', was, 'arm'],
      [canary, 'canary', 'shadow', now, 'arm'],
      [canary, 'canary', 'candidate', was, 'modelVersion'],
    ];
    for (const [bundle, kind, arm, version, field] of outside) {
      head = { seq: 0, hash: GENESIS_HASH };
      const r = await send([record(bundle, arm, version)]);
      const body = (await r.json()) as {
        error: { message: string; details: Record<string, unknown> };
      };
      expect([kind, arm, version, r.status]).toEqual([kind, arm, version, 400]);
      expect(body.error.message).toMatch(
        new RegExp(
          `^${field}: seq 1: a ${arm} record of credit-risk@${version}, but .*${kind} bundle ${bundle}`,
        ),
      );
      expect(body.error.details).toMatchObject({ field, seq: 1, arm, modelVersion: version });
    }
    expect(await position()).toBe(0);
    expect(await refusedAsBundle()).toBe(countedBefore + outside.length);

    head = { seq: 0, hash: GENESIS_HASH };
    const carried = [
      record(live, 'live', was),
      record(shadow, 'live', was),
      record(shadow, 'shadow', now),
      record(canary, 'candidate', now),
    ];
    const ok = await send(carried);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ accepted: 4, position: { seq: 4 } });

    // One record outside its bundle refuses the whole upload, the records before it too.
    const mixed = [record(shadow, 'shadow', now), record(live, 'shadow', now)];
    const r = await send(mixed);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(
      /^arm: seq 6: a shadow record of /,
    );
    expect(await position()).toBe(4);
  });

  it('after a rollback, every device’s next poll returns the live bundle', async () => {
    await gql(
      client,
      `mutation($id: ID!, $reason: String!) { rollbackRollout(id: $id, reason: $reason) { id } }`,
      { id: started.id, reason: 'The fleet test rolls the candidate back by hand.' },
      'erin',
    );
    await waitForRollout(client, started.id, (r) => r.status === 'ROLLED_BACK');
    for (const device of DEVICES) {
      const { bundle, changed } = await poll(device);
      expect(changed).toBe(true);
      expect(bundle.candidate).toBe(null);
      expect(bundle.spec.version).toBe(started.previousVersion);
    }
    expect(new Set(DEVICES.map((d) => running.get(d)?.etag)).size).toBe(1);
  });

  it('a device token gets its own bundle and cannot fetch another device’s', async () => {
    const [mine, other] = DEVICES;
    tokens[mine!] = await app.token(mine!, 'device');
    const own = await fetch(`${app.url}/v1/edge/credit/bundle`, {
      headers: { authorization: `Bearer ${tokens[mine!]!}` },
    });
    expect(own.status).toBe(200);
    expect(own.headers.get('etag')).toBe(running.get(mine!)?.etag);
    expect((await pollOnce(mine!, mine)).etag).toBe(running.get(mine!)?.etag);
    const theirs = await pollOnce(other!, mine);
    expect(theirs.status).toBe(403);
    const body = JSON.parse(new TextDecoder().decode(theirs.bytes)) as {
      error: { code: string; message: string; details: { reason: string } };
    };
    expect(body.error.code).toBe('FORBIDDEN');
    expect(body.error.details.reason).toBe(
      `device ${mine!} may fetch its own bundle only, not device ${other!}'s`,
    );
  });

  it('refuses a device id that is not one', async () => {
    expect((await pollOnce('..%2Fetc')).status).toBe(400);
  });
});
