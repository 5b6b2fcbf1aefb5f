import { InvalidArgumentError, type Command } from 'commander';
import type { EdgeServeOptions } from './commands/edge-serve.js';
import { edgeBundle, type EdgeBundleOptions } from './commands/edge.js';
import { edgeSync, type EdgeSyncOptions } from './commands/edge-sync.js';
import { importMlflow, type ImportMlflowOptions } from './commands/import-mlflow.js';
import {
  promotionStatus,
  promotionWithdraw,
  type PromotionStatusOptions,
} from './commands/promotion.js';
import { releaseApply, releasePlan, type ReleaseOptions } from './commands/release.js';
import { reportExport, type ReportExportOptions } from './commands/report.js';
import { rolloutStart, rolloutStatus, type RolloutStatusOptions } from './commands/rollout.js';
import { withRemoteOptions, type RemoteOptions } from './remote/remote.js';
import { durationOption, pollOption } from './remote/waiting.js';

function withWaitOptions(command: Command, what: string): Command {
  return command
    .option('--wait', `wait until ${what}`)
    .option('--timeout <duration>', 'with --wait, give up after this long (exit 5)', durationOption)
    .option(
      '--poll-interval <seconds>',
      'with --wait, seconds between readings (default 2)',
      pollOption,
    );
}

function portOption(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new InvalidArgumentError('expected 0 to 65535');
  return n;
}

/**
 * The verbs a pipeline drives against a Gatehouse elsewhere (`--url` or GATEHOUSE_URL, a token
 * from GATEHOUSE_TOKEN or a file). Exit statuses are documented in docs/pipelines.md.
 */
export function registerClientVerbs(program: Command): void {
  const release = program
    .command('release')
    .description('a release declared in gatehouse.yaml, against a Gatehouse service');
  for (const [name, description, action] of [
    [
      'plan',
      'show what apply would change, and every reason the service’s policy or state refuses it; writes nothing',
      releasePlan,
    ],
    [
      'apply',
      'upload, register, evaluate and request the promotion; a rerun changes nothing',
      releaseApply,
    ],
  ] as const)
    withRemoteOptions(
      release
        .command(name)
        .description(description)
        .requiredOption('-f, --file <file>', 'the release file (gatehouse.yaml)'),
    ).action((options: ReleaseOptions) => action(options));

  const promotion = program.command('promotion').description('promotion requests');
  withRemoteOptions(
    withWaitOptions(
      promotion
        .command('status')
        .description(
          'where a promotion request stands; exit 4 rejected or withdrawn, 6 rolled back',
        )
        .argument('<id>', 'the promotion request'),
      'it is no longer pending (approved, or closed)',
    ),
  ).action((id: string, options: PromotionStatusOptions) => promotionStatus(id, options));

  withRemoteOptions(
    promotion
      .command('withdraw')
      .description('take back an open request you made (the requester only)')
      .argument('<id>', 'the promotion request'),
  ).action((id: string, options: RemoteOptions) => promotionWithdraw(id, options));

  const rollout = program.command('rollout').description('rollouts');
  withRemoteOptions(
    rollout
      .command('start')
      .description('start the rollout of an approved promotion; exit 3 when the gates refuse it')
      .argument('<promotion-id>', 'the approved promotion request'),
  ).action((id: string, options: RolloutStatusOptions) => rolloutStart(id, options));
  withRemoteOptions(
    withWaitOptions(
      rollout
        .command('status')
        .description('where a rollout stands; exit 6 rolled back, 1 failed')
        .argument('<id>', 'the rollout, or its promotion request')
        .option('--follow', 'print a line each time the rollout moves'),
      'it completes, rolls back or fails',
    ),
  ).action((id: string, options: RolloutStatusOptions) => rolloutStatus(id, options));

  withRemoteOptions(
    program
      .command('report')
      .description('audit reports')
      .command('export')
      .description('export a signed audit report and save it')
      .argument(
        '<id>',
        'a promotion or rollout id, or a report subject such as model:credit-risk@2',
      )
      .option('--format <format>', 'pdf, json or csv (default: from the file name, else json)')
      .requiredOption('-o, --output <file>', 'where to save it; - for standard output'),
  ).action((id: string, options: ReportExportOptions) => reportExport(id, options));

  const edge = program.command('edge').description('on-device deployment');
  withRemoteOptions(
    edge
      .command('bundle')
      .description(
        'download the signed bundle of an endpoint’s live version, verify it, and save it',
      )
      .requiredOption('--endpoint <name>', 'the endpoint whose live version to bundle')
      .option(
        '-o, --output <file>',
        'where to save it (default: <endpoint>-<model>-<version>.edge.tar); - for standard output',
      )
      .option('--jwks <file>', 'verify against this JWK set instead of the service’s')
      .option('--device <id>', 'the bundle this device gets while a rollout is in flight'),
  ).action((options: EdgeBundleOptions) => edgeBundle(options));

  withRemoteOptions(
    edge
      .command('sync')
      .description(
        'upload the device log records the service has not accepted yet (the device is the token’s sub)',
      )
      .requiredOption('--log <file>', 'the device log written by edge serve')
      .requiredOption('--endpoint <name>', 'the endpoint the log is of'),
  ).action((options: EdgeSyncOptions) => edgeSync(options));

  edge
    .command('serve')
    .description(
      'serve a bundle’s model on this device (no database; no network to Gatehouse but the polls of --url), each prediction in the device log',
    )
    .argument('<bundle>', 'the bundle file (gatehouse edge bundle)')
    .requiredOption(
      '--jwks <file>',
      'the JWK set the bundle must verify against, pinned on the device',
    )
    .option('--port <port>', 'the port to answer on (0: any free one)', portOption, 8080)
    .option('--host <host>', 'the address to answer on', '127.0.0.1')
    .option('--log <file>', 'the device log (default: <endpoint>.device-log.ndjson here)')
    .option('--device <id>', 'this device’s id, the sub of its token (default: the host name)')
    .option(
      '--url <url>',
      'poll this Gatehouse service for the device’s bundle and serve each newer one (default: never ask)',
    )
    .option(
      '--poll-interval <duration>',
      'with --url, the time between polls (default 60s)',
      durationOption,
      60,
    )
    .option(
      '--token-file <file>',
      'with --url, a file holding the device’s token, read when GATEHOUSE_TOKEN is unset (default: GATEHOUSE_TOKEN_FILE, else the stored gatehouse login)',
    )
    .action(async (bundle: string, options: EdgeServeOptions) =>
      (await import('./commands/edge-serve.js')).edgeServe(bundle, options),
    );

  withRemoteOptions(
    program
      .command('import')
      .description('models from other tools')
      .command('mlflow')
      .description('register the ONNX flavor of an MLflow model as a version of a registered model')
      .argument('<dir>', 'the MLflow model directory (holding MLmodel)')
      .requiredOption('--model <name>', 'the registered model it is a version of')
      .option('--task <task>', 'binary_classification or regression', 'binary_classification')
      .option(
        '--feature-columns <columns>',
        'comma-separated; default: the signature’s input columns',
      )
      .option('--description <text>', 'what changed in this version'),
  ).action((dir: string, options: ImportMlflowOptions) => importMlflow(dir, options));
}
