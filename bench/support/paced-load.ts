import { connect, type Socket } from 'node:net';
import { median, quantile } from './stats.js';

export interface PacedLoadOptions {
  /** The full URL requests are POSTed to (http only). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Requests per second, sent on a fixed schedule whatever the server does. */
  readonly rate: number;
  readonly seconds: number;
  /** Keep-alive connections the requests share, one request at a time on each. */
  readonly connections: number;
}

export interface PacedLoadResult {
  readonly sent: number;
  /** Answered with 200. */
  readonly answered: number;
  /** Any other status, or a connection error. */
  readonly failures: number;
  /** Answers per second over the run. */
  readonly rps: number;
  /** Latencies in ms, measured from the moment each request was due (not sent). */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /**
   * The median of the run's seconds' p99s (each second: the requests due in it). On a virtual
   * machine that now and then stalls every process for 100 ms and more, one stall sets a 10 s
   * run's p99 by itself; this tells the run's typical second apart from its worst.
   */
  readonly p99TypicalSecond: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** Where a chunked body that starts at `at` ends (no trailers), or -1 if not all here yet. */
function chunkedEnd(data: Buffer, at: number): number {
  let offset = at;
  for (;;) {
    const line = data.indexOf('\r\n', offset, 'latin1');
    if (line < 0) return -1;
    const size = Number.parseInt(data.toString('latin1', offset, line), 16);
    if (size === 0) return data.length >= line + 4 ? line + 4 : -1;
    offset = line + 2 + size + 2;
    if (offset > data.length) return -1;
  }
}

/**
 * One keep-alive connection sending the same prepared request, one at a time: the least a
 * client can do (a prepared buffer out, the status line and Content-Length read back), so that
 * on a machine the generator shares with the server it takes as little as it can.
 */
class Connection {
  private readonly socket: Socket;
  private pending: Buffer = Buffer.alloc(0);
  private due = 0;
  private busy = false;

  constructor(
    host: string,
    port: number,
    private readonly request: Buffer,
    private readonly done: (connection: Connection, due: number, ok: boolean) => void,
  ) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      this.read(chunk);
    });
    this.socket.on('error', () => {
      if (this.busy) this.finish(false);
    });
  }

  send(due: number): void {
    this.busy = true;
    this.due = due;
    this.socket.write(this.request);
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const end = this.pending.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.pending.toString('latin1', 0, end);
    const bodyStart = end + HEADER_END.length;
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
    const total =
      length !== undefined
        ? bodyStart + Number(length)
        : /\r\ntransfer-encoding:\s*chunked/i.test(head)
          ? chunkedEnd(this.pending, bodyStart)
          : Number.NaN;
    if (Number.isNaN(total)) throw new Error(`an answer of no known length:\n${head}`);
    if (total < 0 || this.pending.length < total) return;
    this.pending = this.pending.subarray(total);
    this.finish(head.startsWith('HTTP/1.1 200'));
  }

  private finish(ok: boolean): void {
    this.busy = false;
    this.done(this, this.due, ok);
  }
}

/**
 * An open-loop load: request i is due at start + i / rate, and its latency runs from then to
 * its answer, so a server that falls behind is charged for the queue it builds (what a
 * closed-loop tool that waits for each answer before the next request cannot see: coordinated
 * omission). A due request goes out on an idle connection, or waits for the next to free up,
 * and that wait counts.
 *
 * autocannon's fixed-rate mode is not used for this: it lets each connection send its share of
 * a second as fast as it can and then idle until the next second, so at half the peak rate the
 * server sees bursts at the full rate.
 */
export async function pacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  const url = new URL(options.url);
  const body = Buffer.from(options.body);
  const head = [
    `POST ${url.pathname} HTTP/1.1`,
    `Host: ${url.host}`,
    ...Object.entries(options.headers).map(([k, v]) => `${k}: ${v}`),
    `Content-Length: ${body.length}`,
    '',
    '',
  ].join('\r\n');
  const request = Buffer.concat([Buffer.from(head, 'latin1'), body]);
  const total = Math.round(options.rate * options.seconds);
  const latencies = new Float64Array(total);
  const dueAt = new Float64Array(total);
  let answered = 0;
  let failures = 0;
  let settled = 0;
  let sent = 0;
  const waiting: number[] = [];
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const idle: Connection[] = [];
  const done = (connection: Connection, due: number, ok: boolean): void => {
    if (ok) {
      dueAt[answered] = due - start;
      latencies[answered++] = performance.now() - due;
    } else failures++;
    settled++;
    if (settled === total) finish();
    const next = waiting.shift();
    if (next === undefined) idle.push(connection);
    else connection.send(next);
  };
  const connections = Array.from(
    { length: options.connections },
    () => new Connection(url.hostname, Number(url.port), request, done),
  );
  idle.push(...connections);

  const start = performance.now() + 10;
  const interval = 1000 / options.rate;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        const due = start + sent * interval;
        const connection = idle.pop();
        if (connection) connection.send(due);
        else waiting.push(due);
        sent++;
      }
      if (sent >= total) {
        resolve();
        return;
      }
      // A timer, never a spin: the load generator shares the machine with the server.
      setTimeout(tick, Math.max(1, Math.floor(start + sent * interval - performance.now())));
    };
    tick();
  });
  if (total > 0) await finished;
  const elapsed = (performance.now() - start) / 1000;
  for (const connection of connections) connection.close();

  const typical = typicalSecondP99(dueAt.subarray(0, answered), latencies.subarray(0, answered));
  const sorted = latencies.subarray(0, answered).sort();
  const at = (q: number): number => quantile(sorted, q);
  return {
    sent,
    answered,
    failures,
    rps: answered / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: at(1),
    p99TypicalSecond: typical,
  };
}

/** The median of the p99s of each whole second of requests (by due time, ms from the start). */
function typicalSecondP99(dueMs: Float64Array, latencies: Float64Array): number {
  const seconds = new Map<number, number[]>();
  dueMs.forEach((due, i) => {
    const second = Math.floor(due / 1000);
    const list = seconds.get(second) ?? [];
    list.push(latencies[i] ?? 0);
    seconds.set(second, list);
  });
  return median(
    [...seconds.values()].map((list) => quantile(Float64Array.from(list).sort(), 0.99)),
  );
}
