import { readFileSync } from 'node:fs';
import { CredentialsError } from './credentials-error.js';
import {
  loginFilePath,
  readLoginFile,
  withLoginLock,
  writeLoginFile,
  type StoredLogin,
} from './login-file.js';

export { CredentialsError } from './credentials-error.js';

export interface CredentialOptions {
  /** `--token-file`: a file holding the bearer token (a mounted secret, say). */
  readonly tokenFile?: string | undefined;
}

/**
 * An access token this close to its expiry is refreshed before use: it could expire on the way,
 * or at a service whose clock runs ahead.
 */
const REFRESH_MARGIN_MS = 30_000;

/**
 * The bearer token a client verb sends: `GATEHOUSE_TOKEN`, else the file named by
 * `--token-file` or `GATEHOUSE_TOKEN_FILE`, else the login `gatehouse login` stored, refreshed
 * first when it has expired. The explicit sources come first: the environment is how a CI
 * system hands a job its secret, and a token named for one run must win over a person's
 * standing login on the same machine, which would otherwise act, and be ledgered, as them.
 */
export async function bearerToken(
  options: CredentialOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const fromEnv = env['GATEHOUSE_TOKEN']?.trim();
  if (fromEnv) return fromEnv;
  const file = options.tokenFile ?? env['GATEHOUSE_TOKEN_FILE'];
  if (file !== undefined && file !== '') return tokenOfFile(file);
  const loginFile = loginFilePath(env);
  const login = readLoginFile(loginFile);
  if (login === undefined)
    throw new CredentialsError(
      'no token: run gatehouse login, set GATEHOUSE_TOKEN, or name a file holding one with --token-file or GATEHOUSE_TOKEN_FILE',
    );
  if (!expiresSoon(login, new Date())) return login.accessToken;
  return withLoginLock(loginFile, async () => {
    // Another command may have refreshed it while this one waited for the lock.
    const current = readLoginFile(loginFile);
    if (current === undefined)
      throw new CredentialsError('the login was removed: run gatehouse login');
    if (!expiresSoon(current, new Date())) return current.accessToken;
    // Loaded only to refresh: most commands never need the OpenID client.
    const { refreshStoredLogin } = await import('./oidc-login.js');
    const refreshed = await refreshStoredLogin(current, () => new Date());
    writeLoginFile(loginFile, refreshed);
    return refreshed.accessToken;
  });
}

function expiresSoon(login: StoredLogin, now: Date): boolean {
  if (login.expiresAt === undefined) return false;
  return Date.parse(login.expiresAt) - now.getTime() <= REFRESH_MARGIN_MS;
}

function tokenOfFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CredentialsError(
      `token file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
  const token = text.trim();
  if (token === '') throw new CredentialsError(`token file ${file} is empty`);
  if (/\s/.test(token)) throw new CredentialsError(`token file ${file} holds more than one word`);
  return token;
}
