import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time from /proc, in ticks of 10 ms (user + system). `stat` files put the command name
 * in parentheses; the fields counted from after it are stable.
 */
function ticksOf(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
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
