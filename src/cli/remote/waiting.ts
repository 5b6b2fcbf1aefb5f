import { InvalidArgumentError } from 'commander';
import { parseDurationSeconds } from '../../common/duration.js';

/** `--timeout` and `--poll-interval` of the verbs that wait. */
export interface WaitOptions {
  readonly wait?: boolean;
  readonly timeout?: number;
  readonly pollInterval?: number;
}

/** Approval takes people: an hour before a pipeline gives up, unless told otherwise. */
export const DEFAULT_TIMEOUT_SECONDS = 3600;
export const DEFAULT_POLL_SECONDS = 2;

/** A commander parser for `--timeout 30m`. */
export function durationOption(value: string): number {
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined)
    throw new InvalidArgumentError('expected a duration such as 90s, 30m, 2h');
  return seconds;
}

/** A commander parser for `--poll-interval 0.5` (seconds, 0.05 to 60). */
export function pollOption(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || seconds < 0.05 || seconds > 60)
    throw new InvalidArgumentError('expected seconds from 0.05 to 60');
  return seconds;
}

/**
 * Reads `read` until `settled` says the thing has reached a state to report, or, with --wait,
 * until the timeout passes; without --wait, reads once. Returns the last reading and whether it
 * settled. The timeout counts from the first read, on the monotonic clock.
 */
export async function pollUntil<T>(
  options: WaitOptions,
  read: () => Promise<T>,
  settled: (value: T) => boolean,
  onRead: (value: T) => void = () => undefined,
): Promise<{ readonly value: T; readonly settled: boolean }> {
  const deadline = performance.now() + (options.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  const interval = (options.pollInterval ?? DEFAULT_POLL_SECONDS) * 1000;
  for (;;) {
    const value = await read();
    onRead(value);
    if (settled(value)) return { value, settled: true };
    if (options.wait !== true || performance.now() + interval > deadline)
      return { value, settled: false };
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
