import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  erroringModel,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import type { JsonObject, ReportFile, RolloutSection } from '../../src/reports/report-document.js';
import { verifyReport } from '../../src/reports/report-verify.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runCli } from '../support/cli.js';
import { createEndpoint, registerModel, registerVersion } from '../support/registry.js';
import {
  evaluate,
  FAST_ROLLOUT_ENV,
  fastPolicies,
  gql,
  PEOPLE,
  promote,
  RATIONALE,
  Traffic,
  uploadDataset,
  waitForRollout,
  type RolloutView,
  clientOf,
} from '../support/rollout-story.js';

/**
 * A report of a full German credit rollout verifies offline. The story of one
 * endpoint: version 1 live by INITIAL, version 2 (retrained) taken shadow → canary-25 →
 * canary-50 → live under steady traffic with ground truth, version 3 (fails runs of an odd
 * number of rows) rolled back by the controller in its shadow stage. Reports of both rollouts,
 * of the go-live promotion and of the model are exported, verified offline (the pure verifier
 * and the built CLI), tampered with, and rendered to PDF.
 *
 * Set GATEHOUSE_REPORT_ARTIFACTS=<dir> to keep the JSON and PDF files for a look.
 */

interface ExportedReport {
  id: string;
  subject: string;
  format: string;
  url: string;
  sha256: string;
  eventCount: number;
  treeSize: number;
  rootHash: string;
}

const EXPORT = `mutation($subject: String!, $format: ReportFormat) {
  exportAuditReport(subject: $subject, format: $format) {
    id subject format url sha256 eventCount treeSize rootHash } }`;

// The criteria and plans of test/e2e/rollouts.e2e-spec.ts that take a good version through
// in seconds and catch a faulty one in its shadow stage.
const W = { minRequests: 20, seconds: 60 };
const GROUPS = { minRequests: 60, seconds: 60 };
const REQUIRED = {
  maxErrorRate: { value: 0.02, window: W },
  minDisparateImpact: { value: 0.8, window: GROUPS },
};
const SHADOW_PLAN = { sampleRate: 1, minRequests: 40, minDurationSeconds: 1 };
const CANARY_PLAN = { steps: [25, 50], minRequestsPerStep: 40, bakeSeconds: 1 };

/**
 * The text drawn on a PDF's pages, without poppler: pdfkit writes the standard fonts' text as
 * hex strings in TJ arrays inside deflated content streams (as in reports.e2e-spec.ts).
 */
function pdfText(pdf: Buffer): string {
  const raw = pdf.toString('latin1');
  let text = '';
  for (const m of raw.matchAll(/stream\r?\n/g)) {
    const start = m.index + m[0].length;
    const end = raw.indexOf('endstream', start);
    let content: string;
    try {
      content = inflateSync(pdf.subarray(start, end)).toString('latin1');
    } catch {
      continue;
    }
    for (const tj of content.matchAll(/\[(.*?)\]\s*TJ/gs)) {
      for (const hex of (tj[1] ?? '').matchAll(/<([0-9a-fA-F]*)>/g))
        text += Buffer.from(hex[1] ?? '', 'hex').toString('latin1');
      text += '\n';
    }
  }
  return text.replace(/\n+/g, '\n');
}

const pageCount = (pdf: Buffer): number =>
  pdf.toString('latin1').match(/\/Type \/Page\b/g)?.length ?? 0;

const stageOf = (payload: JsonObject): string =>
  typeof payload['stage'] === 'string' ? payload['stage'] : '';

interface Verdict {
  criterion: string;
  status: string;
  threshold: number;
  measured: number | null;
  n: number;
  test: { test: string; pValue: number; n1: number; n2: number | null } | null;
}

describe('audit report of a full German credit SHADOW_THEN_CANARY rollout', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let policiesDir: string;
  let dir: string;
  const tokens: Record<string, string> = {};
  const client = clientOf(() => app.url, tokens);
  const versions: Record<string, number> = {};
  let initial: RolloutView;
  let completed: RolloutView;
  let rolledBack: RolloutView;
  const reports: Record<string, { exported: ExportedReport; text: string; file: ReportFile }> = {};

  async function exportReport(subject: string, who = 'audrey', format = 'JSON') {
    const { exportAuditReport: exported } = await gql<{ exportAuditReport: ExportedReport }>(
      client,
      EXPORT,
      { subject, format },
      who,
    );
    const text = await (await get(`/v1/reports/${exported.id}.json`)).text();
    return { exported, text, file: JSON.parse(text) as ReportFile };
  }

  function get(path: string, who = 'audrey'): Promise<Response> {
    return fetch(`${app.url}${path}`, {
      headers: { authorization: `Bearer ${client.token(who)}` },
    });
  }

  const rolloutOf = (file: ReportFile, id: string): RolloutSection => {
    const r = file.report.rollouts.find((x) => x.id === id);
    if (!r) throw new Error(`the report has no rollout ${id}`);
    return r;
  };

  beforeAll(async () => {
    models = buildGermanCreditModels();
    policiesDir = fastPolicies();
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-reports-rollout-'));
    app = await startTestApp({
      ...FAST_ROLLOUT_ENV,
      GATEHOUSE_POLICIES_DIR: policiesDir,
      // The odd-batch model fails runs of an odd number of rows; micro-batching would merge
      // concurrent requests into even runs and hide the fault some of the time.
      GATEHOUSE_MICROBATCH_MAX_ROWS: '1',
    });
    for (const [who, roles] of Object.entries(PEOPLE)) tokens[who] = await app.token(who, ...roles);
    await registerModel(app, client.token('dana'), 'credit-risk', { riskTier: 'HIGH' });
    const dataset = await uploadDataset(client, defaultGermanCreditPath());
    const evaluations: Record<string, string> = {};
    for (const [name, scoring] of Object.entries({
      fair: models.fair,
      retrained: models.fairRetrained,
      erroring: erroringModel(models.fair, 'odd-batch'),
    })) {
      versions[name] = await registerVersion(app, client.token('dana'), 'credit-risk', scoring);
      evaluations[name] = await evaluate(client, 'credit-risk', versions[name] ?? 0, dataset);
    }
    await createEndpoint(app, client.token('erin'), 'credit', 'credit-risk');
    const request = (name: string, strategy: string, plan: Record<string, unknown> | null) =>
      promote(client, {
        endpoint: 'credit',
        model: 'credit-risk',
        version: versions[name] ?? 0,
        evaluationId: evaluations[name] ?? '',
        strategy,
        plan,
        rollbackCriteria: { ...REQUIRED, rationale: RATIONALE },
      });

    // 1. The endpoint's first version goes live at once.
    initial = await request('fair', 'INITIAL', null);
    expect(initial.status).toBe('COMPLETED');

    // 2. The retrained version, judged stage by stage on live traffic with ground truth.
    const traffic = new Traffic(client, 'credit', models.data, { feedback: true }).start();
    await traffic.answered(50);
    const good = await request('retrained', 'SHADOW_THEN_CANARY', {
      shadow: SHADOW_PLAN,
      canary: CANARY_PLAN,
    });
    await waitForRollout(client, good.id, (r) => r.status !== 'RUNNING', 120_000);
    completed = await waitForRollout(
      client,
      good.id,
      (r) => r.status !== 'RUNNING' && r.history.some((e) => e.type === 'rollout.completed'),
    );
    // Some answered traffic on the new live version, so the chart's last step is real.
    await traffic.answered(30);
    const stats = await traffic.stop();
    expect(completed.status).toBe('COMPLETED');
    expect(stats.failures).toEqual([]);

    // 3. A faulty version, caught in shadow: live (version 2) answers every request.
    const more = new Traffic(client, 'credit', models.data, { concurrency: 2 }).start();
    await more.answered(30);
    const faulty = await request('erroring', 'SHADOW_THEN_CANARY', {
      shadow: SHADOW_PLAN,
      canary: CANARY_PLAN,
    });
    await waitForRollout(client, faulty.id, (r) => r.status !== 'RUNNING', 90_000);
    rolledBack = await waitForRollout(
      client,
      faulty.id,
      (r) => r.status !== 'RUNNING' && r.history.some((e) => e.type === 'rollout.rolled_back'),
    );
    await more.answered(20);
    const moreStats = await more.stop();
    expect(rolledBack.status).toBe('ROLLED_BACK');
    expect(moreStats.failures).toEqual([]);

    const promotionId = (
      initial.history.find((e) => e.type === 'rollout.started')?.payload as { promotionId: string }
    ).promotionId;
    reports['completed'] = await exportReport(`rollout:${completed.id}`, 'cora', 'PDF');
    reports['rolledBack'] = await exportReport(`rollout:${rolledBack.id}`, 'audrey', 'PDF');
    reports['promotion'] = await exportReport(`promotion:${promotionId}`);
    reports['model'] = await exportReport('model:credit-risk');
    for (const [name, r] of Object.entries(reports))
      writeFileSync(join(dir, `${name}.json`), r.text);
  }, 300_000);

  afterAll(async () => {
    await app.close();
    const keep = process.env['GATEHOUSE_REPORT_ARTIFACTS'];
    if (keep && dir) {
      mkdirSync(keep, { recursive: true });
      cpSync(dir, keep, { recursive: true });
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(policiesDir, { recursive: true, force: true });
  });

  it('verifies every report offline, with its own keys and with the served JWKS', async () => {
    const jwks = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as never;
    for (const [name, r] of Object.entries(reports)) {
      const own = await verifyReport(r.text);
      expect({ name, failures: own.failures }).toEqual({ name, failures: [] });
      expect(own).toMatchObject({ ok: true, eventsChecked: r.exported.eventCount });
      const served = await verifyReport(r.text, { jwks });
      expect({ name, ok: served.ok, keysFrom: served.keysFrom }).toEqual({
        name,
        ok: true,
        keysFrom: 'jwks-file',
      });
    }
    // The model's report holds all three rollouts; each rollout's report holds its own.
    expect(reports['model']!.file.report.rollouts.map((r) => r.id)).toEqual([
      initial.id,
      completed.id,
      rolledBack.id,
    ]);
    expect(reports['completed']!.file.report.rollouts.map((r) => r.id)).toContain(completed.id);
    expect(reports['rolledBack']!.file.report.rollouts.map((r) => r.id)).toContain(rolledBack.id);
  });

  it('holds the staged rollout: every stage entered and passed, with its evidence', () => {
    const r = rolloutOf(reports['completed']!.file, completed.id);
    expect(r).toMatchObject({
      status: 'COMPLETED',
      endpoint: 'credit',
      strategy: 'SHADOW_THEN_CANARY',
      version: versions['retrained'],
      previousVersion: versions['fair'],
    });
    expect(r.timeline.map((e) => `${e.type}:${stageOf(e.payload)}`)).toEqual([
      'rollout.started:',
      'rollout.stage.entered:shadow',
      'rollout.stage.passed:shadow',
      'rollout.stage.entered:canary-25',
      'rollout.stage.passed:canary-25',
      'rollout.stage.entered:canary-50',
      'rollout.stage.passed:canary-50',
      'rollout.stage.entered:live',
      'rollout.completed:',
    ]);
    const entered = r.timeline.filter((e) => e.type === 'rollout.stage.entered');
    expect(
      entered.map((e) => [e.payload['weightBasisPoints'], e.payload['sampleBasisPoints']]),
    ).toEqual([
      [0, 10000],
      [2500, 0],
      [5000, 0],
      // The live stage is no weighted share: the candidate becomes the live version.
      [0, 0],
    ]);
    for (const passed of r.timeline.filter((e) => e.type === 'rollout.stage.passed')) {
      const evidence = passed.payload['evidence'] as unknown as {
        arms: Record<string, { requests: number; errorRate: number | null }>;
        rollbackCriteria: Verdict[];
        significanceLevel: number;
      };
      expect(passed.actor).toBe('system:rollout-controller');
      expect(Object.keys(evidence.arms).sort()).toEqual(['candidate', 'live']);
      expect(evidence.arms['candidate']!.requests).toBeGreaterThanOrEqual(40);
      expect(evidence.significanceLevel).toBe(0.01);
      expect(evidence.rollbackCriteria.map((v) => [v.criterion, v.status])).toEqual([
        ['maxErrorRate', 'PASS'],
        ['minDisparateImpact', expect.stringMatching(/^(PASS|NOT_ENOUGH_DATA)$/)],
      ]);
      for (const v of evidence.rollbackCriteria) {
        expect(typeof v.threshold).toBe('number');
        expect(v.n).toBeGreaterThanOrEqual(0);
      }
    }
    // The traffic the endpoint served, step by step: the mirror, the two canary weights, the
    // switch to live with version 1 kept on standby.
    const to = r.traffic.map((e) => e.payload['to'] as JsonObject);
    expect(to.map((t) => [t['mode'], t['candidateWeight'], t['shadowSample'] ?? 0])).toEqual(
      expect.arrayContaining([
        ['SHADOW', 0, 10000],
        ['CANARY', 2500, expect.anything()],
        ['CANARY', 5000, expect.anything()],
      ]),
    );
    expect(to.at(-1)).toMatchObject({
      liveVersion: versions['retrained'],
      standbyVersion: versions['fair'],
    });
  });

  it('holds the automatic rollback with its breached criterion, test and sample sizes', () => {
    const r = rolloutOf(reports['rolledBack']!.file, rolledBack.id);
    expect(r).toMatchObject({ status: 'ROLLED_BACK', version: versions['erroring'] });
    expect(r.timeline.map((e) => `${e.type}:${stageOf(e.payload)}`)).toEqual([
      'rollout.started:',
      'rollout.stage.entered:shadow',
      'rollout.rolled_back:shadow',
    ]);
    const back = r.timeline.at(-1)!;
    expect(back.actor).toBe('system:rollout-controller');
    expect(back.payload).toMatchObject({ criterion: 'maxErrorRate', manual: false });
    const breached = (back.payload['breached'] as unknown as Verdict[])[0]!;
    expect(breached).toMatchObject({
      criterion: 'maxErrorRate',
      status: 'BREACH',
      threshold: 0.02,
    });
    expect(breached.measured).toBeGreaterThan(0.02);
    expect(breached.n).toBeGreaterThanOrEqual(W.minRequests);
    expect(breached.test?.pValue).toBeLessThan(0.01);
    // Traffic is back on live, recorded right after the rollback.
    expect(r.traffic.at(-1)?.payload['to']).toMatchObject({
      liveVersion: versions['retrained'],
      candidateVersion: null,
      mode: 'NONE',
    });
  });

  it('names a changed figure of a stage’s evidence, and a changed rollback figure', async () => {
    const tampered = async (name: string, change: (r: RolloutSection) => void) => {
      const file = JSON.parse(reports[name]!.text) as ReportFile;
      change(
        file.report.rollouts.find(
          (x) => x.id === (name === 'completed' ? completed.id : rolledBack.id),
        )!,
      );
      const result = await verifyReport(JSON.stringify(file));
      expect(result.ok).toBe(false);
      return result.failures.map((f) => `${f.check}: ${f.detail}`);
    };
    const canary = rolloutOf(reports['completed']!.file, completed.id).timeline.find(
      (e) => e.type === 'rollout.stage.passed' && e.payload['stage'] === 'canary-25',
    )!;
    const index = rolloutOf(reports['completed']!.file, completed.id).timeline.indexOf(canary);
    const failures = await tampered('completed', (r) => {
      const arms = (
        r.timeline[index]!.payload['evidence'] as { arms: { candidate: { errorRate: number } } }
      ).arms;
      arms.candidate.errorRate = 0.5;
    });
    expect(failures).toEqual(
      expect.arrayContaining([
        'signature: bad signature on the report',
        expect.stringMatching(
          new RegExp(
            `^figures: rollouts\\[\\d+\\]\\.timeline\\[${index}\\]\\.payload\\.evidence\\.arms\\.candidate\\.errorRate does not match the ledger \\(event seq ${canary.seq}\\)$`,
          ),
        ),
      ]),
    );
    const back = rolloutOf(reports['rolledBack']!.file, rolledBack.id).timeline.at(-1)!;
    const rollbackFailures = await tampered('rolledBack', (r) => {
      const verdict = (r.timeline.at(-1)!.payload['breached'] as unknown as Verdict[])[0]!;
      verdict.measured = 0.019;
    });
    expect(rollbackFailures).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^figures: rollouts\\[\\d+\\]\\.timeline\\[2\\]\\.payload\\.breached\\[0\\]\\.measured does not match the ledger \\(event seq ${back.seq}\\)$`,
          ),
        ),
      ]),
    );
  });

  it('gatehouse verify-report (built CLI): 0 for each report, 1 naming a tampered stage figure', async () => {
    for (const name of Object.keys(reports)) {
      const intact = await runCli(['verify-report', join(dir, `${name}.json`), '--json'], {});
      expect({ name, code: intact.code }).toEqual({ name, code: 0 });
      expect(JSON.parse(intact.stdout)).toMatchObject({
        ok: true,
        eventsChecked: reports[name]!.exported.eventCount,
      });
    }
    const file = JSON.parse(reports['completed']!.text) as ReportFile;
    const r = file.report.rollouts.find((x) => x.id === completed.id)!;
    const shadow = r.timeline.find(
      (e) => e.type === 'rollout.stage.passed' && e.payload['stage'] === 'shadow',
    )!;
    const evidence = shadow.payload['evidence'] as { arms: { candidate: { agreement: number } } };
    evidence.arms.candidate.agreement = 0.99999;
    const bad = join(dir, 'tampered.json');
    writeFileSync(bad, JSON.stringify(file));
    const failed = await runCli(['verify-report', bad], {});
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^report NOT intact/);
    expect(failed.stdout).toContain(
      `evidence.arms.candidate.agreement does not match the ledger (event seq ${shadow.seq})`,
    );
  });

  it('renders the completed rollout to PDF: stages, evidence and chart', async () => {
    const { exported } = reports['completed']!;
    const response = await get(exported.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await response.arrayBuffer());
    writeFileSync(join(dir, 'completed.pdf'), pdf);
    const pages = pageCount(pdf);
    const text = pdfText(pdf);
    for (const expected of [
      `rollout:${completed.id}`,
      'Rollout plan',
      'Stages',
      'mirrors 100 % of requests;',
      'answers 25 % of requests',
      'answers 50 % of requests',
      'passed: 2 of 2 criteria',
      'completed: candidate live',
      'Candidate share of traffic (%)',
      'Evidence of each decision',
      'Stage shadow: passed',
      'Stage canary-25: passed',
      'Stage canary-50: passed',
      'candidate (shadow)',
      'maxErrorRate',
      'minDisparateImpact',
      'none: within the threshold',
      'significance level 0.01',
      'rollout.stage.passed',
      'rollout.completed',
      'version 2 live; version 1 on standby',
      `page ${pages} of ${pages}`,
    ])
      expect({ expected, found: text.includes(expected) }).toEqual({ expected, found: true });
  });

  it('renders the rolled-back rollout to PDF with the breached criterion', async () => {
    const { exported } = reports['rolledBack']!;
    const pdf = Buffer.from(await (await get(exported.url)).arrayBuffer());
    writeFileSync(join(dir, 'rolled-back.pdf'), pdf);
    const pages = pageCount(pdf);
    const text = pdfText(pdf);
    for (const expected of [
      `rollout:${rolledBack.id}`,
      'Rolled back automatically by the controller',
      'ROLLED BACK:',
      'not reached',
      'rolled back: maxErrorRate',
      'Stage shadow: rolled back, maxErrorRate breached',
      'maxErrorRate breached in stage shadow',
      'two-proportion z (greater)',
      'BREACH',
      'rollout.rolled_back',
      `page ${pages} of ${pages}`,
    ])
      expect({ expected, found: text.includes(expected) }).toEqual({ expected, found: true });
  });

  it('serves the CSV of the model report, one row per event', async () => {
    const { exported } = reports['model']!;
    const csv = await (await get(`/v1/reports/${exported.id}.csv`)).text();
    const rows = parse<Record<string, string>>(csv, { columns: true });
    expect(rows).toHaveLength(exported.eventCount);
    expect(rows.filter((row) => row['type'] === 'rollout.stage.passed').length).toBe(3);
  });
});
