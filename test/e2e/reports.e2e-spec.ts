import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { buildGermanCreditModels, defaultGermanCreditPath } from '../../src/model-builder/index.js';
import type { ReportFile } from '../../src/reports/report-document.js';
import { verifyReport } from '../../src/reports/report-verify.js';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/app.js';
import { runCli } from '../support/cli.js';
import { createEndpoint, registerModel, registerVersion } from '../support/registry.js';

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

const window = { minRequests: 500, seconds: 600 };
const SIGN_OFF =
  'I reviewed the fairness audit, the model card and the rollback criteria, and sign off for production.';
const sha256 = (bytes: string | Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * The text drawn on a PDF's pages, without poppler: pdfkit writes the standard fonts' text as
 * hex strings in TJ arrays inside deflated content streams.
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

describe('audit reports: signed JSON with proofs, PDF, CSV and offline verification', () => {
  let app: TestApp;
  let dir: string;
  const tokens: Record<string, string> = {};
  let promotionId: string;
  let rolloutId: string;
  let report: ExportedReport;
  let reportText: string;

  async function ok<T>(query: string, variables: Record<string, unknown>, who: string): Promise<T> {
    const r = await app.gql<T>(query, variables, tokens[who]);
    if (r.errors || !r.data) throw new Error(JSON.stringify(r.errors));
    return r.data;
  }

  async function fetchReport(path: string, who = 'audrey', accept?: string): Promise<Response> {
    return fetch(`${app.url}${path}`, {
      headers: { authorization: `Bearer ${tokens[who]!}`, ...(accept ? { accept } : {}) },
    });
  }

  beforeAll(async () => {
    const models = buildGermanCreditModels();
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-reports-'));
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    for (const [name, role] of [
      ['dana', 'data-scientist'],
      ['erin', 'ml-engineer'],
      ['vera', 'model-validator'],
      ['cora', 'compliance-officer'],
      ['audrey', 'auditor'],
    ] as const)
      tokens[name] = await app.token(name, role);

    await registerModel(app, tokens['dana']!, 'credit-risk', { riskTier: 'HIGH' });
    await registerVersion(app, tokens['dana']!, 'credit-risk', models.fair);
    await createEndpoint(app, tokens['erin']!, 'credit', 'credit-risk');
    const upload = await fetch(`${app.url}/v1/datasets?name=german-credit`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tokens['vera']!}`, 'content-type': 'text/csv' },
      body: readFileSync(defaultGermanCreditPath()),
    });
    const dataset = ((await upload.json()) as { id: string }).id;
    const { runEvaluation } = await ok<{ runEvaluation: { id: string } }>(
      `mutation($dataset: ID!) { runEvaluation(model: "credit-risk", version: 1, dataset: $dataset,
        labelColumn: "good_credit", bootstrap: { resamples: 50, seed: 7 }) { id } }`,
      { dataset },
      'vera',
    );
    for (let i = 0; i < 600; i++) {
      const e = await ok<{ evaluation: { status: string; error: string | null } }>(
        `query($id: ID!) { evaluation(id: $id) { status error } }`,
        { id: runEvaluation.id },
        'vera',
      );
      if (e.evaluation.status === 'SUCCEEDED') break;
      if (e.evaluation.status === 'FAILED') throw new Error(e.evaluation.error ?? 'failed');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { requestPromotion } = await ok<{
      requestPromotion: { id: string; requestDigest: string };
    }>(
      `mutation($evaluationId: ID!, $rollbackCriteria: RollbackCriteriaInput!) {
        requestPromotion(endpoint: "credit", model: "credit-risk", version: 1, evaluationId: $evaluationId,
          strategy: INITIAL, rollbackCriteria: $rollbackCriteria,
          justification: "First credit-risk model for the underwriting queue, audited fair on sex and age.") {
          id requestDigest } }`,
      {
        evaluationId: runEvaluation.id,
        rollbackCriteria: {
          maxErrorRate: { value: 0.01, window },
          minDisparateImpact: { value: 0.8, window },
          rationale:
            'Above one percent errors the underwriters cannot review every refusal; disparate impact below 0.8 breaches the four-fifths rule we report on.',
        },
      },
      'dana',
    );
    promotionId = requestPromotion.id;
    const approve = `mutation($id: ID!, $role: String!, $statement: String, $digest: String!) {
      approvePromotion(id: $id, role: $role, statement: $statement, requestDigest: $digest) { id } }`;
    const digest = requestPromotion.requestDigest;
    await ok(approve, { id: promotionId, role: 'ml-engineer', digest }, 'erin');
    await ok(approve, { id: promotionId, role: 'model-validator', digest }, 'vera');
    await ok(
      approve,
      { id: promotionId, role: 'compliance-officer', statement: SIGN_OFF, digest },
      'cora',
    );
    const { startRollout } = await ok<{ startRollout: { id: string } }>(
      `mutation($id: ID!) { startRollout(promotionId: $id) { id } }`,
      { id: promotionId },
      'erin',
    );
    rolloutId = startRollout.id;

    report = (
      await ok<{ exportAuditReport: ExportedReport }>(
        EXPORT,
        { subject: `promotion:${promotionId}`, format: 'PDF' },
        'cora',
      )
    ).exportAuditReport;
    reportText = await (await fetchReport(`/v1/reports/${report.id}.json`)).text();
    writeFileSync(join(dir, 'report.json'), reportText);
  }, 180_000);

  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets only compliance officers and auditors export, and names a bad subject', async () => {
    const r = await app.gql(EXPORT, { subject: `promotion:${promotionId}` }, tokens['dana']);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bad: GraphQLResponse = await app.gql(
      EXPORT,
      { subject: 'credit-risk' },
      tokens['audrey'],
    );
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toMatch(/^subject: must be one of model:<name>/);
    const missing = await app.gql(EXPORT, { subject: 'model:nobody' }, tokens['audrey']);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('records report.exported with the digest of the JSON served', async () => {
    expect(report).toMatchObject({
      subject: `promotion:${promotionId}`,
      format: 'PDF',
      url: `/v1/reports/${report.id}.pdf`,
    });
    expect(sha256(reportText)).toBe(report.sha256);
    const { ledgerEvents } = await ok<{
      ledgerEvents: {
        events: { type: string; actor: { sub: string }; payload: Record<string, unknown> }[];
      };
    }>(
      `query($subject: String) { ledgerEvents(limit: 10, subject: $subject) { events { type actor { sub } payload } } }`,
      { subject: `report:${report.id}` },
      'audrey',
    );
    expect(ledgerEvents.events).toEqual([
      {
        type: 'report.exported',
        actor: { sub: 'cora' },
        payload: expect.objectContaining({
          reportId: report.id,
          sha256: report.sha256,
          format: 'PDF',
          events: report.eventCount,
          treeSize: report.treeSize,
          rootHash: report.rootHash,
        }),
      },
    ]);
  });

  it('holds the whole story of the go-live, anchored to one checkpoint', () => {
    const { report: body } = JSON.parse(reportText) as ReportFile;
    const types = body.events.map((e) => e.event.type);
    for (const type of [
      'model.registered',
      'model.version.registered',
      'artifact.uploaded',
      'dataset.registered',
      'evaluation.completed',
      'promotion.requested',
      'promotion.approval.recorded',
      'promotion.approved',
      'gate.evaluated',
      'deployment.live.changed',
      'rollout.started',
      'rollout.completed',
    ])
      expect(types).toContain(type);
    expect(body.checkpoint.checkpoint.treeSize).toBeGreaterThanOrEqual(body.events.at(-1)!.seq);
    expect(body.models[0]).toMatchObject({ name: 'credit-risk', riskTier: 'HIGH' });
    expect(body.evaluations[0]?.result).toMatchObject({ model: 'credit-risk', version: 1 });
    const promotion = body.promotions[0]!;
    expect(promotion).toMatchObject({ id: promotionId, status: 'COMPLETED' });
    expect(promotion.content?.['rollbackCriteria']).toMatchObject({
      maxErrorRate: { value: 0.01 },
    });
    expect(promotion.approvals.map((a) => [a.role, a.approver, a.statement])).toEqual([
      ['ml-engineer', 'erin', null],
      ['model-validator', 'vera', null],
      ['compliance-officer', 'cora', SIGN_OFF],
    ]);
    expect(promotion.gateEvaluations.map((g) => [g.purpose, g.passed])).toEqual([
      ['ROLLOUT_START', true],
    ]);
    expect(body.rollouts).toEqual([
      expect.objectContaining({
        id: rolloutId,
        status: 'COMPLETED',
        endpoint: 'credit',
        timeline: [
          expect.objectContaining({ type: 'rollout.started' }),
          expect.objectContaining({ type: 'rollout.completed' }),
        ],
        traffic: [
          expect.objectContaining({
            type: 'deployment.live.changed',
            payload: expect.objectContaining({ to: expect.objectContaining({ liveVersion: 1 }) }),
          }),
        ],
      }),
    ]);
  });

  it('verifies offline, with the keys it carries and with the served JWKS', async () => {
    const own = await verifyReport(reportText);
    expect(own.failures).toEqual([]);
    expect(own).toMatchObject({ ok: true, keysFrom: 'report', eventsChecked: report.eventCount });
    const jwks = await (await fetch(`${app.url}/.well-known/jwks.json`)).json();
    const served = await verifyReport(reportText, { jwks: jwks as never });
    expect(served).toMatchObject({
      ok: true,
      keysFrom: 'jwks-file',
      proofsChecked: report.eventCount,
    });
    // A key the auditor does not trust signs nothing they accept.
    const stranger = await verifyReport(reportText, { jwks: { keys: [] } });
    expect(stranger.ok).toBe(false);
    expect(stranger.failures.map((f) => f.check)).toEqual(
      expect.arrayContaining(['signature', 'checkpoint']),
    );
  });

  describe('tampering is caught and named', () => {
    const tampered = async (change: (file: ReportFile) => void) => {
      const file = JSON.parse(reportText) as ReportFile;
      change(file);
      const result = await verifyReport(JSON.stringify(file));
      expect(result.ok).toBe(false);
      return result.failures.map((f) => `${f.check}: ${f.detail}`);
    };

    it('a byte of an event', async () => {
      const failures = await tampered((f) => {
        const e = f.report.events.find((x) => x.event.type === 'promotion.approved')!;
        Object.assign(e, {
          canonical: e.canonical.replace('"promotion.approved"', '"promotion.approveD"'),
        });
      });
      const seq = (JSON.parse(reportText) as ReportFile).report.events.find(
        (x) => x.event.type === 'promotion.approved',
      )!.seq;
      expect(failures).toEqual(
        expect.arrayContaining([
          `event seq ${seq}: the canonical form is not the JCS of the event`,
          expect.stringMatching(new RegExp(`^event seq ${seq}: hash mismatch`)),
          `event seq ${seq}: bad signature`,
        ]),
      );
    });

    it('a figure of the evaluation', async () => {
      const failures = await tampered((f) => {
        const result = f.report.evaluations[0]!.result as unknown as {
          classification: { performance: { accuracy: number } };
        };
        result.classification.performance.accuracy += 0.01;
      });
      expect(failures).toEqual(
        expect.arrayContaining([
          'signature: bad signature on the report',
          expect.stringMatching(
            /^figures: evaluations\[0\] .*the result does not hash to resultSha256/,
          ),
          expect.stringMatching(/^figures: evaluations\[0\] .*headline accuracy differs/),
        ]),
      );
    });

    it('a statement of an approval', async () => {
      const failures = await tampered((f) => {
        Object.assign(f.report.promotions[0]!.approvals[2]!, {
          statement: 'I did not read anything.',
        });
      });
      expect(failures).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^figures: promotions\[0\]\.approvals\[2\]\.statement does not match the ledger \(event seq \d+\)$/,
          ),
        ]),
      );
    });

    it('a gate result', async () => {
      const failures = await tampered((f) => {
        const gate = f.report.promotions[0]!.gateEvaluations[0]!.gates![0] as { summary: string };
        gate.summary = 'all fine, trust me';
      });
      expect(failures).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/gateEvaluations\[0\].*do not hash to evidenceSha256/),
          expect.stringMatching(/gateEvaluations\[0\].*not those gate.evaluated records/),
        ]),
      );
    });

    it('a proof', async () => {
      const failures = await tampered((f) => {
        const e = f.report.events[0]!;
        const first = e.proof[0]!;
        (e.proof as string[])[0] = (first[0] === '0' ? '1' : '0') + first.slice(1);
      });
      expect(failures).toContain(
        `event seq ${JSON.parse(reportText).report.events[0].seq}: the inclusion proof does not lead to the checkpoint root (tree size ${report.treeSize})`,
      );
    });

    it('the signature', async () => {
      const failures = await tampered((f) => {
        const s = f.signature;
        (f as { signature: string }).signature =
          s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1)!;
      });
      expect(failures).toEqual(['signature: bad signature on the report']);
    });
  });

  it('serves the same report as PDF with the expected pages and text', async () => {
    const response = await fetchReport(`/v1/reports/${report.id}.pdf`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await response.arrayBuffer());
    writeFileSync(join(dir, 'report.pdf'), pdf);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const pages = pdf.toString('latin1').match(/\/Type \/Page\b/g)?.length ?? 0;
    expect(pages).toBeGreaterThanOrEqual(6);
    const text = pdfText(pdf);
    for (const expected of [
      'Audit report',
      `promotion:${promotionId}`,
      'Anchored to signed checkpoint',
      report.rootHash,
      'Model card: credit-risk',
      'Intended use',
      'Evaluation of credit-risk@1',
      'Fairness by sex',
      'four-fifths line (0.8)',
      'Rollback criteria',
      'maxErrorRate',
      'Approvals',
      'compliance-officer (sign-off)',
      'I reviewed the fairness audit',
      'Gates (at rollout start): all passed',
      'Candidate share of traffic (%)',
      'rollout.completed',
      'Ledger events in this report',
      `page ${pages} of ${pages}`,
    ])
      expect(text).toContain(expected);
  });

  it('serves it as CSV, one row per event, by extension or Accept', async () => {
    for (const response of [
      await fetchReport(`/v1/reports/${report.id}.csv`),
      await fetchReport(`/v1/reports/${report.id}`, 'cora', 'text/csv'),
    ]) {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
      const rows = parse<Record<string, string>>(await response.text(), { columns: true });
      expect(rows).toHaveLength(report.eventCount);
      expect(rows[0]).toMatchObject({
        report_id: report.id,
        checkpoint_root_hash: report.rootHash,
      });
    }
    const json = await fetchReport(`/v1/reports/${report.id}`, 'audrey', 'application/json');
    expect(sha256(await json.text())).toBe(report.sha256);
    const refused = await fetchReport(`/v1/reports/${report.id}.json`, 'dana');
    expect(refused.status).toBe(403);
    expect((await fetchReport(`/v1/reports/${report.id}.xml`)).status).toBe(400);
  });

  it('exports a model, a version, a rollout and a period, each verifying offline', async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    for (const subject of [
      'model:credit-risk',
      'model:credit-risk@1',
      `rollout:${rolloutId}`,
      `period:${from}/${to}`,
    ]) {
      const { exportAuditReport: r } = await ok<{ exportAuditReport: ExportedReport }>(
        EXPORT,
        { subject },
        'audrey',
      );
      const text = await (await fetchReport(r.url)).text();
      const result = await verifyReport(text);
      expect({ subject, failures: result.failures }).toEqual({ subject, failures: [] });
      const body = (JSON.parse(text) as ReportFile).report;
      expect(body.rollouts.map((x) => x.id)).toContain(rolloutId);
    }
  });

  it('gatehouse verify-report: 0 intact, 1 naming the failure, 2 for unreadable input', async () => {
    const path = join(dir, 'report.json');
    const intact = await runCli(['verify-report', path], {});
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/^report intact: /);

    const jwksPath = join(dir, 'jwks.json');
    writeFileSync(jwksPath, await (await fetch(`${app.url}/.well-known/jwks.json`)).text());
    const json = await runCli(['verify-report', path, '--jwks', jwksPath, '--json'], {});
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, keysFrom: 'jwks-file' });

    const file = JSON.parse(reportText) as ReportFile;
    Object.assign(file.report.promotions[0]!.approvals[0]!, { approver: 'mallory' });
    const bad = join(dir, 'tampered.json');
    writeFileSync(bad, JSON.stringify(file));
    const failed = await runCli(['verify-report', bad], {});
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^report NOT intact/);
    expect(failed.stdout).toMatch(
      /figures: promotions\[0\]\.approvals\[0\]\.approver does not match/,
    );

    expect((await runCli(['verify-report', join(dir, 'absent.json')], {})).code).toBe(2);
    expect((await runCli(['verify-report'], {})).code).toBe(2);
    // Five processes, each loading the service's modules: a minute is short on a busy machine.
  }, 300_000);
});
