import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriftMonitor, type DriftCheck } from '../../src/drift/drift-monitor.service.js';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { PredictionLog } from '../../src/prediction-log/prediction-log.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { seedLiveEndpoint } from '../support/registry.js';

interface LedgerEvent {
  seq: number;
  type: string;
  subject: string;
  actor: { sub: string };
  payload: Record<string, unknown>;
  traceId: string | null;
}
interface EndpointDrift {
  version: number;
  alerting: boolean;
  since: string | null;
  rows: number;
  threshold: number;
  scorePsi: number | null;
  features: { feature: string; psi: number }[];
}

/**
 * The window of the test policy: long enough to hold all of a test's traffic however slow the
 * machine. Old traffic leaves it by moving the check's clock, not by waiting (`slide`).
 */
const WINDOW_SECONDS = 600;

/**
 * Drift monitoring end to end: a live version evaluated on German credit, served its own kind
 * of rows, then shifted rows, then its own kind again, the checks run by hand (the periodic
 * check is off in this policy) at a clock the test moves.
 */
describe('drift monitoring of the live version', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let policiesDir: string;
  let monitor: DriftMonitor;
  const tokens: Record<string, string> = {};

  async function ok<T>(query: string, variables: Record<string, unknown>, who: string): Promise<T> {
    const r = await app.gql<T>(query, variables, tokens[who]);
    if (r.errors || !r.data) throw new Error(JSON.stringify(r.errors));
    return r.data;
  }

  /** Rows `from`… of the data set through the endpoint, 25 rows a request, `shift` added. */
  async function serve(from: number, count: number, shift: (row: number[]) => number[]) {
    for (let start = from; start < from + count; start += 25) {
      const rows = Array.from({ length: 25 }, (_, k) =>
        shift(Array.from(models.data.X[(start + k) % models.data.X.length] ?? [])),
      );
      const response = await fetch(`${app.url}/v2/models/credit/infer`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${tokens['ivan']!}`,
        },
        body: JSON.stringify({
          inputs: [
            {
              name: 'features',
              datatype: 'FP32',
              shape: [rows.length, rows[0]!.length],
              data: rows.flat(),
            },
          ],
        }),
      });
      expect(response.status).toBe(200);
    }
    await app.running.app.get(PredictionLog).flush();
  }

  const same = (row: number[]) => row;
  /** Every feature moved by two of its own units and more: what a changed population looks like. */
  const shifted = (row: number[]) => row.map((v) => v * 1.5 + 2);

  /** When the window starts, once the test has slid it: the checks see only later traffic. */
  let windowStart: number | undefined;

  async function check(): Promise<Extract<DriftCheck, { outcome: 'checked' }>> {
    const now =
      windowStart === undefined ? new Date() : new Date(windowStart + WINDOW_SECONDS * 1000);
    const result = await monitor.checkEndpoint('credit', now);
    if (result?.outcome !== 'checked') throw new Error(`not checked: ${JSON.stringify(result)}`);
    return result;
  }

  async function driftEvents(): Promise<LedgerEvent[]> {
    const r = await ok<{ ledgerEvents: { events: LedgerEvent[] } }>(
      `{ ledgerEvents(limit: 100, subject: "endpoint:credit") {
          events { seq type subject actor { sub } payload traceId } } }`,
      {},
      'audrey',
    );
    return r.ledgerEvents.events.filter((e) => e.type.startsWith('drift.'));
  }

  async function endpointDrift(): Promise<EndpointDrift | null> {
    const r = await ok<{ endpoint: { drift: EndpointDrift | null } }>(
      `{ endpoint(name: "credit") { drift { version alerting since rows threshold scorePsi
          features { feature psi } } } }`,
      {},
      'audrey',
    );
    return r.endpoint.drift;
  }

  /**
   * Moves the window past everything served so far: the next checks run at a clock one window
   * after this moment, so their window begins here (a few milliseconds apart, so that no
   * prediction shares the boundary's millisecond).
   */
  const slide = async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    windowStart = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
  };

  beforeAll(async () => {
    models = buildGermanCreditModels();
    policiesDir = mkdtempSync(join(tmpdir(), 'gatehouse-policies-'));
    const shipped = new URL('../../policies/', import.meta.url).pathname;
    for (const file of ['roles.yaml', 'promotion.yaml'])
      copyFileSync(join(shipped, file), join(policiesDir, file));
    const evaluation = readFileSync(join(shipped, 'evaluation.yaml'), 'utf8');
    const short = evaluation
      .replace('windowSeconds: 3600', `windowSeconds: ${WINDOW_SECONDS}`)
      .replace('minRows: 500', 'minRows: 100')
      .replace('intervalSeconds: 60', 'intervalSeconds: 0');
    expect(short).toMatch(
      new RegExp(
        `windowSeconds: ${WINDOW_SECONDS}\\n[\\s\\S]*minRows: 100\\n[\\s\\S]*intervalSeconds: 0`,
      ),
    );
    writeFileSync(join(policiesDir, 'evaluation.yaml'), short);

    app = await startTestApp({
      GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
      GATEHOUSE_POLICIES_DIR: policiesDir,
      // The alert is logged as a warning: expected here.
      GATEHOUSE_LOG_LEVEL: 'error',
    });
    monitor = app.running.app.get(DriftMonitor);
    for (const [name, role] of [
      ['vera', 'model-validator'],
      ['audrey', 'auditor'],
      ['ivan', 'inference-client'],
    ] as const)
      tokens[name] = await app.token(name, role);
    await seedLiveEndpoint(app, {
      model: 'credit-risk',
      endpoint: 'credit',
      versions: [models.fair],
    });
    const upload = await fetch(`${app.url}/v1/datasets?name=german-credit`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tokens['vera']!}`, 'content-type': 'text/csv' },
      body: readFileSync(defaultGermanCreditPath()),
    });
    const dataset = ((await upload.json()) as { id: string }).id;
    const run = await ok<{ runEvaluation: { id: string } }>(
      `mutation($dataset: ID!) { runEvaluation(model: "credit-risk", version: 1, dataset: $dataset,
        labelColumn: "good_credit") { id } }`,
      { dataset },
      'vera',
    );
    for (let i = 0; ; i++) {
      const e = await ok<{ evaluation: { status: string } }>(
        `query($id: ID!) { evaluation(id: $id) { status } }`,
        { id: run.runEvaluation.id },
        'vera',
      );
      if (e.evaluation.status === 'SUCCEEDED') break;
      if (e.evaluation.status === 'FAILED' || i > 600) throw new Error('evaluation failed');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 180_000);

  afterAll(async () => {
    await app.close();
    rmSync(policiesDir, { recursive: true, force: true });
  });

  it('does not judge a window with too little traffic', async () => {
    await serve(0, 50, same);
    expect(await monitor.checkEndpoint('credit')).toEqual({
      endpoint: 'credit',
      outcome: 'too-few-rows',
      rows: 50,
    });
    expect(await endpointDrift()).toBeNull();
  });

  it('finds no drift in traffic like the evaluation data', async () => {
    await serve(50, 400, same);
    const result = await check();
    expect(result.change).toBeNull();
    expect(result.drift.rows).toBe(450);
    expect(result.drift.maxPsi).toBeLessThan(0.2);
    expect(result.drift.features.map((f) => f.feature)).toEqual([...models.fair.featureNames]);
    expect(await driftEvents()).toEqual([]);
    expect(await endpointDrift()).toMatchObject({ version: 1, alerting: false, rows: 450 });
  });

  it('raises exactly one drift.alert for shifted inputs, however often it is checked', async () => {
    await slide();
    await serve(0, 400, shifted);
    const first = await check();
    expect(first.change).toBe('open');
    expect(first.drift.rows).toBe(400);
    expect(first.drift.maxPsi).toBeGreaterThan(0.2);
    // More shifted traffic, more checks: the same episode.
    await serve(400, 100, shifted);
    expect((await check()).change).toBeNull();
    expect((await check()).change).toBeNull();

    const events = await driftEvents();
    expect(events.map((e) => e.type)).toEqual(['drift.alert']);
    const alert = events[0]!;
    expect(alert.actor.sub).toBe('system:drift');
    expect(alert.payload).toMatchObject({ endpoint: 'credit', version: 1, threshold: 0.2 });
    expect((alert.payload['breached'] as string[]).length).toBeGreaterThan(0);

    const drift = await endpointDrift();
    expect(drift).toMatchObject({ version: 1, alerting: true, rows: 500, threshold: 0.2 });
    expect(drift?.since).not.toBeNull();
    expect(Math.max(drift!.scorePsi ?? 0, ...drift!.features.map((f) => f.psi))).toBeGreaterThan(
      0.2,
    );
  });

  it('closes the episode with drift.resolved once the window is back to normal', async () => {
    await slide();
    await serve(0, 400, same);
    expect((await check()).change).toBe('close');
    expect((await driftEvents()).map((e) => e.type)).toEqual(['drift.alert', 'drift.resolved']);
    expect(await endpointDrift()).toMatchObject({ alerting: false, since: null });
  });

  it('exposes the PSI of the score and of every feature at /metrics', async () => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(text).toMatch(/^gatehouse_drift_score_psi\{endpoint="credit",version="1"\} [\d.e-]+$/m);
    for (const feature of models.fair.featureNames)
      expect(text).toContain(
        `gatehouse_drift_feature_psi{endpoint="credit",version="1",feature="${feature}"}`,
      );
    expect(text).toMatch(/^gatehouse_drift_alerts_total\{endpoint="credit",version="1"\} 1$/m);
  });
});
