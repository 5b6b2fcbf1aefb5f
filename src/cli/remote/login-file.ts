import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CredentialsError } from './credentials-error.js';

/** What `gatehouse login` keeps: the tokens, and what is needed to refresh them. */
export interface StoredLogin {
  readonly issuer: string;
  readonly clientId: string;
  readonly scope: string;
  /** Asked for again with every refresh, so that a new access token has the same audience. */
  readonly resource?: string | undefined;
  readonly audience?: string | undefined;
  readonly accessToken: string;
  /** When the access token stops being accepted; unset when the provider did not say. */
  readonly expiresAt?: string | undefined;
  readonly refreshToken?: string | undefined;
}

const FORMAT_VERSION = 1;

/**
 * `GATEHOUSE_CREDENTIALS_FILE`, else `credentials.json` in `gatehouse/` under the XDG
 * configuration folder (`$XDG_CONFIG_HOME`, or `~/.config`). The XDG specification says to
 * ignore a relative `XDG_CONFIG_HOME`.
 */
export function loginFilePath(env: NodeJS.ProcessEnv): string {
  const named = env['GATEHOUSE_CREDENTIALS_FILE'];
  if (named !== undefined && named !== '') return named;
  const xdg = env['XDG_CONFIG_HOME'];
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.config');
  return join(base, 'gatehouse', 'credentials.json');
}

/**
 * Why a credentials file may not be used, as ssh judges a private key: it must be a regular
 * file of the user's own that no one else may read or write. `uid` is the reader's (unset where
 * the platform has none, and then only the mode is looked at).
 */
export function privacyFault(
  stat: Pick<Stats, 'mode' | 'uid' | 'isFile'>,
  file: string,
  uid: number | undefined,
): string | undefined {
  if (!stat.isFile()) return `credentials file ${file} is not a regular file`;
  if (uid !== undefined && stat.uid !== uid)
    return `credentials file ${file} belongs to another user (uid ${String(stat.uid)})`;
  const permissions = stat.mode & 0o777;
  if ((permissions & 0o077) !== 0)
    return (
      `permissions ${permissions.toString(8).padStart(4, '0')} on credentials file ${file} are too open: ` +
      `it holds your login and must be readable by you alone (chmod 600 ${file}, or run gatehouse logout and log in again)`
    );
  return undefined;
}

/** The stored login, or undefined when there is no file. */
export function readLoginFile(file: string): StoredLogin | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new CredentialsError(`credentials file ${file}: ${code ?? 'unreadable'}`);
  }
  try {
    // The open file is judged, not the path: nothing can be swapped in between.
    const fault =
      process.platform === 'win32'
        ? undefined
        : privacyFault(fstatSync(fd), file, process.getuid?.());
    if (fault !== undefined) throw new CredentialsError(fault);
    return parseStoredLogin(readFileSync(fd, 'utf8'), file);
  } finally {
    closeSync(fd);
  }
}

/** A credentials file's text as a login; anything else is refused naming the field. */
export function parseStoredLogin(text: string, file: string): StoredLogin {
  const refuse = (what: string): CredentialsError =>
    new CredentialsError(`credentials file ${file}: ${what}; run gatehouse login again`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw refuse('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw refuse('not a JSON object');
  const record = value as Record<string, unknown>;
  if (record['version'] !== FORMAT_VERSION)
    throw refuse(`version: expected ${String(FORMAT_VERSION)}`);
  const optional = (field: string, word = false): string | undefined => {
    const v = record[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw refuse(`${field}: expected a non-empty string`);
    if (word && /\s/.test(v)) throw refuse(`${field}: expected one word`);
    return v;
  };
  const required = (field: string, word = false): string => {
    const v = optional(field, word);
    if (v === undefined) throw refuse(`${field}: missing`);
    return v;
  };
  const issuer = required('issuer');
  if (!URL.canParse(issuer)) throw refuse('issuer: expected a URL');
  const expiresAt = optional('expiresAt');
  if (expiresAt !== undefined && Number.isNaN(Date.parse(expiresAt)))
    throw refuse('expiresAt: expected a date and time (ISO 8601)');
  return {
    issuer,
    clientId: required('clientId'),
    scope: required('scope'),
    resource: optional('resource'),
    audience: optional('audience'),
    accessToken: required('accessToken', true),
    expiresAt,
    refreshToken: optional('refreshToken', true),
  };
}

/**
 * Writes the login readable by its owner alone (0600, its folder 0700 when made here), through
 * a temporary file renamed over the old one: a reader sees the old login or the new, never half
 * of one, and a crash leaves the old one in place.
 */
export function writeLoginFile(file: string, login: StoredLogin): void {
  const folder = dirname(file);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const temporary = join(folder, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeFileSync(fd, `${JSON.stringify({ version: FORMAT_VERSION, ...login }, null, 2)}\n`);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, file);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Deletes the stored login; false when there was none. */
export function deleteLoginFile(file: string): boolean {
  try {
    unlinkSync(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

const LOCK_WAIT_MS = 60_000;
const LOCK_STALE_MS = 120_000;
const LOCK_RETRY_MS = 50;

/**
 * Runs `work` while holding `<file>.lock`, so that two commands never refresh the same login at
 * once: a provider that rotates refresh tokens takes the second use of one as theft and revokes
 * the whole login. The lock holds its owner's pid; a lock whose process is gone, or older than
 * two minutes, is taken over.
 */
export async function withLoginLock<T>(file: string, work: () => T | Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST')
        throw new CredentialsError(`credentials lock ${lock}: ${code ?? 'unwritable'}`);
    }
    if (isStale(lock)) {
      rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new CredentialsError(
        `${lock} is held by another gatehouse command; delete it if none is running`,
      );
    await sleep(LOCK_RETRY_MS);
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

function isStale(lock: string): boolean {
  try {
    if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) return true;
    const pid = Number(readFileSync(lock, 'utf8'));
    if (!Number.isSafeInteger(pid) || pid <= 0) return false; // being written: not yet
    process.kill(pid, 0);
    return false;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ESRCH: no such process. ENOENT: released meanwhile, so try again at once.
    return code === 'ESRCH' || code === 'ENOENT';
  }
}
