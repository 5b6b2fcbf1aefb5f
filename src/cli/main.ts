import 'reflect-metadata';
import { Command } from 'commander';
import { migrate } from './commands/migrate.js';
import { serve } from './commands/serve.js';
import { token, type TokenOptions } from './commands/token.js';
import { exitOnError } from './exit.js';

const program = new Command('gatehouse')
  .description('Deployment governance for machine-learning models')
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

program.command('serve').description('run the service (GraphQL, REST, inference)').action(serve);

program.command('migrate').description('apply pending database migrations').action(migrate);

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
  .action((options: TokenOptions) => token(options));

program.parseAsync(process.argv).catch(exitOnError);
