import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import type { VerifyOptions } from './commands/ledger.js';
import type { DemoCommandOptions } from './commands/demo.js';
import type { TokenOptions } from './commands/token.js';
import type { VerifyReportOptions } from './commands/verify-report.js';
import type { WitnessKeyOptions, WitnessServeOptions } from './commands/witness.js';
import { registerClientVerbs } from './client-verbs.js';
import { exitOnError } from './exit.js';
import { registerLoginVerbs } from './login-verbs.js';

function integer(value: string): string {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return value;
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new InvalidArgumentError('expected 0 to 65535');
  return n;
}

// Each command's module is loaded when it runs: the service's take seconds to load, which a
// client verb in a pipeline step, or `--help`, should not pay.
const program = new Command('gatehouse')
  .description('Deployment governance for machine-learning models')
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

program
  .command('serve')
  .description('run the service (GraphQL, REST, inference)')
  .action(async () => (await import('./commands/serve.js')).serve());

program
  .command('migrate')
  .description('apply pending database migrations')
  .action(async () => (await import('./commands/migrate.js')).migrate());

program
  .command('demo')
  .description(
    'the governance story on German credit, end to end, against a Gatehouse started for it (embedded PostgreSQL)',
  )
  .option('--data-dir <dir>', 'where the service data goes (default: gatehouse-demo/<time>)')
  .option('--database-url <url>', 'a PostgreSQL server to use instead of the embedded one')
  .option(
    '--keep-serving',
    'afterwards, keep the service running with one request waiting for the compliance officer',
  )
  .option(
    '--port <port>',
    'with --keep-serving, the port to serve on (0: any free one)',
    port,
    3000,
  )
  .action(async (options: DemoCommandOptions) =>
    (await import('./commands/demo.js')).demo(options),
  );

program
  .command('token')
  .description('print a token from the local development issuer')
  .requiredOption('--sub <subject>', 'the subject (user name)')
  .option(
    '--role <role>',
    'a role; repeat for several',
    (role: string, all: string[]) => [...all, role],
    [],
  )
  .option('--ttl <duration>', 'lifetime, e.g. 15m, 1h, 7d', '1h')
  .action(async (options: TokenOptions) => (await import('./commands/token.js')).token(options));

const ledger = program.command('ledger').description('the audit ledger');
ledger
  .command('verify')
  .description(
    'recompute hashes, links, signatures and checkpoint roots; exit 1 naming the first failure',
  )
  .option('--from <seq>', 'first seq to check', integer)
  .option('--to <seq>', 'last seq to check', integer)
  .option('--json', 'print the report as JSON')
  .option(
    '--witnesses <file>',
    'check the ledger against these witnesses (the GATEHOUSE_WITNESSES format): a tree they cosigned must still be the ledger’s',
  )
  .option('--witness-quorum <n>', 'cosignatures that make a checkpoint witnessed (default: all)')
  .option('--offline', 'check only the cosignatures the ledger keeps; do not ask the witnesses')
  .action(async (options: VerifyOptions) =>
    (await import('./commands/ledger.js')).ledgerVerify(options),
  );
ledger
  .command('checkpoint')
  .description('make a signed checkpoint now')
  .action(async () => (await import('./commands/ledger.js')).ledgerCheckpoint());

program
  .command('keys')
  .description('ledger signing keys')
  .command('rotate')
  .description('rotate the ledger signing key (signed by the old key)')
  .option('--kid <kid>', 'rotate to this key, already present in GATEHOUSE_SIGNING_KEYS_DIR')
  .action(async (options: { kid?: string }) =>
    (await import('./commands/ledger.js')).keysRotate(options),
  );

program
  .command('verify-report')
  .description(
    'check an exported audit report offline: signature, events, proofs, figures; exit 1 naming what fails',
  )
  .argument('<file>', 'the JSON report')
  .option(
    '--jwks <file>',
    'the public keys to trust (from GET /.well-known/jwks.json); default: those in the report',
  )
  .option(
    '--witnesses <file>',
    'trust the witnesses of this file (the YAML of GATEHOUSE_WITNESSES; their URLs are not used)',
  )
  .option(
    '--witness-key <vkey>',
    'trust this witness cosignature key (type 0x04 vkey); repeatable',
    (value: string, previous: string[]) => [...previous, value],
    [] as string[],
  )
  .option(
    '--witness-quorum <n>',
    'how many trusted witnesses must have cosigned (default: all of them)',
    integer,
  )
  .option('--json', 'print the result as JSON')
  .action(async (file: string, options: VerifyReportOptions) =>
    (await import('./commands/verify-report.js')).verifyReportCommand(file, options),
  );

const witness = program
  .command('witness')
  .description(
    'a transparency-log witness (c2sp.org/tlog-witness): cosigns the checkpoints of logs it trusts',
  );
witness
  .command('serve')
  .description('serve add-checkpoint and the monitoring checkpoint; state in files, no database')
  .requiredOption('--config <file>', 'YAML or JSON: the cosigner name and the logs (origin, vkeys)')
  .requiredOption(
    '--state-dir <dir>',
    'where the cosigned checkpoints, the evidence and by default the key live',
  )
  .option(
    '--key-file <file>',
    'the Ed25519 key (PKCS#8 PEM); made when absent (default: <state-dir>/witness-key.pem)',
  )
  .option('--host <host>', 'the address to listen on', '127.0.0.1')
  .option('--port <port>', 'the port to listen on (0: any free one)', port, 7380)
  .option('--prefix <path>', 'the URL path the API is under, e.g. /witness', '')
  .action(async (options: WitnessServeOptions) =>
    (await import('./commands/witness.js')).witnessServe(options),
  );
witness
  .command('key')
  .description('print the witness’s cosignature verifier key (vkey), making the key when absent')
  .requiredOption('--config <file>', 'the witness configuration (for its name)')
  .requiredOption('--state-dir <dir>', 'the witness’s state folder')
  .option('--key-file <file>', 'the Ed25519 key (default: <state-dir>/witness-key.pem)')
  .action(async (options: WitnessKeyOptions) => {
    (await import('./commands/witness.js')).witnessKey(options);
  });

registerClientVerbs(program);

registerLoginVerbs(program);

program.parseAsync(process.argv).catch(exitOnError);
