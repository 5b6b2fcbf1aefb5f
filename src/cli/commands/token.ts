import { issueDevToken, loadOrCreateDevIssuerKey } from '../../auth/dev-issuer.js';
import { ConfigError, loadConfig } from '../../config/config.js';
import { parseDurationSeconds } from '../../common/duration.js';

export interface TokenOptions {
  readonly sub: string;
  readonly role: string[];
  readonly ttl: string;
}

/** Prints a dev-issuer token, and nothing else, on stdout. */
export async function token(options: TokenOptions): Promise<void> {
  const config = loadConfig(process.env);
  if (!config.auth.devIssuer) {
    throw new ConfigError(
      'GATEHOUSE_DEV_ISSUER',
      'true to mint development tokens (it is off)',
      undefined,
    );
  }
  const ttlSeconds = parseDurationSeconds(options.ttl);
  if (ttlSeconds === undefined)
    throw new ConfigError('--ttl', 'a duration such as 900s, 15m, 1h or 7d', options.ttl);
  const key = await loadOrCreateDevIssuerKey(config.dataDir);
  const jwt = await issueDevToken(key, {
    sub: options.sub,
    roles: options.role,
    ttlSeconds,
    audience: config.auth.audience,
    rolesClaim: config.auth.rolesClaim,
  });
  process.stdout.write(`${jwt}\n`);
}
