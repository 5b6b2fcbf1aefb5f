import type { Command } from 'commander';
import type { LoginOptions } from './commands/login.js';

/**
 * `gatehouse login` and `gatehouse logout` (docs/pipelines.md, "Signing in from a terminal"),
 * their module loaded when they run, as the other commands' are.
 */
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
      'the scopes to ask for (default: GATEHOUSE_OIDC_SCOPE, else "openid offline_access")',
    )
    .option(
      '--resource <uri>',
      'the Gatehouse API as an RFC 8707 resource indicator, for a provider that issues JWT access tokens per resource (default: GATEHOUSE_OIDC_RESOURCE)',
    )
    .option(
      '--audience <audience>',
      'the same for a provider that takes an audience parameter instead (default: GATEHOUSE_OIDC_AUDIENCE)',
    )
    .action(async (options: LoginOptions) => (await import('./commands/login.js')).login(options));

  program
    .command('logout')
    .description('delete the stored login and revoke its refresh token at the provider')
    .action(async () => (await import('./commands/login.js')).logout());
}
