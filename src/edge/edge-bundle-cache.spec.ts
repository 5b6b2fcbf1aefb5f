import { describe, expect, it } from '@jest/globals';
import { BundleCache, type BundleCacheKey } from './edge-bundle-cache.js';

const key = (over: Partial<BundleCacheKey> = {}): BundleCacheKey => ({
  endpoint: 'credit',
  revision: 3,
  kid: 'k1',
  assignment: 'live',
  ...over,
});

describe('BundleCache', () => {
  it('builds once per state and assignment, concurrent polls included', async () => {
    const sut = new BundleCache<number>(8);
    let builds = 0;
    const build = () => Promise.resolve(++builds);
    const got = await Promise.all([sut.get(key(), build), sut.get(key(), build)]);
    expect(got).toEqual([1, 1]);
    expect(await sut.get(key({ assignment: 'canary r 1' }), build)).toBe(2);
    expect(await sut.get(key({ kid: 'k2' }), build)).toBe(3);
    expect(await sut.get(key(), build)).toBe(1);
  });

  it('drops an endpoint’s bundles when it is seen at another revision, and no other endpoint’s', async () => {
    const sut = new BundleCache<string>(8);
    await sut.get(key(), () => Promise.resolve('credit@3'));
    await sut.get(key({ endpoint: 'fraud' }), () => Promise.resolve('fraud@3'));
    expect(await sut.get(key({ revision: 4 }), () => Promise.resolve('credit@4'))).toBe('credit@4');
    expect(sut.size).toBe(2);
    // Back at revision 3 (a stale read): built again, never the bundle of revision 4.
    expect(await sut.get(key(), () => Promise.resolve('credit@3 again'))).toBe('credit@3 again');
    expect(await sut.get(key({ endpoint: 'fraud' }), () => Promise.resolve('rebuilt'))).toBe(
      'fraud@3',
    );
  });

  it('keeps at most its capacity, dropping the least recently used', async () => {
    const sut = new BundleCache<string>(2);
    await sut.get(key({ assignment: 'a' }), () => Promise.resolve('a'));
    await sut.get(key({ assignment: 'b' }), () => Promise.resolve('b'));
    await sut.get(key({ assignment: 'a' }), () => Promise.resolve('a again'));
    await sut.get(key({ assignment: 'c' }), () => Promise.resolve('c'));
    expect(sut.size).toBe(2);
    expect(await sut.get(key({ assignment: 'a' }), () => Promise.resolve('a rebuilt'))).toBe('a');
    expect(await sut.get(key({ assignment: 'b' }), () => Promise.resolve('b rebuilt'))).toBe(
      'b rebuilt',
    );
  });

  it('does not keep a build that failed', async () => {
    const sut = new BundleCache<string>(8);
    await expect(sut.get(key(), () => Promise.reject(new Error('not sealed yet')))).rejects.toThrow(
      'not sealed yet',
    );
    expect(await sut.get(key(), () => Promise.resolve('built'))).toBe('built');
  });
});
