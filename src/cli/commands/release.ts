/**
 * `gatehouse release plan|apply -f gatehouse.yaml`: a release declared in a file, planned
 * against the service's policy and state without writing, then applied idempotently.
 */
import { readFileSync, statSync } from 'node:fs';
import {
  parseReleaseFile,
  ReleaseFileError,
  type LoadedRelease,
} from '../../release/release-file.js';
import type { ReleaseProblem, ReleaseStep } from '../../release/release-plan.js';
import {
  applyRelease,
  EvaluationFailedError,
  planOnService,
  readReleaseFiles,
  type AppliedRelease,
  type PlannedRelease,
} from '../../release/release-run.js';
import { EXIT, type ExitCode } from '../exit.js';
import { connect, finish, Progress, runVerb, type RemoteOptions } from '../remote/remote.js';

export interface ReleaseOptions extends RemoteOptions {
  readonly file: string;
}

const MAX_RELEASE_FILE_BYTES = 1024 * 1024;

function loadRelease(file: string): LoadedRelease {
  let content: string;
  try {
    if (statSync(file).size > MAX_RELEASE_FILE_BYTES)
      throw new ReleaseFileError(file, undefined, `larger than ${MAX_RELEASE_FILE_BYTES} bytes`);
    content = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof ReleaseFileError) throw error;
    throw new ReleaseFileError(
      file,
      undefined,
      (error as NodeJS.ErrnoException).code ?? 'unreadable',
    );
  }
  return parseReleaseFile(file, content);
}

/** Fix the file first (2), then the token (7), then the service's state (8). */
function exitOfProblems(problems: readonly ReleaseProblem[]): ExitCode {
  if (problems.some((p) => p.kind === 'policy')) return EXIT.usage;
  if (problems.some((p) => p.kind === 'permission')) return EXIT.unauthorized;
  if (problems.length > 0) return EXIT.conflict;
  return EXIT.ok;
}

function problemLines(loaded: LoadedRelease, problems: readonly ReleaseProblem[]): string[] {
  return problems.map((p) => {
    const line = loaded.lineOf(p.path);
    return `  ${loaded.file}${line === undefined ? '' : `:${line}`}: ${p.path.join('.')}: ${p.message} (${p.kind})`;
  });
}

function stepLines(steps: readonly ReleaseStep[]): string[] {
  return steps.map((s) => `  ${s.action.padEnd(9)}${s.subject.padEnd(12)}${s.detail}`);
}

function problemsJson(loaded: LoadedRelease, problems: readonly ReleaseProblem[]) {
  return problems.map((p) => ({ ...p, line: loaded.lineOf(p.path) ?? null }));
}

function planText(loaded: LoadedRelease, planned: PlannedRelease): string {
  const { release } = loaded;
  const { problems } = planned.plan;
  return [
    `Release of ${release.model.name} to endpoint ${release.endpoint.name}, as ${planned.who.sub}, under promotion policy ${planned.policySha256.slice(0, 12)}:`,
    ...stepLines(planned.plan.steps),
    problems.length === 0
      ? 'No problems: `gatehouse release apply` would make the changes above.'
      : `${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing can be applied until ${problems.length === 1 ? 'it is' : 'they are'} solved:`,
    ...problemLines(loaded, problems),
  ].join('\n');
}

export function releasePlan(options: ReleaseOptions): Promise<void> {
  return runVerb(options, async () => {
    const loaded = loadRelease(options.file);
    const files = readReleaseFiles(loaded);
    const client = await connect(options);
    const planned = await planOnService(client, loaded, files.facts);
    finish(
      options,
      exitOfProblems(planned.plan.problems),
      {
        steps: planned.plan.steps,
        problems: problemsJson(loaded, planned.plan.problems),
        policySha256: planned.policySha256,
        as: planned.who,
      },
      planText(loaded, planned),
    );
  });
}

export function releaseApply(options: ReleaseOptions): Promise<void> {
  return runVerb(options, async () => {
    const loaded = loadRelease(options.file);
    const files = readReleaseFiles(loaded);
    const client = await connect(options);
    const progress = new Progress(options);
    progress.say('reading the service’s policy and state');
    const planned = await planOnService(client, loaded, files.facts);
    if (planned.plan.problems.length > 0) {
      progress.done();
      finish(
        options,
        exitOfProblems(planned.plan.problems),
        {
          applied: false,
          steps: planned.plan.steps,
          problems: problemsJson(loaded, planned.plan.problems),
          policySha256: planned.policySha256,
        },
        planText(loaded, planned),
      );
      return;
    }
    let applied: AppliedRelease;
    try {
      applied = await applyRelease(client, loaded, files, planned.plan, (m) => {
        progress.say(m);
      });
    } catch (error) {
      progress.done();
      if (!(error instanceof EvaluationFailedError)) throw error;
      finish(
        options,
        EXIT.failed,
        { applied: false, evaluationId: error.evaluationId, error: error.message },
        `gatehouse: ${error.message}`,
      );
      return;
    }
    progress.done();
    finish(
      options,
      applied.failedGates.length > 0 ? EXIT.gatesFailed : EXIT.ok,
      { applied: true, ...applied, policySha256: planned.policySha256 },
      appliedText(applied),
    );
  });
}

function appliedText(a: AppliedRelease): string {
  const lines = stepLines(a.steps);
  if (a.live)
    return [...lines, `${a.model}@${a.version} is live on ${a.endpoint}: nothing to request.`].join(
      '\n',
    );
  const p = a.promotion;
  if (!p) return lines.join('\n');
  lines.push(
    `Promotion ${p.id} of ${a.model}@${a.version} to ${a.endpoint}: ${p.status}` +
      (p.missingRoles.length > 0 ? `, waiting for ${p.missingRoles.join(', ')}` : ''),
  );
  for (const g of a.failedGates) lines.push(`  gate ${g.gate} failed: ${g.summary}`);
  return lines.join('\n');
}
