import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearerToken, CredentialsError } from './credentials.js';
import { writeLoginFile, type StoredLogin } from './login-file.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-credentials-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const inAnHour = (): string => new Date(Date.now() + 3600_000).toISOString();

function storedLogin(name: string, changes: Partial<StoredLogin> = {}): string {
  const file = join(dir, name, 'credentials.json');
  writeLoginFile(file, {
    issuer: 'https://idp.example.com',
    clientId: 'gatehouse-cli',
    scope: 'openid offline_access',
    accessToken: 'from-the-login',
    expiresAt: inAnHour(),
    ...changes,
  });
  return file;
}

function tokenFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('bearerToken', () => {
  it('takes GATEHOUSE_TOKEN first, then the token file, then the stored login', async () => {
    const login = storedLogin('order');
    const file = tokenFile('order-token', 'from-the-file\n');
    const env = { GATEHOUSE_CREDENTIALS_FILE: login };
    expect(await bearerToken({ tokenFile: file }, { ...env, GATEHOUSE_TOKEN: ' from-env ' })).toBe(
      'from-env',
    );
    expect(await bearerToken({ tokenFile: file }, env)).toBe('from-the-file');
    expect(await bearerToken({}, { ...env, GATEHOUSE_TOKEN_FILE: file })).toBe('from-the-file');
    expect(await bearerToken({}, env)).toBe('from-the-login');
  });

  it('does not look at the stored login when a token is given, even one it would refuse', async () => {
    const login = storedLogin('unsafe-but-unused');
    chmodSync(login, 0o644);
    const env = { GATEHOUSE_CREDENTIALS_FILE: login };
    expect(await bearerToken({}, { ...env, GATEHOUSE_TOKEN: 't' })).toBe('t');
    await expect(bearerToken({}, env)).rejects.toThrow(CredentialsError);
  });

  it('uses a login whose expiry is unknown as it is', async () => {
    const login = storedLogin('no-expiry', { expiresAt: undefined });
    expect(await bearerToken({}, { GATEHOUSE_CREDENTIALS_FILE: login })).toBe('from-the-login');
  });

  it('says to log in when there is no token and no login', async () => {
    await expect(
      bearerToken({}, { GATEHOUSE_CREDENTIALS_FILE: join(dir, 'nobody', 'credentials.json') }),
    ).rejects.toThrow(
      new CredentialsError(
        'no token: run gatehouse login, set GATEHOUSE_TOKEN, or name a file holding one with --token-file or GATEHOUSE_TOKEN_FILE',
      ),
    );
  });

  it('says the login has expired when it has and there is no refresh token', async () => {
    for (const [name, expiresAt] of [
      ['expired', new Date(Date.now() - 1000).toISOString()],
      ['expiring', new Date(Date.now() + 10_000).toISOString()],
    ] as const) {
      const login = storedLogin(name, { expiresAt });
      await expect(bearerToken({}, { GATEHOUSE_CREDENTIALS_FILE: login })).rejects.toThrow(
        new CredentialsError('the login has expired: run gatehouse login'),
      );
    }
  });

  it('names the token file that cannot be used', async () => {
    await expect(bearerToken({ tokenFile: join(dir, 'absent') }, {})).rejects.toThrow(
      `token file ${join(dir, 'absent')}: ENOENT`,
    );
    await expect(bearerToken({ tokenFile: tokenFile('blank', ' \n') }, {})).rejects.toThrow(
      'is empty',
    );
  });
});
