import { useEffect, useRef, useState, type ReactNode } from 'react';
import type uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { describeComparison, FOUR_FIFTHS, type FourFifthsComparison } from './four-fifths.js';

const HEIGHT = 220;
const MEETS = '#166534';
const BELOW = '#b91c1c';
const SMALL = '#6b7280';

/** One bar series per verdict, so each bar takes its verdict's colour: null where it is not. */
function chartData(comparison: FourFifthsComparison): uPlot.AlignedData {
  const xs = comparison.bars.map((_, i) => i);
  const where = (keep: (i: number) => boolean): (number | null)[] =>
    comparison.bars.map((bar, i) => (keep(i) ? bar.ratio : null));
  const bar = (i: number) => comparison.bars[i];
  return [
    xs,
    where((i) => bar(i)?.belowMinimumSize === false && bar(i)?.meetsFourFifths === true),
    where((i) => bar(i)?.belowMinimumSize === false && bar(i)?.meetsFourFifths === false),
    where((i) => bar(i)?.belowMinimumSize === true),
  ];
}

function chartOptions(
  bars: typeof uPlot,
  comparison: FourFifthsComparison,
  width: number,
): uPlot.Options {
  const names = comparison.bars.map((bar) => bar.group);
  const top = Math.max(1.2, ...comparison.bars.map((bar) => (bar.ratio ?? 0) * 1.1));
  const series = (label: string, colour: string): uPlot.Series => ({
    label,
    fill: colour,
    stroke: colour,
    paths: bars.paths.bars?.({ size: [0.6, 80] }),
    points: { show: false },
  });
  return {
    width,
    height: HEIGHT,
    legend: { show: false },
    cursor: { show: false },
    scales: {
      x: { time: false, range: [-0.5, names.length - 0.5] },
      y: { range: [0, top] },
    },
    axes: [
      {
        splits: () => names.map((_, i) => i),
        values: (_, splits) => splits.map((i) => names[i] ?? ''),
        grid: { show: false },
      },
      { label: `Ratio to ${comparison.reference}`, values: (_, splits) => splits.map(String) },
    ],
    series: [
      {},
      series('At or above 0.8', MEETS),
      series('Below 0.8', BELOW),
      series('Below the minimum size', SMALL),
    ],
    hooks: {
      // The four-fifths line across the whole plot, drawn on the canvas like the bars.
      draw: [
        (u) => {
          const y = u.valToPos(FOUR_FIFTHS, 'y', true);
          const { ctx, bbox } = u;
          ctx.save();
          ctx.strokeStyle = '#1b1f24';
          ctx.lineWidth = 2;
          ctx.setLineDash([6, 4]);
          ctx.beginPath();
          ctx.moveTo(bbox.left, y);
          ctx.lineTo(bbox.left + bbox.width, y);
          ctx.stroke();
          ctx.restore();
        },
      ],
    },
  };
}

/**
 * Each group's selection rate relative to the reference group as bars, with the four-fifths
 * line; to assistive technology it is its text alternative, which says every bar. uPlot (loaded
 * when a chart is first shown) draws on a canvas and sizes its elements through the CSSOM,
 * which the console's style-src allows.
 */
export function FourFifthsChart({
  attribute,
  comparison,
}: {
  attribute: string;
  comparison: FourFifthsComparison;
}): ReactNode {
  const target = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const element = target.current;
    if (element === null) return;
    let chart: uPlot | null = null;
    let live = true;
    import('uplot').then(
      ({ default: UPlot }) => {
        if (!live) return;
        const width = Math.max(240, Math.min(640, element.clientWidth));
        chart = new UPlot(chartOptions(UPlot, comparison, width), chartData(comparison), element);
      },
      () => {
        if (live) setFailed(true);
      },
    );
    return () => {
      live = false;
      chart?.destroy();
    };
  }, [comparison]);
  const description = describeComparison(attribute, comparison);
  return (
    <figure className="chart">
      <figcaption>
        Four-fifths rule by {attribute}: selection rate relative to {comparison.reference}
        {comparison.basis === 'named' ? ' (reference group)' : ' (selected most often)'}; the dashed
        line is 0.8. Green bars are at or above it, red below, grey groups too small to count.
      </figcaption>
      <div ref={target} role="img" aria-label={description} />
      {failed && (
        <p className="failed">The chart could not be drawn; the table below has the figures.</p>
      )}
    </figure>
  );
}
