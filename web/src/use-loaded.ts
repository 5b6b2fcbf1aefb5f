import { useEffect, useState } from 'react';
import { problemOf, type Problem } from './api/problem.js';

export type Loaded<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'failed'; readonly problem: Problem }
  | { readonly state: 'loaded'; readonly value: T };

/** Loads `load()` again whenever one of `keys` changes; a late answer to old keys is dropped. */
export function useLoaded<T>(load: () => Promise<T>, keys: readonly unknown[]): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  useEffect(() => {
    let live = true;
    setLoaded({ state: 'loading' });
    load().then(
      (value) => {
        if (live) setLoaded({ state: 'loaded', value });
      },
      (error: unknown) => {
        if (live) setLoaded({ state: 'failed', problem: problemOf(error) });
      },
    );
    return () => {
      live = false;
    };
    // `load` closes over exactly `keys`: the callers pass what it reads.
  }, keys);
  return loaded;
}
