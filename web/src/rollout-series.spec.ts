import { describe, expect, it } from '@jest/globals';
import { chartData, EMPTY_SERIES, withSample, type Sample } from './rollout-series.js';

const live = (requests: number) => ({ arm: 'live', requests, errorRate: 0, p99Ms: 5 });
const shadow = (requests: number) => ({ arm: 'shadow', requests, errorRate: 0.1, p99Ms: 20 });

describe('withSample', () => {
  it('appends each arm’s figures at the sample’s time, in seconds', () => {
    const one = withSample(EMPTY_SERIES, { at: 1000, stage: 'shadow', arms: [live(3)] });
    const two = withSample(one, { at: 3000, stage: 'shadow', arms: [live(7), shadow(2)] });
    expect(two.times).toEqual([1, 3]);
    expect(two.stages).toEqual(['shadow', 'shadow']);
    expect(two.arms).toEqual(['live', 'shadow']);
    expect(two.values['live']?.requests).toEqual([3, 7]);
    // An arm first seen later has no figure before it.
    expect(two.values['shadow']?.requests).toEqual([null, 2]);
    expect(two.values['shadow']?.p99Ms).toEqual([null, 20]);
  });

  it('leaves a gap for an arm that is gone, and keeps the series unchanged on a late sample', () => {
    let series = withSample(EMPTY_SERIES, { at: 1000, stage: 'shadow', arms: [shadow(1)] });
    series = withSample(series, { at: 2000, stage: 'canary-25', arms: [live(1)] });
    expect(series.values['shadow']?.requests).toEqual([1, null]);
    expect(withSample(series, { at: 2000, stage: 'canary-25', arms: [live(9)] })).toBe(series);
    expect(withSample(series, { at: 1500, stage: 'canary-25', arms: [live(9)] })).toBe(series);
  });

  it('drops the oldest samples beyond the limit', () => {
    let series = EMPTY_SERIES;
    for (let i = 1; i <= 5; i++) {
      const sample: Sample = { at: i * 1000, stage: 's', arms: [live(i)] };
      series = withSample(series, sample, 3);
    }
    expect(series.times).toEqual([3, 4, 5]);
    expect(series.values['live']?.requests).toEqual([3, 4, 5]);
  });

  it('keeps a figure that is not finite out of the chart', () => {
    const series = withSample(EMPTY_SERIES, {
      at: 1000,
      stage: 's',
      arms: [{ arm: 'live', requests: 1, errorRate: Number.NaN, p99Ms: null }],
    });
    expect(series.values['live']?.errorRate).toEqual([null]);
  });
});

describe('chartData', () => {
  it('aligns the times with one row per arm', () => {
    let series = withSample(EMPTY_SERIES, { at: 1000, stage: 's', arms: [live(1), shadow(2)] });
    series = withSample(series, { at: 2000, stage: 's', arms: [live(3)] });
    expect(chartData(series, 'requests')).toEqual([
      [1, 2],
      [1, 3],
      [2, null],
    ]);
  });
});
