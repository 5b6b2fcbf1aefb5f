import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { writeShortPolicies } from '../../src/demo/short-policies.js';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runCli, type CliResult } from '../support/cli.js';
import { writeMlflowExport, writeMlflowModel } from '../support/mlflow.js';
import { germanCreditParquet } from '../support/parquet.js';
import { SHORT_ROLLOUT_ENV } from '../../src/demo/short-policies.js';
import { SIGN_OFF } from '../support/rollout-story.js';

/**
 * A release pipeline played as CI runs it: a repository folder with gatehouse.yaml, an MLflow
 * model exported by training and the evaluation data; the built `gatehouse` command with one
 * token of the release-pipeline role, against a live service. Approvals are given by other
 * people's tokens, as they would be in the console. Exit statuses are the documented ones.
 */
describe('a release pipeline driven by the gatehouse command', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let repo: string;
  let policies: string;
  const tokens: Record<string, string> = {};
  let env: Record<string, string>;

  const RELEASE = readFileSync(
    join(import.meta.dirname, '../fixtures/release/gatehouse.yaml'),
    'utf8',
  );

  beforeAll(async () => {
    models = buildGermanCreditModels();
    // The shipped gates (four-fifths rule, performance) with rollouts cut to seconds.
    policies = writeShortPolicies(mkdtempSync(join(tmpdir(), 'gatehouse-pipeline-policies-')), {
      lenientGates: false,
    });
    app = await startTestApp({ ...SHORT_ROLLOUT_ENV, GATEHOUSE_POLICIES_DIR: policies });
    for (const [who, role] of [
      ['ci', 'release-pipeline'],
      ['erin', 'ml-engineer'],
      ['vera', 'model-validator'],
      ['cora', 'compliance-officer'],
    ] as const)
      tokens[who] = await app.token(who, role);
    repo = mkdtempSync(join(tmpdir(), 'gatehouse-pipeline-repo-'));
    copyFileSync(defaultGermanCreditPath(), join(repo, 'german-credit.csv'));
    writeMlflowExport(join(repo, 'model'), models.fair, {
      runId: '5f0e2a7c9b8d4e61a3c2b1d0e9f8a7b6',
      modelUuid: '0a1b2c3d4e5f46789abcdef012345678',
    });
    writeFileSync(join(repo, 'gatehouse.yaml'), RELEASE);
    const tokenFile = join(repo, '.token');
    writeFileSync(tokenFile, `${tokens['ci']}\n`, { mode: 0o600 });
    env = { GATEHOUSE_URL: app.url, GATEHOUSE_TOKEN_FILE: tokenFile };
  }, 120_000);

  afterAll(async () => {
    await app.close();
    rmSync(repo, { recursive: true, force: true });
    rmSync(policies, { recursive: true, force: true });
  });

  async function gatehouse(...args: string[]): Promise<CliResult> {
    return runCli(args, env, 120_000);
  }

  /** As a CI job runs it: in the checked-out repository. */
  function gatehouseIn(cwd: string, ...args: string[]): Promise<CliResult> {
    return runCli(args, env, 180_000, cwd);
  }

  // The shape each verb prints is documented in docs/pipelines.md; the test names the part it reads.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  function json<T>(result: CliResult): T {
    expect(result.stderr).not.toMatch(/\n\s+at /);
    return JSON.parse(result.stdout) as T;
  }

  async function approve(id: string, who: 'erin' | 'vera' | 'cora', role: string) {
    const { promotionRequest } = (
      await app.gql<{ promotionRequest: { requestDigest: string } }>(
        `query($id: ID!) { promotionRequest(id: $id) { requestDigest } }`,
        { id },
        tokens[who],
      )
    ).data!;
    const r = await app.gql(
      `mutation($id: ID!, $role: String!, $digest: String!, $statement: String) {
        approvePromotion(id: $id, role: $role, requestDigest: $digest, statement: $statement) { id } }`,
      {
        id,
        role,
        digest: promotionRequest.requestDigest,
        statement: role === 'compliance-officer' ? SIGN_OFF : null,
      },
      tokens[who],
    );
    expect(r.errors).toBeUndefined();
  }

  interface Applied {
    applied: boolean;
    datasetId: string;
    version: number;
    promotion: { id: string; status: string; missingRoles: string[] } | null;
    failedGates: { gate: string }[];
    steps: { subject: string; action: string }[];
  }
  let promotionId = '';

  /**
   * The `gatehouse` lines of a CI example, in order, with the promotion id put where the
   * example takes it from `release apply`'s JSON, and `> FILE` kept as where stdout goes.
   */
  function exampleCommands(file: string, scripts: (doc: unknown) => string[]) {
    const doc: unknown = parse(
      readFileSync(join(import.meta.dirname, '../../docs/examples', file), 'utf8'),
    );
    return scripts(doc)
      .flatMap((script) => script.split('\n'))
      .map((line) => line.trim())
      .filter((line) => line.startsWith('gatehouse '))
      .map((line) => {
        const [command = '', output] = line.split(' > ');
        return { args: command.split(/\s+/).slice(1), output };
      });
  }

  const githubScripts = (doc: unknown) =>
    (doc as { jobs: { release: { steps: { run?: string }[] } } }).jobs.release.steps.map(
      (step) => step.run ?? '',
    );
  const gitlabScripts = (doc: unknown) =>
    Object.values(doc as Record<string, { script?: string[] }>).flatMap((job) => job.script ?? []);

  it('runs the gatehouse steps of the GitHub Actions example as written; a rerun changes nothing', async () => {
    for (const { args, output } of exampleCommands('github-actions.yml', githubScripts)) {
      const resolved = args
        .map((a) => a.replace('${{', '').replace(/^steps\.apply\.outputs\.promotion$/, promotionId))
        .filter((a) => a !== '' && a !== '}}');
      const run = gatehouseIn(repo, ...resolved);
      // The wait for sign-off ends when people approve, in the console, while the job waits.
      if (resolved[0] === 'promotion' && resolved.includes('--wait')) {
        await approve(promotionId, 'erin', 'ml-engineer');
        await approve(promotionId, 'vera', 'model-validator');
        await approve(promotionId, 'cora', 'compliance-officer');
      }
      const result = await run;
      expect({ args: resolved, code: result.code, stderr: result.stderr }).toEqual({
        args: resolved,
        code: 0,
        stderr: '',
      });
      if (output) writeFileSync(join(repo, output), result.stdout);
      if (resolved[0] === 'release' && resolved[1] === 'apply') {
        const applied = json<Applied>(result);
        expect(applied.version).toBe(1);
        expect(applied.promotion?.status).toBe('PENDING');
        promotionId = applied.promotion?.id ?? '';
        // Run again at once, as a retried job would: the same request, nothing new.
        const again = json<Applied>(
          await gatehouse('release', 'apply', '-f', join(repo, 'gatehouse.yaml'), '--json'),
        );
        expect(again.steps.every((step) => step.action === 'keep')).toBe(true);
        expect(again.promotion?.id).toBe(promotionId);
      }
      if (resolved[0] === 'rollout' && resolved[1] === 'status')
        expect(result.stdout).toMatch(/: COMPLETED$/m);
    }
    expect(promotionId).not.toBe('');
    expect(readFileSync(join(repo, 'audit-report.pdf')).subarray(0, 5).toString()).toBe('%PDF-');
    expect(statSync(join(repo, 'audit-report.json')).size).toBeGreaterThan(1000);

    // Carried from the MLflow run into the version, beside the release file's own metadata.
    const version = await app.gql<{ modelVersion: { metadata: Record<string, string> } }>(
      `{ modelVersion(model: "credit-risk", version: 1) { metadata } }`,
      {},
      tokens['erin'],
    );
    expect(version.data?.modelVersion.metadata).toMatchObject({
      'mlflow.run_id': '5f0e2a7c9b8d4e61a3c2b1d0e9f8a7b6',
      'git.commit': '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
    });
    // Live now: applying the same file again has nothing to do.
    const live = await gatehouse('release', 'apply', '-f', join(repo, 'gatehouse.yaml'), '--json');
    expect(live.code).toBe(0);
    expect(json<Applied>(live).promotion).toBeNull();
    const events = await app.gql<{ ledgerEvents: { events: { type: string }[] } }>(
      `{ ledgerEvents(limit: 500) { events { type } } }`,
      {},
      await app.token('audrey', 'auditor'),
    );
    const types = events.data?.ledgerEvents.events.map((e) => e.type) ?? [];
    expect(types.filter((t) => t === 'promotion.requested')).toHaveLength(1);
    expect(types.filter((t) => t === 'model.version.registered')).toHaveLength(1);
  }, 240_000);

  it('the GitLab CI example’s gatehouse lines are the same verbs, each accepted as written', async () => {
    const gitlab = exampleCommands('gitlab-ci.yml', gitlabScripts);
    const github = exampleCommands('github-actions.yml', githubScripts);
    const verbs = (commands: { args: string[] }[]) =>
      commands.map((c) =>
        c.args
          .filter((a) => /^[a-z-]+$/.test(a))
          .slice(0, 2)
          .join(' '),
      );
    expect(verbs(gitlab)).toEqual(verbs(github));
    // Against no service: every line gets as far as connecting (1), none is a usage error (2).
    for (const { args } of gitlab) {
      const resolved = args.map((a) => a.replace(/^"\$PROMOTION"$/, randomUUID()));
      if (resolved[0] === 'verify-report') continue;
      const result = await runCli(
        resolved,
        { GATEHOUSE_URL: 'http://127.0.0.1:9/', GATEHOUSE_TOKEN: 'x' },
        60_000,
        repo,
      );
      expect({ resolved, code: result.code }).toEqual({ resolved, code: 1 });
      expect(result.stderr).toMatch(/could not be reached/);
    }
  }, 120_000);

  it('a version the gates refuse: exit 3 naming the gate; no approval in time: 5; rejected: 4', async () => {
    writeMlflowExport(join(repo, 'model'), models.unfair, {
      runId: '6a1f3b8dac9e4f72b4d3c2e1fa09b8c7',
      modelUuid: '1b2c3d4e5f6a47890bcdef1234567890',
    });
    // The evaluation data as Parquet this time: sent as Parquet, whatever its name says.
    writeFileSync(join(repo, 'german-credit.data'), germanCreditParquet());
    writeFileSync(
      join(repo, 'gatehouse.yaml'),
      RELEASE.replace('strategy: INITIAL', SHADOW_THEN_CANARY).replace(
        'dataset: german-credit.csv',
        'dataset: german-credit.data',
      ),
    );
    const refused = await gatehouse(
      'release',
      'apply',
      '-f',
      join(repo, 'gatehouse.yaml'),
      '--json',
    );
    expect(refused.code).toBe(3);
    const applied = json<Applied>(refused);
    expect(applied.failedGates.map((g) => g.gate)).toContain('FAIRNESS');
    const { dataset } = (
      await app.gql<{ dataset: { format: string; rows: number } }>(
        `query($id: String!) { dataset(id: $id) { format rows } }`,
        { id: applied.datasetId },
        tokens['erin'],
      )
    ).data!;
    expect(dataset).toEqual({ format: 'parquet', rows: 1000 });
    const id = applied.promotion?.id ?? '';

    const r = await app.gql(
      `mutation($id: ID!) { rejectPromotion(id: $id, reason: "Fails the four-fifths rule on sex and on age group.") { id } }`,
      { id },
      tokens['cora'],
    );
    expect(r.errors).toBeUndefined();
    const rejected = await gatehouse('promotion', 'status', id, '--wait', '--poll-interval', '0.2');
    expect(rejected.code).toBe(4);
    expect(rejected.stdout).toMatch(/REJECTED/);
  }, 180_000);

  it('imports an MLflow model as a version, once; a rollout rolled back is exit 6', async () => {
    const retrained = writeMlflowExport(join(repo, 'retrained'), models.fairRetrained, {
      runId: '7b2a4c9ebd0f4a83c5e4d3f2ab10c9d8',
      modelUuid: '2c3d4e5f6a7b48901cdef23456789012',
    });
    const imported = await gatehouse(
      'import',
      'mlflow',
      retrained,
      '--model',
      'credit-risk',
      '--json',
    );
    expect(imported.code).toBe(0);
    const first = json<{
      existed: boolean;
      version: { version: number; featureColumns: string[] };
    }>(imported);
    expect(first.existed).toBe(false);
    expect(first.version.featureColumns).toEqual([...models.fairRetrained.featureNames]);
    const again = json<{ existed: boolean; version: { version: number } }>(
      await gatehouse('import', 'mlflow', retrained, '--model', 'credit-risk', '--json'),
    );
    expect(again).toMatchObject({ existed: true, version: { version: first.version.version } });

    // The same version released from the file: apply finds it rather than register it again.
    writeFileSync(
      join(repo, 'gatehouse.yaml'),
      RELEASE.replace('mlflow: model', 'mlflow: retrained').replace(
        'strategy: INITIAL',
        SHADOW_THEN_CANARY,
      ),
    );
    const applied = await gatehouse(
      'release',
      'apply',
      '-f',
      join(repo, 'gatehouse.yaml'),
      '--json',
    );
    expect(applied.code).toBe(0);
    const withdrawn = json<Applied>(applied);
    expect(withdrawn.version).toBe(first.version.version);
    expect(withdrawn.steps.find((s) => s.subject === 'version')?.action).toBe('keep');
    // Taken back by the pipeline that asked: exit 4; applying again asks anew.
    const takenBack = withdrawn.promotion?.id ?? '';
    expect((await gatehouse('promotion', 'withdraw', takenBack)).code).toBe(0);
    const closed = await gatehouse('promotion', 'status', takenBack);
    expect(closed.code).toBe(4);
    expect(closed.stdout).toMatch(/WITHDRAWN/);
    const release = json<Applied>(
      await gatehouse('release', 'apply', '-f', join(repo, 'gatehouse.yaml'), '--json'),
    );
    expect(release.promotion?.id).not.toBe(takenBack);
    const id = release.promotion?.id ?? '';
    await approve(id, 'erin', 'ml-engineer');
    await approve(id, 'vera', 'model-validator');
    await approve(id, 'cora', 'compliance-officer');
    const started = json<{ rollout: { id: string } }>(
      await gatehouse('rollout', 'start', id, '--json'),
    );
    const r = await app.gql(
      `mutation($id: ID!) { rollbackRollout(id: $id, reason: "The validators asked for it to be stopped.") { id } }`,
      { id: started.rollout.id },
      tokens['cora'],
    );
    expect(r.errors).toBeUndefined();
    const status = await gatehouse('rollout', 'status', started.rollout.id, '--wait', '--json');
    expect(status.code).toBe(6);
    expect(json<{ rollout: { status: string } }>(status).rollout.status).toBe('ROLLED_BACK');
  }, 180_000);

  it('bad input is exit 2 naming the line; a token that may not is exit 7; a stranger id is 2', async () => {
    const broken = join(repo, 'broken.yaml');
    writeFileSync(broken, RELEASE.replace('labelColumn: good_credit', 'label: good_credit'));
    const bad = await gatehouse('release', 'plan', '-f', broken);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/broken\.yaml:\d+: evaluation: Unrecognized key: "label"/);

    const short = join(repo, 'short.yaml');
    const shortText = RELEASE.replace(/justification: .*/, 'justification: because').replace(
      'strategy: INITIAL',
      SHADOW_THEN_CANARY,
    );
    writeFileSync(short, shortText);
    const policy = await gatehouse('release', 'plan', '-f', short, '--json');
    expect(policy.code).toBe(2);
    const line = shortText.split('\n').findIndex((l) => l.startsWith('  justification:')) + 1;
    expect(json<{ problems: { path: string[]; line: number }[] }>(policy).problems).toContainEqual(
      expect.objectContaining({ path: ['promotion', 'justification'], line }),
    );

    const auditor = join(repo, '.auditor-token');
    writeFileSync(auditor, await app.token('audrey', 'auditor'));
    const denied = await runCli(['release', 'plan', '-f', join(repo, 'gatehouse.yaml'), '--json'], {
      ...env,
      GATEHOUSE_TOKEN_FILE: auditor,
    });
    expect(denied.code).toBe(7);

    // A model saved with another flavor only: refused before anything is sent, naming what it has.
    const sklearn = writeMlflowModel(join(repo, 'sklearn'), 'sklearn');
    const flavor = await gatehouse('import', 'mlflow', sklearn, '--model', 'credit-risk');
    expect(flavor.code).toBe(2);
    expect(flavor.stderr).toMatch(
      /MLmodel:\d+: .*flavors python_function, sklearn but no onnx flavor/,
    );

    const stranger = await gatehouse('promotion', 'status', 'not-an-id');
    expect(stranger.code).toBe(2);
    const unreachable = await runCli(['promotion', 'status', promotionId], {
      ...env,
      GATEHOUSE_URL: 'http://127.0.0.1:9/',
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/could not be reached/);
  }, 120_000);
});

const SHADOW_THEN_CANARY = `strategy: SHADOW_THEN_CANARY
  plan:
    shadow: { sampleRate: 1, minRequests: 20, minDurationSeconds: 1 }
    canary: { steps: [50], minRequestsPerStep: 20, bakeSeconds: 1 }`;
