/**
 * `gatehouse login` and `gatehouse logout`: a person at a terminal signs in at the identity
 * provider the service trusts with the OAuth device authorization grant (RFC 8628), and the
 * client verbs then use that login (src/cli/remote/credentials.ts).
 */
import * as client from 'openid-client';
import { ConfigError } from '../../config/config.js';
import { EXIT } from '../exit.js';
import {
  deleteLoginFile,
  loginFilePath,
  readLoginFile,
  withLoginLock,
  writeLoginFile,
  type StoredLogin,
} from '../remote/login-file.js';
import {
  describe,
  discoverProvider,
  issuerFault,
  storedLoginOf,
  tokenParameters,
  type LoginRequest,
} from '../remote/oidc-login.js';

export interface LoginOptions {
  readonly issuer?: string;
  readonly clientId?: string;
  readonly scope?: string;
  readonly resource?: string;
  readonly audience?: string;
}

const DEFAULT_SCOPE = 'openid offline_access';

/** The exit status of an interrupted command, as shells report one stopped by SIGINT. */
const INTERRUPTED = 130;

/** A login that ended without tokens, with the status the command exits with. */
class LoginFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'LoginFailed';
  }
}

/** The request from the options, each falling back to its environment variable. */
export function loginRequestOf(options: LoginOptions, env: NodeJS.ProcessEnv): LoginRequest {
  const pick = (value: string | undefined, variable: string): string | undefined => {
    const v = value ?? env[variable];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const issuer = pick(options.issuer, 'GATEHOUSE_OIDC_ISSUER');
  if (issuer === undefined)
    throw new ConfigError(
      '--issuer',
      'the provider’s issuer URL (or GATEHOUSE_OIDC_ISSUER)',
      undefined,
    );
  const fault = issuerFault(issuer);
  if (fault !== undefined) throw new ConfigError('--issuer', fault, issuer);
  const clientId = pick(options.clientId, 'GATEHOUSE_OIDC_CLIENT_ID');
  if (clientId === undefined)
    throw new ConfigError(
      '--client-id',
      'the command’s client id at the provider (or GATEHOUSE_OIDC_CLIENT_ID)',
      undefined,
    );
  const resource = pick(options.resource, 'GATEHOUSE_OIDC_RESOURCE');
  if (resource !== undefined && !URL.canParse(resource))
    throw new ConfigError(
      '--resource',
      'an absolute URI (RFC 8707), e.g. https://gatehouse.example.com',
      resource,
    );
  return {
    issuer,
    clientId,
    scope: pick(options.scope, 'GATEHOUSE_OIDC_SCOPE') ?? DEFAULT_SCOPE,
    resource,
    audience: pick(options.audience, 'GATEHOUSE_OIDC_AUDIENCE'),
  };
}

export async function login(
  options: LoginOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  try {
    await deviceLogin(loginRequestOf(options, env), loginFilePath(env));
  } catch (error) {
    if (!(error instanceof LoginFailed)) throw error;
    process.stderr.write(`gatehouse: ${error.message}\n`);
    // Polling sleeps in steps of up to five seconds; an interrupted login does not wait them out.
    if (error.exitCode === INTERRUPTED) process.exit(INTERRUPTED);
    process.exitCode = error.exitCode;
  }
}

async function deviceLogin(request: LoginRequest, file: string): Promise<void> {
  const configuration = await discoverProvider(request.issuer, request.clientId);
  if (configuration.serverMetadata().device_authorization_endpoint === undefined)
    throw new LoginFailed(
      `the provider at ${request.issuer} does not offer the device flow (its discovery document has no device_authorization_endpoint): ` +
        'use GATEHOUSE_TOKEN or --token-file with a token from it instead',
      EXIT.usage,
    );
  let authorization: client.DeviceAuthorizationResponse;
  try {
    authorization = await client.initiateDeviceAuthorization(configuration, {
      scope: request.scope,
      ...tokenParameters(request),
    });
  } catch (error) {
    throw refusal(error, 'the provider refused to start the login');
  }
  const tokens = await awaitConfirmation(configuration, request, authorization);
  const stored = storedLoginOf(request, tokens, new Date());
  await withLoginLock(file, () => {
    writeLoginFile(file, stored);
  });
  const subject = tokens.claims()?.sub;
  const who = subject === undefined ? '' : ` as ${printable(subject)}`;
  process.stderr.write(
    `Signed in${who} at ${request.issuer}; the login is kept in ${file}.\n${noRefreshNote(request, stored)}`,
  );
}

/** Without a refresh token the login lasts as long as its access token: said, with why. */
function noRefreshNote(request: LoginRequest, stored: StoredLogin): string {
  if (stored.refreshToken !== undefined) return '';
  const ask = request.scope.split(' ').includes('offline_access')
    ? ''
    : ' (ask for offline_access with --scope)';
  const until = stored.expiresAt === undefined ? '' : ` (${stored.expiresAt})`;
  return `The provider gave no refresh token${ask}: run gatehouse login again when the login expires${until}.\n`;
}

/**
 * Shows the person where to confirm, then polls the token endpoint as the provider says (its
 * interval, five seconds longer after each slow_down: openid-client does this) until the
 * person confirms or refuses, the code expires, or Ctrl-C.
 */
async function awaitConfirmation(
  configuration: client.Configuration,
  request: LoginRequest,
  authorization: client.DeviceAuthorizationResponse,
): Promise<Awaited<ReturnType<typeof client.pollDeviceAuthorizationGrant>>> {
  const interrupt = new AbortController();
  const onInterrupt = (): void => {
    interrupt.abort();
  };
  process.once('SIGINT', onInterrupt);
  process.stderr.write(instructions(authorization));
  const interrupted = new Promise<never>((_, reject) => {
    interrupt.signal.addEventListener('abort', () => {
      reject(new LoginFailed('login interrupted; nothing was stored', INTERRUPTED));
    });
  });
  const polling = client.pollDeviceAuthorizationGrant(
    configuration,
    authorization,
    tokenParameters(request),
    {
      signal: AbortSignal.any([
        interrupt.signal,
        AbortSignal.timeout(authorization.expires_in * 1000),
      ]),
    },
  );
  polling.catch(() => undefined); // when interrupted, its own rejection comes later and means nothing
  try {
    return await Promise.race([polling, interrupted]);
  } catch (error) {
    if (error instanceof LoginFailed) throw error;
    if (error instanceof client.ClientError && error.code === 'OAUTH_TIMEOUT')
      throw new LoginFailed(
        'the code expired before the sign-in was confirmed: run gatehouse login again',
        EXIT.failed,
      );
    if (error instanceof client.ResponseBodyError && error.error === 'expired_token')
      throw new LoginFailed(
        'the code expired before the sign-in was confirmed: run gatehouse login again',
        EXIT.failed,
      );
    if (error instanceof client.ResponseBodyError && error.error === 'access_denied')
      throw new LoginFailed(
        'the sign-in was refused at the provider (access_denied); nothing was stored',
        EXIT.failed,
      );
    throw refusal(error, 'the provider refused the login');
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

/**
 * The provider's OAuth error as a failed login: a client, scope or resource it does not know is
 * an option to fix (2), anything else a failure (1).
 */
function refusal(error: unknown, what: string): Error {
  if (!(error instanceof client.ResponseBodyError))
    return error instanceof Error ? error : new Error(String(error));
  const usage = [
    'invalid_client',
    'unauthorized_client',
    'invalid_scope',
    'invalid_target',
  ].includes(error.error);
  const description =
    error.error_description === undefined ? '' : `: ${printable(error.error_description)}`;
  return new LoginFailed(
    `${what}: ${printable(error.error)}${description}`,
    usage ? EXIT.usage : EXIT.failed,
  );
}

/**
 * Where to go and what to check, for stderr: stdout stays free for a script. The URI and code
 * come from the provider and are shown only as a URL and printable characters, so that they
 * cannot carry terminal control sequences.
 */
export function instructions(authorization: client.DeviceAuthorizationResponse): string {
  const code = printable(authorization.user_code);
  const complete = authorization.verification_uri_complete;
  if (complete !== undefined && URL.canParse(complete))
    return (
      `To sign in, open ${new URL(complete).href}\n` +
      `and check that it shows the code ${code}.\n` +
      'Waiting for the sign-in (Ctrl-C to stop)…\n'
    );
  const uri = URL.canParse(authorization.verification_uri)
    ? new URL(authorization.verification_uri).href
    : printable(authorization.verification_uri);
  return (
    `To sign in, open ${uri}\n` +
    `and enter the code ${code}.\n` +
    'Waiting for the sign-in (Ctrl-C to stop)…\n'
  );
}

function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/**
 * Deletes the stored login, then asks the provider to revoke its refresh token (RFC 7009) where
 * it offers revocation: a copy of the file, taken before, is then worth nothing once its access
 * token expires. The local deletion is what matters; a revocation that fails is reported, not
 * fatal.
 */
export async function logout(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const file = loginFilePath(env);
  let stored: StoredLogin | undefined;
  try {
    stored = readLoginFile(file);
  } catch {
    stored = undefined; // unreadable or unsafe: deleted all the same, nothing to revoke
  }
  const deleted = await withLoginLock(file, () => deleteLoginFile(file));
  if (!deleted) {
    process.stderr.write(`Not signed in (no login at ${file}).\n`);
    return;
  }
  process.stderr.write(`Signed out: deleted ${file}.\n`);
  if (stored?.refreshToken === undefined) return;
  try {
    const configuration = await discoverProvider(stored.issuer, stored.clientId);
    if (configuration.serverMetadata().revocation_endpoint === undefined) return;
    await client.tokenRevocation(configuration, stored.refreshToken, {
      token_type_hint: 'refresh_token',
    });
    process.stderr.write(`The provider at ${stored.issuer} revoked the refresh token.\n`);
  } catch (error) {
    process.stderr.write(
      `gatehouse: the refresh token could not be revoked at ${stored.issuer}: ${describe(error)}\n`,
    );
  }
}
