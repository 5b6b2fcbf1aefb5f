import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { CredentialsError } from './credentials-error.js';
import type { StoredLogin } from './login-file.js';

/** What a login asks the provider for; kept with the tokens so that a refresh asks the same. */
export interface LoginRequest {
  readonly issuer: string;
  readonly clientId: string;
  readonly scope: string;
  /** RFC 8707 resource indicator: the API the access token is for (its `aud`). */
  readonly resource?: string | undefined;
  /** The same, for providers that take a non-standard `audience` parameter instead. */
  readonly audience?: string | undefined;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * What an issuer URL should have been, when it is refused: tokens travel to and from it, so https, except for a provider
 * on this machine (loopback), where plain http is how one tries things out.
 */
export function issuerFault(issuer: string): string | undefined {
  if (!URL.canParse(issuer)) return 'the provider’s issuer URL';
  const url = new URL(issuer);
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return 'an https URL (plain http only for a provider on this machine)';
}

/**
 * The provider's metadata by OpenID Connect discovery, for Gatehouse's command as a public
 * client: the command runs on people's machines and can keep no secret, so none is sent.
 */
export async function discoverProvider(
  issuer: string,
  clientId: string,
): Promise<client.Configuration> {
  const fault = issuerFault(issuer);
  if (fault !== undefined) throw new Error(`issuer ${issuer}: expected ${fault}`);
  try {
    return await client.discovery(
      new URL(issuer),
      clientId,
      undefined,
      client.None(),
      // issuerFault lets plain http through for loopback only; openid-client marks the switch
      // deprecated to make it stand out, not because it is going away.
      issuer.startsWith('http:')
        ? // eslint-disable-next-line @typescript-eslint/no-deprecated
          { execute: [client.allowInsecureRequests] }
        : undefined,
    );
  } catch (error) {
    throw new Error(`could not discover the provider at ${issuer}: ${describe(error)}`);
  }
}

/** The parameters sent with every token request of a login, so each token has the same audience. */
export function tokenParameters(request: LoginRequest): Record<string, string> {
  return {
    ...(request.resource === undefined ? {} : { resource: request.resource }),
    ...(request.audience === undefined ? {} : { audience: request.audience }),
  };
}

/**
 * The login to store from a token response. The expiry is the response's `expires_in`, else the
 * access token's own `exp` when it is a JWT. A refresh response without a refresh token means
 * the old one stays good (RFC 6749, section 6).
 */
export function storedLoginOf(
  request: LoginRequest,
  tokens: client.TokenEndpointResponse,
  now: Date,
  previous?: StoredLogin,
): StoredLogin {
  if (tokens.token_type.toLowerCase() !== 'bearer')
    throw new Error(
      `the provider issued a ${tokens.token_type} token; gatehouse sends bearer tokens`,
    );
  const expiresAt =
    tokens.expires_in !== undefined
      ? new Date(now.getTime() + tokens.expires_in * 1000)
      : expiryOfJwt(tokens.access_token);
  return {
    issuer: request.issuer,
    clientId: request.clientId,
    scope: request.scope,
    resource: request.resource,
    audience: request.audience,
    accessToken: tokens.access_token,
    expiresAt: expiresAt?.toISOString(),
    refreshToken: tokens.refresh_token ?? previous?.refreshToken,
  };
}

/**
 * A new access token for a stored login by the refresh grant. The provider's refusal (the
 * refresh token expired or was revoked) means a new login is needed, said so; a provider that
 * cannot be reached is a plain failure.
 */
export async function refreshStoredLogin(
  login: StoredLogin,
  now: () => Date,
): Promise<StoredLogin> {
  if (login.refreshToken === undefined)
    throw new CredentialsError('the login has expired: run gatehouse login');
  const configuration = await discoverProvider(login.issuer, login.clientId);
  try {
    const tokens = await client.refreshTokenGrant(
      configuration,
      login.refreshToken,
      tokenParameters(login),
    );
    return storedLoginOf(login, tokens, now(), login);
  } catch (error) {
    if (error instanceof client.ResponseBodyError)
      throw new CredentialsError(
        `the login has expired: run gatehouse login (the provider refused to refresh it: ${error.error})`,
      );
    throw new Error(
      `the login has expired and refreshing it at ${login.issuer} failed: ${describe(error)}`,
    );
  }
}

function expiryOfJwt(token: string): Date | undefined {
  try {
    const { exp } = decodeJwt(token);
    return exp === undefined ? undefined : new Date(exp * 1000);
  } catch {
    return undefined; // an opaque token: its lifetime is unknown
  }
}

/** An error's message with its cause's (openid-client wraps fetch's "fetch failed" reason). */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const inner = cause?.cause instanceof Error ? cause.cause : undefined;
  return [error.message, cause?.message, inner?.message]
    .filter((m): m is string => m !== undefined && m !== '')
    .join(': ');
}
