import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time from /proc, in ticks of 10 ms (user + system). `stat` files put the command name
 * in parentheses; the fields counted from after it are stable.
 */
function ticksOf(statFile: string, reapedChildren = false): number {
  const fields = statFields(statFile);
  const own = Number(fields[11]) + Number(fields[12]);
  return reapedChildren ? own + Number(fields[13]) + Number(fields[14]) : own;
}

/** The fields of a `stat` file after the command name (state first). */
function statFields(statFile: string): string[] {
  const stat = readFileSync(statFile, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A process's CPU ticks, all its threads; 0 once it has gone. */
export function processTicks(pid: number): number {
  try {
    return ticksOf(`/proc/${pid}/stat`);
  } catch {
    return 0;
  }
}

/** The CPU ticks of a process's main thread (a Node.js process: its event loop). */
export function mainThreadTicks(pid: number): number {
  try {
    return ticksOf(`/proc/${pid}/task/${pid}/stat`);
  } catch {
    return 0;
  }
}

/** CPU ticks of each thread of a process, by thread id, with its name. */
export function threadTicks(pid: number): Map<string, { name: string; ticks: number }> {
  const threads = new Map<string, { name: string; ticks: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const file = `/proc/${pid}/task/${tid}/stat`;
      const stat = readFileSync(file, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      threads.set(tid, { name, ticks: ticksOf(file) });
    } catch {
      // the thread ended
    }
  }
  return threads;
}

/** Microseconds of CPU per item from a difference of ticks. */
export function microsPer(ticks: number, items: number): number {
  return (ticks * 10_000) / Math.max(1, items);
}

/**
 * CPU ticks of every process on the machine whose command is `command` (`postgres`: the
 * server and all its backends, whose work for the service is CPU the service's cores lose),
 * with those of their children that have exited (a backend whose connection closed is
 * counted by the postmaster that reaped it).
 */
export function commandTicks(command: string): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === command)
        ticks += ticksOf(`/proc/${pid}/stat`, true);
    } catch {
      // gone
    }
  }
  return ticks;
}

/**
 * A process's minor page faults so far (first touches of memory it was given). Each costs
 * the kernel some microseconds, many more on a virtual machine: a server that keeps
 * touching fresh memory pays for it on every request.
 */
export function minorFaults(pid: number): number {
  try {
    return Number(statFields(`/proc/${pid}/stat`)[7]);
  } catch {
    return 0;
  }
}
