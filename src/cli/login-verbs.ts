import type { Command } from 'commander';
import { DEFAULT_SCOPE, login, logout, type LoginOptions } from './commands/login.js';

/** `gatehouse login` and `gatehouse logout` (docs/security.md, "Signing in from a terminal"). */
export function registerLoginVerbs(program: Command): void {
  program
    .command('login')
    .description(
      'sign in at the identity provider from this terminal (OAuth device flow); the client verbs then use this login',
    )
    .option('--issuer <url>', 'the provider’s issuer URL (default: GATEHOUSE_OIDC_ISSUER)')
    .option(
      '--client-id <id>',
      'this command’s client at the provider (default: GATEHOUSE_OIDC_CLIENT_ID)',
    )
    .option(
      '--scope <scopes>',
      `the scopes to ask for (default: GATEHOUSE_OIDC_SCOPE, else "${DEFAULT_SCOPE}")`,
    )
    .option(
      '--resource <uri>',
      'the Gatehouse API as an RFC 8707 resource indicator, for a provider that issues JWT access tokens per resource (default: GATEHOUSE_OIDC_RESOURCE)',
    )
    .option(
      '--audience <audience>',
      'the same for a provider that takes an audience parameter instead (default: GATEHOUSE_OIDC_AUDIENCE)',
    )
    .action((options: LoginOptions) => login(options));

  program
    .command('logout')
    .description('delete the stored login and revoke its refresh token at the provider')
    .action(() => logout());
}
