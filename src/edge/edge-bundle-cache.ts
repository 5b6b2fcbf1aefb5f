/**
 * Built bundles kept in memory, so that a fleet's polls neither gather the facts again nor
 * sign again: one entry per endpoint state (its revision, the signing key) and assignment,
 * which all the devices of that assignment share. An entry of an endpoint is dropped as soon
 * as a poll sees the endpoint at another revision; the least recently used goes past the
 * bound. A build that fails is not kept: the next poll tries again.
 */
export interface BundleCacheKey {
  readonly endpoint: string;
  readonly revision: number;
  readonly kid: string;
  /** `live`, or the mode, rollout and stage of a candidate assignment. */
  readonly assignment: string;
}

export class BundleCache<T> {
  private readonly entries = new Map<
    string,
    { endpoint: string; revision: number; value: Promise<T> }
  >();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: BundleCacheKey, build: () => Promise<T>): Promise<T> {
    for (const [k, e] of this.entries)
      if (e.endpoint === key.endpoint && e.revision !== key.revision) this.entries.delete(k);
    const id = JSON.stringify([key.endpoint, key.revision, key.kid, key.assignment]);
    const found = this.entries.get(id);
    if (found) {
      this.entries.delete(id);
      this.entries.set(id, found);
      return found.value;
    }
    const value = build();
    this.entries.set(id, { endpoint: key.endpoint, revision: key.revision, value });
    value.catch(() => {
      if (this.entries.get(id)?.value === value) this.entries.delete(id);
    });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    return value;
  }
}
