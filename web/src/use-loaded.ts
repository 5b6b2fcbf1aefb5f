import { useEffect, useState } from 'react';
import { problemOf, type Problem } from './api/problem.js';

export type Loaded<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'failed'; readonly problem: Problem }
  | { readonly state: 'loaded'; readonly value: T };

const LOADING = { state: 'loading' } as const;

/**
 * Loads `load()` again whenever one of `keys` changes; a late answer to old keys is dropped.
 * What was loaded for other keys is never returned: in the render that follows a change of
 * keys (before the new load has even started) it is `loading`, so that a page never shows old
 * rows under a heading that describes the new keys.
 */
export function useLoaded<T>(load: () => Promise<T>, keys: readonly unknown[]): Loaded<T> {
  const [loaded, setLoaded] = useState<{ keys: readonly unknown[]; result: Loaded<T> }>({
    keys,
    result: LOADING,
  });
  useEffect(() => {
    let live = true;
    setLoaded({ keys, result: LOADING });
    load().then(
      (value) => {
        if (live) setLoaded({ keys, result: { state: 'loaded', value } });
      },
      (error: unknown) => {
        if (live) setLoaded({ keys, result: { state: 'failed', problem: problemOf(error) } });
      },
    );
    return () => {
      live = false;
    };
    // `load` closes over exactly `keys`: the callers pass what it reads.
  }, keys);
  return sameKeys(loaded.keys, keys) ? loaded.result : LOADING;
}

function sameKeys(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((key, i) => Object.is(key, b[i]));
}
