import { useEffect, useRef, useState, type ReactNode } from 'react';
import type uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { problemOf, type Problem } from '../api/problem.js';
import { ProblemView } from '../problem-view.js';
import { chartData, type ArmSeries, type Metric } from '../rollout-series.js';

/** One colour per arm, on the canvas and in the legend (the legend's swatches take a class). */
const ARM_COLOURS: Readonly<Record<string, string>> = {
  live: '#1a5fb4',
  candidate: '#c2410c',
  shadow: '#7e22ce',
};
const OTHER_COLOUR = '#374151';

const HEIGHT = 200;

function armColour(arm: string): string {
  return ARM_COLOURS[arm] ?? OTHER_COLOUR;
}

let loading: Promise<typeof uPlot> | undefined;

/**
 * uPlot, loaded with the first chart as a file of its own: a library that fails to load or to
 * start (it reads the browser's language as it loads) costs the charts, not the console.
 */
function loadUplot(): Promise<typeof uPlot> {
  loading ??= import('uplot').then(
    (module) => module.default,
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/**
 * One metric of each arm over the time the page has watched, drawn by uPlot on a canvas. uPlot
 * sizes its elements through element.style, which the console's style-src 'self' allows (it
 * governs style attributes and elements, not the CSSOM). The figures themselves are in the
 * page's table: the chart is a picture of them, named for screen readers.
 */
export function ArmChart({
  series,
  metric,
  title,
}: {
  series: ArmSeries;
  metric: Metric;
  title: string;
}): ReactNode {
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(series);
  latest.current = series;
  const [problem, setProblem] = useState<Problem | null>(null);
  const arms = series.arms.join(' ');

  useEffect(() => {
    const element = holder.current;
    if (!element) return;
    let live = true;
    let chart: uPlot | null = null;
    const resize = (): void => {
      chart?.setSize({ width: Math.max(320, element.clientWidth), height: HEIGHT });
    };
    loadUplot().then(
      (UPlot) => {
        if (!live) return;
        const shown = latest.current;
        chart = new UPlot(
          {
            width: Math.max(320, element.clientWidth),
            height: HEIGHT,
            legend: { show: false },
            cursor: { show: false },
            series: [
              {},
              ...shown.arms.map((arm) => ({
                label: arm,
                stroke: armColour(arm),
                width: 2,
                spanGaps: false,
              })),
            ],
            // From zero: a rate of 0.001 on an axis of 0.0009 to 0.0011 looks like a breach.
            scales: { y: { range: (_self, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
            axes: [{}, { size: 60 }],
          },
          chartData(shown, metric),
          element,
        );
        plot.current = chart;
        window.addEventListener('resize', resize);
      },
      (error: unknown) => {
        if (live) setProblem(problemOf(error));
      },
    );
    return () => {
      live = false;
      window.removeEventListener('resize', resize);
      chart?.destroy();
      plot.current = null;
    };
    // A new arm needs new uPlot series; new samples only new data (the effect below).
  }, [arms, metric]);

  useEffect(() => {
    plot.current?.setData(chartData(series, metric));
  }, [series, metric]);

  const samples = series.times.length;
  return (
    <figure className="arm-chart">
      <figcaption>{title}</figcaption>
      <div
        ref={holder}
        role="img"
        aria-label={`${title}: ${String(samples)} samples of ${series.arms.join(', ') || 'no arm'}`}
      />
      {problem && <ProblemView title="The chart could not be drawn" problem={problem} />}
      <ul className="arm-legend" aria-hidden="true">
        {series.arms.map((arm) => (
          <li key={arm}>
            <span className={`arm-swatch arm-${ARM_COLOURS[arm] ? arm : 'other'}`} /> {arm}
          </li>
        ))}
      </ul>
    </figure>
  );
}
