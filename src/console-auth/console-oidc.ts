import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import * as client from 'openid-client';
import { UnauthenticatedError } from '../auth/auth.errors.js';
import { identityOfClaims, type VerifiedIdentity } from '../auth/token-verifier.js';
import type { AuthConfig, ConsoleOidcConfig } from '../config/config.js';

/** What a sign-in keeps server-side while the browser is at the provider. */
export interface PendingSignIn {
  readonly state: string;
  readonly codeVerifier: string;
  readonly nonce: string;
}

/**
 * The console as an OpenID Connect client of the configured provider: authorization code with
 * PKCE (S256), a `state` bound to the browser and a `nonce` bound to the ID token. The ID token
 * is verified against the provider's keys and read as a bearer token is: the subject, and the
 * roles at GATEHOUSE_ROLES_CLAIM.
 */
export class ConsoleOidc {
  private configuration: Promise<client.Configuration> | undefined;
  private keys: JWTVerifyGetKey | undefined;

  constructor(
    private readonly oidc: ConsoleOidcConfig,
    private readonly auth: AuthConfig,
  ) {}

  async begin(): Promise<{ readonly url: URL; readonly pending: PendingSignIn }> {
    const configuration = await this.discovered();
    const pending: PendingSignIn = {
      state: client.randomState(),
      codeVerifier: client.randomPKCECodeVerifier(),
      nonce: client.randomNonce(),
    };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.oidc.redirectUrl,
      scope: 'openid',
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url, pending };
  }

  /** Redeems the code the provider sent back to `query` (the callback's query string). */
  async complete(query: string, pending: PendingSignIn): Promise<VerifiedIdentity> {
    const configuration = await this.discovered();
    const callback = new URL(this.oidc.redirectUrl);
    callback.search = query;
    let idToken: string | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      idToken = tokens.id_token;
    } catch (error) {
      throw new UnauthenticatedError(`the provider's answer was refused: ${messageOf(error)}`);
    }
    if (idToken === undefined) throw new UnauthenticatedError('the provider sent no ID token');
    const issuer = configuration.serverMetadata().issuer;
    try {
      const { payload } = await jwtVerify(idToken, this.providerKeys(configuration), {
        issuer,
        audience: this.oidc.clientId,
        algorithms: [...this.auth.algorithms],
        clockTolerance: this.auth.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      });
      return identityOfClaims(payload, this.auth.rolesClaim, issuer);
    } catch (error) {
      if (error instanceof UnauthenticatedError) throw error;
      throw new UnauthenticatedError(`the ID token was refused: ${messageOf(error)}`);
    }
  }

  /** Discovered on first use and kept; a failed discovery is tried again next time. */
  private discovered(): Promise<client.Configuration> {
    this.configuration ??= client
      .discovery(
        new URL(this.oidc.issuer),
        this.oidc.clientId,
        undefined,
        this.oidc.clientSecret === undefined
          ? client.None()
          : client.ClientSecretBasic(this.oidc.clientSecret),
        // Configuration allows a plain-http provider outside production only; openid-client
        // marks the switch deprecated to make it stand out, not because it is going away.
        this.oidc.issuer.startsWith('http:')
          ? // eslint-disable-next-line @typescript-eslint/no-deprecated
            { execute: [client.allowInsecureRequests] }
          : undefined,
      )
      .catch((error: unknown) => {
        this.configuration = undefined;
        throw error;
      });
    return this.configuration;
  }

  private providerKeys(configuration: client.Configuration): JWTVerifyGetKey {
    const jwksUri = configuration.serverMetadata().jwks_uri;
    if (jwksUri === undefined) throw new UnauthenticatedError('the provider publishes no keys');
    this.keys ??= createRemoteJWKSet(new URL(jwksUri), { cacheMaxAge: 10 * 60_000 });
    return this.keys;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
