/**
 * The Node.js flags `gatehouse serve` runs with (docs/inference.md, "Running it"; the
 * measurements behind them in docs/benchmarks.md). bin/gatehouse.js adds those the operator
 * did not give; the benchmarks start their services with the same list.
 * - a young generation of 32 MB per semi-space, never shrunk: with V8's 16 MB, many runs under
 *   load spent far longer collecting garbage, the scavenger faulting fresh pages in; and
 *   without the floor, a service idle for a while shrank it to 1 MB, so the first seconds of
 *   the next load ran many more scavenges, and major collections with them;
 * - no memory reducer: it gives an idle process's heap pages back, and the next load faulted
 *   tens of thousands of them in again, in its first second;
 * - on Node.js 22 and 23, AsyncLocalStorage on AsyncContextFrame, Node 24's default (which
 *   refuses the flag): the older implementation puts a hook on every promise once
 *   OpenTelemetry's context is used, a measurable share of each inference request.
 */
export function serveFlags(nodeMajor: number): string[] {
  return [
    '--max-semi-space-size=32',
    '--min-semi-space-size=32',
    '--no-memory-reducer',
    ...(nodeMajor < 24 ? ['--experimental-async-context-frame'] : []),
  ];
}
