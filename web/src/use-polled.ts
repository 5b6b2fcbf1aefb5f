import { useCallback, useEffect, useRef, useState } from 'react';
import { problemOf, type Problem } from './api/problem.js';
import type { Loaded } from './use-loaded.js';

export interface Polled<T> {
  readonly loaded: Loaded<T>;
  /** The last poll failed after an earlier one succeeded: what is shown may be out of date. */
  readonly stale: Problem | null;
  /** Shows this value now (a mutation's answer) and polls again from it. */
  readonly replace: (value: T) => void;
}

/**
 * Loads `load()`, then again every `intervalMs` (counted from the start of the previous read)
 * while `keepPolling(value)` holds; stops while the page is hidden and when unmounted, and
 * resumes at once when the page is shown again. A late answer to old keys is dropped.
 */
export function usePolled<T>(
  load: () => Promise<T>,
  keys: readonly unknown[],
  intervalMs: number,
  keepPolling: (value: T) => boolean,
): Polled<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [stale, setStale] = useState<Problem | null>(null);
  const [generation, setGeneration] = useState(0);
  const replacement = useRef<T | null>(null);
  const keep = useRef(keepPolling);
  keep.current = keepPolling;

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let reading = false;
    let done = false;
    let anyLoaded = false;

    const schedule = (startedAt: number): void => {
      if (!live || done || document.hidden) return;
      timer = setTimeout(tick, Math.max(0, intervalMs - (Date.now() - startedAt)));
    };
    const settle = (value: T, startedAt: number): void => {
      anyLoaded = true;
      setLoaded({ state: 'loaded', value });
      setStale(null);
      done = !keep.current(value);
      schedule(startedAt);
    };
    function tick(): void {
      timer = undefined;
      if (!live || reading || done || document.hidden) return;
      reading = true;
      const startedAt = Date.now();
      load().then(
        (value) => {
          reading = false;
          if (live) settle(value, startedAt);
        },
        (error: unknown) => {
          reading = false;
          if (!live) return;
          if (anyLoaded) setStale(problemOf(error));
          else setLoaded({ state: 'failed', problem: problemOf(error) });
          schedule(startedAt);
        },
      );
    }
    const shown = (): void => {
      if (document.hidden) {
        clearTimeout(timer);
        timer = undefined;
      } else if (timer === undefined) tick();
    };

    const given = replacement.current;
    replacement.current = null;
    if (given === null) {
      setLoaded({ state: 'loading' });
      tick();
    } else settle(given, Date.now());
    document.addEventListener('visibilitychange', shown);
    return () => {
      live = false;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', shown);
    };
    // `load` closes over exactly `keys`: the callers pass what it reads.
  }, [...keys, intervalMs, generation]);

  const replace = useCallback((value: T) => {
    replacement.current = value;
    setGeneration((g) => g + 1);
  }, []);
  return { loaded, stale, replace };
}
