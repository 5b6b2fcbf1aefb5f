import {
  existsSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  unlinkSync,
} from 'node:fs';
import { basename, join } from 'node:path';

/** What was cleared before a start, for the log. */
export interface ClearedLeftovers {
  /** Server processes of a dead postmaster that were still running, now killed. */
  readonly killedPids: readonly number[];
  /** Whether a postmaster.pid naming a live process that is no server of ours was removed. */
  readonly removedLockFile: boolean;
}

/**
 * Clears what a postmaster that died without shutting down leaves behind, so that PostgreSQL
 * will start on the cluster again and do its own crash recovery (WAL replay) there.
 *
 * - `killServers` (after our own postmaster died): its backends and helpers outlive it for a
 *   while (a backend notices only between statements). PostgreSQL refuses to start while any
 *   of them is still attached to the old shared memory ("pre-existing shared memory block is
 *   still in use") and asks for them to be terminated: we kill them, as a postmaster itself
 *   kills its children when one crashes. Not before the first start: a server already running
 *   on the cluster there is someone else's, and PostgreSQL's refusal names it.
 * - postmaster.pid is left in place when the pid in it is dead: PostgreSQL removes it itself,
 *   and first uses the shared-memory key in it to check for the leftovers above. It is removed
 *   only when that pid now belongs to a live process that is no PostgreSQL server of this
 *   cluster (a pid reused, typical in a restarted container), with none of its servers left:
 *   PostgreSQL would take that process for a running server and refuse to start for ever.
 *
 * Processes are told apart through /proc, so on Linux only; elsewhere nothing is cleared, and
 * PostgreSQL's refusal is logged and retried.
 */
export function clearLeftovers(
  clusterDir: string,
  options: { killServers: boolean },
): ClearedLeftovers {
  const nothing: ClearedLeftovers = { killedPids: [], removedLockFile: false };
  if (!existsSync('/proc/self/cwd') || !existsSync(clusterDir)) return nothing;
  const cluster = realpathSync(clusterDir);
  let servers = serverPids(cluster);
  const killedPids = options.killServers ? servers : [];
  for (const pid of killedPids) signal(pid, 'SIGKILL');
  if (killedPids.length > 0) servers = serverPids(cluster);
  const lockPid = lockFilePid(clusterDir);
  if (
    servers.length > 0 ||
    lockPid === null ||
    !signal(lockPid, 0) ||
    serverOf(lockPid, cluster) !== false
  ) {
    return { ...nothing, killedPids };
  }
  unlinkSync(join(clusterDir, 'postmaster.pid'));
  return { killedPids, removedLockFile: true };
}

/** The postmaster pid that the cluster's postmaster.pid names (its first line), if any. */
export function lockFilePid(clusterDir: string): number | null {
  let text: string;
  try {
    text = readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.split('\n', 1)[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Running PostgreSQL server processes of the cluster (whose real path is `cluster`). */
function serverPids(cluster: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => serverOf(pid, cluster) === true);
}

/**
 * Whether a process is a PostgreSQL server of the cluster: every server process changes its
 * working directory to its cluster. Null when that cannot be told (gone meanwhile, another
 * user's process we may not inspect, a zombie — which holds no shared memory any more).
 */
function serverOf(pid: number, cluster: string): boolean | null {
  try {
    return (
      readlinkSync(`/proc/${pid}/cwd`) === cluster &&
      basename(readlinkSync(`/proc/${pid}/exe`)) === 'postgres'
    );
  } catch {
    return null;
  }
}

/** Sends a signal; whether the process exists (signal 0 only asks). */
function signal(pid: number, name: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
