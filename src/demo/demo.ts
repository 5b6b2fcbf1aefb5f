import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, type RunningApp } from '../app.js';
import { issueDevToken, loadOrCreateDevIssuerKey } from '../auth/dev-issuer.js';
import { loadConfig } from '../config/config.js';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  nanAboveModel,
  type ScoringModel,
} from '../model-builder/index.js';
import { verifyReport } from '../reports/report-verify.js';
import { attendWaitingRequest } from './attendant.js';
import { SHORT_ROLLOUT_ENV, writeShortPolicies } from './short-policies.js';
import {
  evaluate,
  gql,
  gqlRaw,
  promote,
  registerCreditModel,
  requestPromotion,
  Traffic,
  uploadDataset,
  waitForRollout,
  type Client,
  type RolloutView,
} from './story.js';

export interface DemoOptions {
  /** Where the service keeps its data (the embedded PostgreSQL too); made if missing. */
  readonly dataDir: string;
  /** A PostgreSQL server's URL instead of the embedded one (a fresh database is expected). */
  readonly databaseUrl?: string;
  /**
   * After the story, leave the service running with one promotion request waiting for the
   * compliance officer, until `untilStopped()` resolves: a person can then sign it off in the
   * console.
   */
  readonly keepServing?: { readonly port: number; readonly untilStopped: () => Promise<void> };
  readonly write: (line: string) => void;
}

export interface DemoResult {
  readonly ok: boolean;
  readonly seconds: number;
  readonly reportJson: string;
  readonly reportPdf: string;
}

const PEOPLE: Record<string, { sub: string; roles: string[] }> = {
  dana: { sub: 'dana', roles: ['data-scientist'] },
  // The requester, also an ML engineer: her approval of her own request must be refused.
  danaAsEngineer: { sub: 'dana', roles: ['data-scientist', 'ml-engineer'] },
  erin: { sub: 'erin', roles: ['ml-engineer'] },
  vera: { sub: 'vera', roles: ['model-validator'] },
  cora: { sub: 'cora', roles: ['compliance-officer'] },
  audrey: { sub: 'audrey', roles: ['auditor'] },
  ivan: { sub: 'ivan', roles: ['inference-client'] },
};

const W = { minRequests: 20, seconds: 60 };
const CRITERIA = {
  maxErrorRate: { value: 0.02, window: W },
  // Generous: the demo shares its machine with its own load, and a CI runner with much else;
  // the story is about errors and fairness, and a latency stall there is no fault of version 3.
  maxP99LatencyMs: { value: 1000, window: W },
  minDisparateImpact: { value: 0.8, window: { minRequests: 60, seconds: 60 } },
  rationale:
    'Above two percent errors the underwriters cannot review every refusal; a group selected at under four fifths of another breaches the fair-lending rule we report on.',
};
const STAGED_PLAN = {
  shadow: { sampleRate: 1, minRequests: 60, minDurationSeconds: 2 },
  canary: { steps: [25, 50], minRequestsPerStep: 60, bakeSeconds: 2 },
};
const SIGN_OFF =
  'I reviewed the fairness audit, the model card and the rollback criteria, and sign off for production.';
/** German credit amounts go up to 18,424; the faulty build divides by zero beyond 20,000. */
const AMOUNT = 1;
const AMOUNT_LIMIT = 20_000;

/**
 * The whole governance story on the German credit data, against a real Gatehouse started in
 * this process (the embedded PostgreSQL by default), told through its public interfaces as
 * the people and systems around it would: register, audit, block an unfair version at the
 * gate, approve with separation of duties, go live, roll a faulty build back automatically,
 * take a good version shadow → canary → live under traffic, verify the ledger, and export an
 * audit report that verifies offline. Rollout minimums are cut to seconds (policies written
 * into the data folder); everything else is the shipped policy.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const say = options.write;
  let step = 0;
  const STEPS = 11;
  const progress = (text: string) => {
    step++;
    const at = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
    say(`[${String(step).padStart(2)}/${STEPS}] ${at}s  ${text}`);
  };
  const detail = (text: string) => {
    say(`              ${text}`);
  };

  mkdirSync(options.dataDir, { recursive: true });
  const policiesDir = writeShortPolicies(join(options.dataDir, 'policies'), {
    lenientGates: false,
  });
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...SHORT_ROLLOUT_ENV,
    NODE_ENV: 'development',
    GATEHOUSE_DATA_DIR: options.dataDir,
    GATEHOUSE_POLICIES_DIR: policiesDir,
    GATEHOUSE_PORT: String(options.keepServing?.port ?? 0),
    GATEHOUSE_HOST: '127.0.0.1',
    GATEHOUSE_LOG_LEVEL: 'warn',
    DATABASE_URL: options.databaseUrl,
  };
  progress(
    `starting Gatehouse (${options.databaseUrl ? 'PostgreSQL at DATABASE_URL' : 'embedded PostgreSQL'}, data in ${options.dataDir})`,
  );
  const config = loadConfig(env);
  const running: RunningApp = await startApp(config);
  try {
    const key = await loadOrCreateDevIssuerKey(options.dataDir);
    const tokens: Record<string, string> = {};
    for (const [name, person] of Object.entries(PEOPLE))
      tokens[name] = await issueDevToken(key, {
        sub: person.sub,
        roles: person.roles,
        ttlSeconds: 3600,
        audience: config.auth.audience,
        rolesClaim: config.auth.rolesClaim,
      });
    const client: Client = { url: () => running.url, token: (who) => tokens[who] ?? '' };
    detail(`listening on ${running.url}`);

    progress('training four versions of a credit model on German credit (1,000 applicants)');
    const models = buildGermanCreditModels();
    const builds: [string, ScoringModel][] = [
      ['fair logistic regression', models.fair],
      ['logistic regression trained on a biased history', models.unfair],
      ['the fair recipe retrained (L2 3)', models.fairRetrained],
      [
        'a build that divides by zero on amounts above 20,000',
        nanAboveModel(models.fair, AMOUNT, AMOUNT_LIMIT),
      ],
    ];

    progress('registering model credit-risk (HIGH risk) with its model card, and four versions');
    const versions = await registerCreditModel(
      client,
      builds.map(([, scoring]) => scoring),
    );
    builds.forEach(([what], i) => {
      detail(`version ${String(versions[i])}: ${what}`);
    });
    const [fair, unfair, retrained, faulty] = versions as [number, number, number, number];

    progress('auditing every version with ONNX Runtime: performance and four-fifths per group');
    const dataset = await uploadDataset(client, defaultGermanCreditPath());
    const evaluations = new Map<number, string>();
    for (const version of versions) {
      // With intervals (the policy's resamples, a fixed seed), as a signer expects to see them.
      const id = await evaluate(client, 'credit-risk', version, dataset, version);
      evaluations.set(version, id);
      const figures = await headline(client, id);
      detail(`version ${version}: ${figures}`);
    }
    await gql(
      client,
      `mutation { createEndpoint(name: "credit", model: "credit-risk") { id } }`,
      {},
      'erin',
    );

    progress(`version ${unfair} asks for the endpoint: the fairness gate blocks it`);
    const blocked = await requestPromotion(client, {
      endpoint: 'credit',
      model: 'credit-risk',
      version: unfair,
      evaluationId: evaluations.get(unfair) ?? '',
      strategy: 'INITIAL',
      plan: null,
      rollbackCriteria: CRITERIA,
    });
    const gates = await gql<{
      evaluateGates: {
        passed: boolean;
        gates: { gate: string; passed: boolean; summary: string }[];
      };
    }>(
      client,
      `mutation($id: ID!) { evaluateGates(id: $id) { passed gates { gate passed summary } } }`,
      { id: blocked.id },
      'vera',
    );
    for (const g of gates.evaluateGates.gates.filter((x) => !x.passed && x.gate === 'FAIRNESS'))
      detail(`${g.gate}: ${g.summary}`);
    await gql(
      client,
      `mutation($id: ID!) { withdrawPromotion(id: $id) { id } }`,
      { id: blocked.id },
      'dana',
    );

    progress(`version ${fair} requested with rollback criteria; a self-approval is refused`);
    const request = await requestPromotion(client, {
      endpoint: 'credit',
      model: 'credit-risk',
      version: fair,
      evaluationId: evaluations.get(fair) ?? '',
      strategy: 'INITIAL',
      plan: null,
      rollbackCriteria: CRITERIA,
    });
    const self = await gqlRaw(
      client,
      `mutation($id: ID!, $digest: String!) { approvePromotion(id: $id, role: "ml-engineer", requestDigest: $digest) { id } }`,
      { id: request.id, digest: request.requestDigest },
      'danaAsEngineer',
    );
    detail(
      `dana approving her own request: ${self.errors?.[0]?.extensions?.code ?? 'ACCEPTED?!'} — ${self.errors?.[0]?.message ?? ''}`,
    );

    progress('ml-engineer, model-validator and compliance officer approve; INITIAL go-live');
    const approve = `mutation($id: ID!, $role: String!, $statement: String, $digest: String!) {
      approvePromotion(id: $id, role: $role, statement: $statement, requestDigest: $digest) { status } }`;
    const digest = request.requestDigest;
    await gql(client, approve, { id: request.id, role: 'ml-engineer', digest }, 'erin');
    await gql(client, approve, { id: request.id, role: 'model-validator', digest }, 'vera');
    await gql(
      client,
      approve,
      { id: request.id, role: 'compliance-officer', statement: SIGN_OFF, digest },
      'cora',
    );
    const live = await gql<{ startRollout: RolloutView }>(
      client,
      `mutation($id: ID!) { startRollout(promotionId: $id) { id status } }`,
      { id: request.id },
      'erin',
    );
    detail(`rollout ${live.startRollout.id}: ${live.startRollout.status}; version ${fair} serves`);

    const traffic = new Traffic(client, 'credit', models.data, {
      concurrency: 3,
      feedback: true,
      // A tenth of the applications carry amounts beyond the training range.
      transform: (row, i) => {
        if (i % 10 === 0) row[AMOUNT] = AMOUNT_LIMIT * 1.5;
        return row;
      },
    }).start();
    const staged = (version: number) =>
      promote(client, {
        endpoint: 'credit',
        model: 'credit-risk',
        version,
        evaluationId: evaluations.get(version) ?? '',
        strategy: 'SHADOW_THEN_CANARY',
        plan: STAGED_PLAN,
        rollbackCriteria: CRITERIA,
      });

    progress(`version ${faulty} (the faulty build) in shadow under live traffic`);
    const bad = await staged(faulty);
    const badDone = await waitForRollout(
      client,
      bad.id,
      (r) => r.status !== 'RUNNING' && r.history.some((e) => e.type === 'rollout.rolled_back'),
      90_000,
    );
    const rolledBack = badDone.history.find((e) => e.type === 'rollout.rolled_back');
    detail(
      `rolled back automatically in stage ${String(rolledBack?.payload['stage'])}: ${String(rolledBack?.payload['reason'])}`,
    );

    progress(`version ${retrained} through shadow → canary 25 % → canary 50 % → live`);
    const good = await staged(retrained);
    const seen = new Set<string>();
    const goodDone = await waitForRollout(
      client,
      good.id,
      (r) => {
        for (const e of r.history)
          if (e.type === 'rollout.stage.passed' && !seen.has(String(e.payload['stage']))) {
            seen.add(String(e.payload['stage']));
            const evidence = e.payload['evidence'] as {
              arms?: {
                candidate?: { requests?: number; errorRate?: number; agreement?: number | null };
              };
            };
            const c = evidence.arms?.candidate;
            detail(
              `passed ${String(e.payload['stage'])}: ${String(c?.requests)} candidate requests, error rate ${String(c?.errorRate)}${c?.agreement === null || c?.agreement === undefined ? '' : `, agreement ${c.agreement.toFixed(3)}`}`,
            );
          }
        return r.history.some(
          (e) => e.type === 'rollout.completed' || e.type === 'rollout.rolled_back',
        );
      },
      120_000,
    );
    const stats = await traffic.stop();
    const goodRolledBack = goodDone.history.find((e) => e.type === 'rollout.rolled_back');
    detail(
      goodRolledBack
        ? `${goodDone.status} in stage ${String(goodRolledBack.payload['stage'])}: ${String(goodRolledBack.payload['reason'])}; version ${fair} stays live`
        : `${goodDone.status}: version ${retrained} is live; version ${fair} stays loaded as standby`,
    );
    detail(
      `traffic: ${stats.sent} requests, ${stats.failures.length} failed, ${stats.labelled} labelled later; answered by ${Object.entries(
        stats.byVersion,
      )
        .map(([v, n]) => `v${v}: ${n}`)
        .join(', ')}`,
    );

    progress('verifying the whole ledger: hashes, links, signatures, checkpoints');
    const verified = await gql<{
      verifyLedger: { ok: boolean; eventsChecked: number; signaturesChecked: number };
    }>(client, `{ verifyLedger { ok eventsChecked signaturesChecked } }`, {}, 'audrey');
    detail(
      `${verified.verifyLedger.ok ? 'intact' : 'BROKEN'}: ${verified.verifyLedger.eventsChecked} events, ${verified.verifyLedger.signaturesChecked} signatures`,
    );

    progress(`exporting the audit report of the rollout of version ${retrained} (JSON, PDF)`);
    const exported = await gql<{ exportAuditReport: { id: string; eventCount: number } }>(
      client,
      `mutation($subject: String!) { exportAuditReport(subject: $subject, format: JSON) { id eventCount } }`,
      { subject: `rollout:${good.id}` },
      'cora',
    );
    const reportId = exported.exportAuditReport.id;
    const reportJson = join(options.dataDir, `audit-report-${reportId}.json`);
    const reportPdf = join(options.dataDir, `audit-report-${reportId}.pdf`);
    const json = await download(client, `/v1/reports/${reportId}.json`);
    writeFileSync(reportJson, json);
    writeFileSync(reportPdf, await download(client, `/v1/reports/${reportId}.pdf`));
    const offline = await verifyReport(json.toString('utf8'));
    detail(
      `${exported.exportAuditReport.eventCount} events; offline verification: ${offline.ok ? 'intact' : offline.failures.map((f) => `${f.check}: ${f.detail}`).join('; ')}`,
    );

    const seconds = (Date.now() - started) / 1000;
    const ok =
      verified.verifyLedger.ok &&
      offline.ok &&
      goodDone.status === 'COMPLETED' &&
      badDone.status === 'ROLLED_BACK' &&
      !gates.evaluateGates.passed &&
      self.errors?.[0]?.extensions?.code === 'SEPARATION_OF_DUTIES';
    say('');
    say(`${ok ? 'Done' : 'FAILED'} in ${seconds.toFixed(1)} s.`);
    say(`  unfair version ${unfair}: blocked at the fairness gate`);
    say(`  faulty version ${faulty}: rolled back automatically in shadow, no client saw it`);
    say(
      `  version ${retrained}: live after shadow and two canary steps; ${stats.failures.length} failed requests`,
    );
    say(
      `  ledger: ${verified.verifyLedger.ok ? 'verified' : 'NOT verified'}; report: ${offline.ok ? 'verified offline' : 'NOT verified'}`,
    );
    say(`  report: ${reportJson}`);
    say(`          ${reportPdf}`);
    say(`  check it yourself: npx gatehouse verify-report ${reportJson}`);
    say(`  service data (PostgreSQL, blobs, keys, policies): ${options.dataDir}`);
    if (ok && options.keepServing) {
      const waiting = await requestPromotion(client, {
        endpoint: 'credit',
        model: 'credit-risk',
        version: fair,
        evaluationId: evaluations.get(fair) ?? '',
        strategy: 'SHADOW_THEN_CANARY',
        plan: STAGED_PLAN,
        rollbackCriteria: CRITERIA,
      });
      const digest = waiting.requestDigest;
      await gql(client, approve, { id: waiting.id, role: 'ml-engineer', digest }, 'erin');
      await gql(client, approve, { id: waiting.id, role: 'model-validator', digest }, 'vera');
      // The gates judged now, so that the compliance officer sees each verdict before signing.
      await gql(
        client,
        `mutation($id: ID!) { evaluateGates(id: $id) { id } }`,
        { id: waiting.id },
        'vera',
      );
      say('');
      say(`Still serving at ${running.url}; stop with Ctrl-C.`);
      say(`  console: ${running.url}/console`);
      say(
        `  waiting for the compliance officer: promotion request ${waiting.id} (version ${fair} back to live, shadow then canary)`,
      );
      say('  sign in with Dev sign-in as cora, role compliance-officer, and sign it off');
      const stopped = options.keepServing.untilStopped();
      let stopping = false;
      await Promise.all([
        stopped.then(() => {
          stopping = true;
        }),
        attendWaitingRequest(client, {
          requestId: waiting.id,
          data: models.data,
          write: say,
          stopped,
        }).catch((error: unknown) => {
          // A call cut short by the stop is no fault; anything else is said, and serving goes on.
          if (!stopping) say(`the team around the request stopped: ${String(error)}`);
        }),
      ]);
    }
    return { ok, seconds, reportJson, reportPdf };
  } finally {
    await running.close();
  }
}

/** ROC AUC, and per protected attribute the four-fifths verdict, as one line. */
async function headline(client: Client, id: string): Promise<string> {
  const r = await gql<{
    evaluation: {
      performance: { name: string; value: number | null }[];
      fairness: {
        attribute: string;
        passesFourFifths: boolean | null;
        figures: { name: string; value: number | null }[];
      }[];
    };
  }>(
    client,
    `query($id: ID!) { evaluation(id: $id) { performance { name value }
      fairness { attribute passesFourFifths figures { name value } } } }`,
    { id },
    'vera',
  );
  const auc = r.evaluation.performance.find((f) => f.name === 'rocAuc')?.value;
  const groups = r.evaluation.fairness.map((a) => {
    const di = a.figures.find((f) => f.name === 'disparateImpact')?.value;
    const verdict = a.passesFourFifths === false ? 'FAILS four-fifths' : 'passes';
    return `${a.attribute} ${di === null || di === undefined ? '?' : di.toFixed(3)} (${verdict})`;
  });
  return `AUC ${auc === null || auc === undefined ? '?' : auc.toFixed(3)}; disparate impact ${groups.join(', ')}`;
}

async function download(client: Client, path: string): Promise<Buffer> {
  const response = await fetch(`${client.url()}${path}`, {
    headers: { authorization: `Bearer ${client.token('cora')}` },
  });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}
