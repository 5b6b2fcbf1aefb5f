/**
 * Per-arm figures over time, for the Rollouts page's charts. The service reports the stage in
 * progress as totals since the stage was entered (`progress.arms`); it keeps no series. The
 * page therefore samples those totals each time it polls and keeps them here, in memory: the
 * chart starts when the page is opened and is lost on reload. Pure and immutable.
 */

export const METRICS = ['requests', 'errorRate', 'p99Ms'] as const;
export type Metric = (typeof METRICS)[number];

export interface ArmFigures {
  readonly arm: string;
  readonly requests: number;
  readonly errorRate: number | null;
  readonly p99Ms: number | null;
}

export interface Sample {
  /** When the totals were read, in ms since the epoch. */
  readonly at: number;
  readonly stage: string;
  readonly arms: readonly ArmFigures[];
}

export interface ArmSeries {
  /** Seconds since the epoch (uPlot's x axis), ascending. */
  readonly times: readonly number[];
  readonly stages: readonly string[];
  /** Arms in the order first seen. */
  readonly arms: readonly string[];
  /** values[arm][metric][i] belongs to times[i]; null when the arm had no figure then. */
  readonly values: Readonly<Record<string, Readonly<Record<Metric, readonly (number | null)[]>>>>;
}

/** At one sample per 2 s poll, an hour of watching; older samples are dropped. */
export const MAX_SAMPLES = 1800;

export const EMPTY_SERIES: ArmSeries = { times: [], stages: [], arms: [], values: {} };

function emptyColumns(length: number): Record<Metric, (number | null)[]> {
  return {
    requests: Array<number | null>(length).fill(null),
    errorRate: Array<number | null>(length).fill(null),
    p99Ms: Array<number | null>(length).fill(null),
  };
}

/**
 * The series with one more sample. A sample not later than the last one is ignored (a late
 * answer of an earlier poll), as are figures that are not finite.
 */
export function withSample(series: ArmSeries, sample: Sample, max = MAX_SAMPLES): ArmSeries {
  const at = sample.at / 1000;
  const last = series.times[series.times.length - 1];
  if (!Number.isFinite(at) || (last !== undefined && at <= last)) return series;
  const drop = Math.max(0, series.times.length + 1 - max);
  const arms = [...series.arms];
  for (const figures of sample.arms) if (!arms.includes(figures.arm)) arms.push(figures.arm);
  const values: Record<string, Record<Metric, (number | null)[]>> = {};
  for (const arm of arms) {
    const before = series.values[arm] ?? emptyColumns(series.times.length);
    const now = sample.arms.find((figures) => figures.arm === arm);
    const columns = emptyColumns(0);
    for (const metric of METRICS) {
      const value = now ? now[metric] : null;
      columns[metric] = [
        ...before[metric].slice(drop),
        value !== null && Number.isFinite(value) ? value : null,
      ];
    }
    values[arm] = columns;
  }
  return {
    times: [...series.times.slice(drop), at],
    stages: [...series.stages.slice(drop), sample.stage],
    arms,
    values,
  };
}

/** One metric of every arm, as uPlot's aligned data: the times, then one row per arm. */
export function chartData(series: ArmSeries, metric: Metric): [number[], ...(number | null)[][]] {
  return [
    [...series.times],
    ...series.arms.map((arm) => [...(series.values[arm]?.[metric] ?? [])]),
  ];
}
