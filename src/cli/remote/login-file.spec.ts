import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CredentialsError } from './credentials-error.js';
import {
  deleteLoginFile,
  loginFilePath,
  parseStoredLogin,
  privacyFault,
  readLoginFile,
  withLoginLock,
  writeLoginFile,
  type StoredLogin,
} from './login-file.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-login-file-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const LOGIN: StoredLogin = {
  issuer: 'https://idp.example.com',
  clientId: 'gatehouse-cli',
  scope: 'openid offline_access',
  resource: 'https://gatehouse.example.com',
  accessToken: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln',
  expiresAt: '2026-12-01T10:00:00.000Z',
  refreshToken: 'refresh-1',
};

describe('loginFilePath', () => {
  it('is GATEHOUSE_CREDENTIALS_FILE when set', () => {
    expect(
      loginFilePath({ GATEHOUSE_CREDENTIALS_FILE: '/run/me/creds.json', XDG_CONFIG_HOME: '/x' }),
    ).toBe('/run/me/creds.json');
  });
  it('is under XDG_CONFIG_HOME, else ~/.config; a relative XDG_CONFIG_HOME is ignored', () => {
    expect(loginFilePath({ XDG_CONFIG_HOME: '/home/a/cfg' })).toBe(
      '/home/a/cfg/gatehouse/credentials.json',
    );
    const fallback = join(homedir(), '.config', 'gatehouse', 'credentials.json');
    expect(loginFilePath({})).toBe(fallback);
    expect(loginFilePath({ XDG_CONFIG_HOME: 'cfg', GATEHOUSE_CREDENTIALS_FILE: '' })).toBe(
      fallback,
    );
  });
});

describe('privacyFault', () => {
  const file = '/home/a/.config/gatehouse/credentials.json';
  const stat = (mode: number, uid = 1000, isFile = true) => ({ mode, uid, isFile: () => isFile });
  it('accepts a regular file of the reader’s own, readable by them alone', () => {
    expect(privacyFault(stat(0o100600), file, 1000)).toBeUndefined();
    expect(privacyFault(stat(0o100400), file, 1000)).toBeUndefined();
    expect(privacyFault(stat(0o100600), file, undefined)).toBeUndefined();
  });
  it.each([
    ['0644', 0o100644],
    ['0640', 0o100640],
    ['0604', 0o100604],
    ['0620', 0o100620],
    ['0602', 0o100602],
    ['0660', 0o100660],
  ])('refuses mode %s, naming the fix', (octal, mode) => {
    expect(privacyFault(stat(mode), file, 1000)).toBe(
      `permissions ${octal} on credentials file ${file} are too open: it holds your login and must be readable by you alone (chmod 600 ${file}, or run gatehouse logout and log in again)`,
    );
  });
  it('refuses another user’s file and anything but a regular file', () => {
    expect(privacyFault(stat(0o100600, 0), file, 1000)).toBe(
      `credentials file ${file} belongs to another user (uid 0)`,
    );
    expect(privacyFault(stat(0o040700, 1000, false), file, 1000)).toBe(
      `credentials file ${file} is not a regular file`,
    );
  });
});

describe('parseStoredLogin', () => {
  const text = (value: unknown): string => JSON.stringify(value);
  it('reads what writeLoginFile writes, optional fields left out', () => {
    expect(parseStoredLogin(text({ version: 1, ...LOGIN }), 'f')).toEqual(LOGIN);
    const { issuer, clientId, scope, accessToken } = LOGIN;
    expect(
      parseStoredLogin(text({ version: 1, issuer, clientId, scope, accessToken }), 'f'),
    ).toEqual({
      issuer,
      clientId,
      scope,
      accessToken,
      resource: undefined,
      audience: undefined,
      expiresAt: undefined,
      refreshToken: undefined,
    });
  });
  const stored = (changes: Record<string, unknown>): string =>
    text({ version: 1, ...LOGIN, ...changes });
  it.each([
    ['broken JSON', '{', 'not JSON'],
    ['an array', '[]', 'not a JSON object'],
    ['no version', text({ ...LOGIN }), 'version: expected 1'],
    ['a later version', stored({ version: 2 }), 'version: expected 1'],
    ['an issuer that is no URL', stored({ issuer: 'idp' }), 'issuer: expected a URL'],
    ['no client id', stored({ clientId: undefined }), 'clientId: missing'],
    [
      'an empty access token',
      stored({ accessToken: '' }),
      'accessToken: expected a non-empty string',
    ],
    [
      'an access token of two words',
      stored({ accessToken: 'a b' }),
      'accessToken: expected one word',
    ],
    [
      'a refresh token that is a number',
      stored({ refreshToken: 7 }),
      'refreshToken: expected a non-empty string',
    ],
    [
      'an expiry that is no date',
      stored({ expiresAt: 'soon' }),
      'expiresAt: expected a date and time (ISO 8601)',
    ],
  ])('refuses %s', (_case, input, reason) => {
    expect(() => parseStoredLogin(input, '/c.json')).toThrow(
      new CredentialsError(`credentials file /c.json: ${reason}; run gatehouse login again`),
    );
  });
});

describe('writeLoginFile and readLoginFile', () => {
  it('writes the file 0600 in a new folder 0700, replacing the old login whole and leaving no temporary file', () => {
    const folder = join(dir, 'new', 'gatehouse');
    const file = join(folder, 'credentials.json');
    expect(readLoginFile(file)).toBeUndefined();
    writeLoginFile(file, LOGIN);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(readLoginFile(file)).toEqual(LOGIN);
    const next = { ...LOGIN, accessToken: 'second', refreshToken: 'refresh-2' };
    writeLoginFile(file, next);
    expect(readLoginFile(file)).toEqual(next);
    expect(readdirSync(folder)).toEqual(['credentials.json']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 1 });
  });

  it('refuses to read a file others can read, naming it', () => {
    const file = join(dir, 'open.json');
    writeLoginFile(file, LOGIN);
    chmodSync(file, 0o644);
    expect(() => readLoginFile(file)).toThrow(
      `permissions 0644 on credentials file ${file} are too open`,
    );
    chmodSync(file, 0o600);
    expect(readLoginFile(file)).toEqual(LOGIN);
  });

  it('deletes the login, and says when there was none', () => {
    const file = join(dir, 'gone.json');
    writeFileSync(file, '{}', { mode: 0o600 });
    expect(deleteLoginFile(file)).toBe(true);
    expect(deleteLoginFile(file)).toBe(false);
  });
});

describe('withLoginLock', () => {
  it('lets one holder in at a time, and releases the lock after a failure', async () => {
    const file = join(dir, 'locked', 'credentials.json');
    const events: string[] = [];
    const hold = (name: string) =>
      withLoginLock(file, async () => {
        events.push(`${name} in`);
        await sleep(30);
        events.push(`${name} out`);
        return name;
      });
    expect(await Promise.all([hold('a'), hold('b'), hold('c')])).toEqual(['a', 'b', 'c']);
    for (let i = 0; i < events.length; i += 2)
      expect(events[i + 1]).toBe(events[i]?.replace('in', 'out'));
    await expect(
      withLoginLock(file, () => {
        throw new Error('refresh failed');
      }),
    ).rejects.toThrow('refresh failed');
    expect(await withLoginLock(file, () => 'again')).toBe('again');
    expect(() => statSync(`${file}.lock`)).toThrow();
  });

  it('takes over a lock whose process is gone', async () => {
    const file = join(dir, 'stale', 'credentials.json');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    await withLoginLock(file, () => undefined); // makes the folder
    writeFileSync(`${file}.lock`, gone.stdout.toString());
    const started = Date.now();
    expect(await withLoginLock(file, () => 'taken')).toBe('taken');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
