import { Logger } from '@nestjs/common';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import {
  Match,
  connect,
  headers as natsHeaders,
  nanos,
  type NatsConnection,
} from '@nats-io/transport-node';
import {
  StreamBrokerError,
  type ConsumeOptions,
  type InboundMessage,
  type MessageHandler,
  type StreamBroker,
  type StreamSource,
  type Subscription,
} from './stream-broker.js';

const DEFAULT_ACK_WAIT_MS = 30_000;
const DEFAULT_MAX_DELIVER = 5;
/**
 * How long one pull request stays open at the server. NATS' own default; a shorter one only adds
 * requests while a stream is idle.
 */
const PULL_EXPIRES_MS = 30_000;
/** After a failed pull (connection lost, consumer deleted) before the next one. */
const PULL_RETRY_MS = 1000;
/** A stream that captures no subject is looked up again after this long. */
const NO_STREAM_RECHECK_MS = 10_000;

export interface NatsJetStreamBrokerOptions {
  /** Told of a handler that rejected and of pulls that failed; the subscription goes on. */
  readonly onError?: (error: unknown, context: string) => void;
}

/**
 * The StreamBroker on NATS JetStream: a stream per source, a durable pull consumer all
 * replicas share, explicit acknowledgement.
 */
export class NatsJetStreamBroker implements StreamBroker {
  private static readonly logger = new Logger('NatsJetStreamBroker');

  private readonly js: JetStreamClient;
  private readonly subscriptions = new Set<PullSubscription>();
  /** Subject → the stream that captures it, or when it was last found to have none. */
  private readonly capturedBy = new Map<string, { stream: string } | { none: number }>();
  private closing: Promise<void> | undefined;

  /**
   * The connection is the caller's to give but the broker's to close. It should reconnect
   * forever (as `connect` sets it up): pulls resume on the new connection by themselves.
   */
  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly options: NatsJetStreamBrokerOptions = {},
  ) {
    this.js = jetstream(nc);
  }

  /** Connects to `servers` (tried in turn), and keeps reconnecting for as long as it is open. */
  static async connect(
    servers: readonly string[],
    options: NatsJetStreamBrokerOptions & { readonly name?: string } = {},
  ): Promise<NatsJetStreamBroker> {
    const nc = await connect({
      servers: [...servers],
      name: options.name ?? 'gatehouse',
      // A broker outage must not end streaming for good: the replica keeps trying, and its
      // pulls pick up where they were once the server answers again.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
    });
    try {
      return new NatsJetStreamBroker(nc, await jetstreamManager(nc), options);
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  async consume(
    source: StreamSource,
    handler: MessageHandler,
    options: ConsumeOptions,
  ): Promise<Subscription> {
    this.assertOpen();
    const maxAckPending = positiveInteger(options.maxAckPending, 'maxAckPending');
    const maxInFlight = positiveInteger(options.maxInFlight ?? maxAckPending, 'maxInFlight');
    if (maxInFlight > maxAckPending)
      throw new RangeError(
        `maxInFlight: ${maxInFlight} is more than maxAckPending (${maxAckPending})`,
      );
    await this.ensureInputStream(source);
    if (source.subject !== undefined) this.capturedBy.delete(source.subject);
    await this.ensureConsumer(source, {
      max_ack_pending: maxAckPending,
      ack_wait: nanos(positiveInteger(options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS, 'ackWaitMs')),
      max_deliver: positiveInteger(options.maxDeliver ?? DEFAULT_MAX_DELIVER, 'maxDeliver'),
    });
    const consumer = await this.js.consumers.get(source.stream, source.consumer);
    const subscription = new PullSubscription(
      this.nc,
      consumer,
      handler,
      maxInFlight,
      (error, context) => {
        this.report(error, `${source.stream}/${source.consumer}: ${context}`);
      },
      () => {
        this.subscriptions.delete(subscription);
      },
    );
    this.subscriptions.add(subscription);
    subscription.start();
    return subscription;
  }

  async publish(
    subject: string,
    payload: Uint8Array,
    headers: Readonly<Record<string, string>>,
  ): Promise<void> {
    this.assertOpen();
    const h = natsHeaders();
    for (const [name, value] of Object.entries(headers)) h.set(name, value);
    try {
      if ((await this.streamCapturing(subject)) !== undefined) {
        // Waits for the stream's acknowledgement: only then is the answer durable. A repeated
        // Nats-Msg-Id within the duplicate window is acknowledged as a duplicate and stored once.
        await this.js.publish(subject, payload, { headers: h });
      } else {
        this.nc.publish(subject, payload, { headers: h });
        // Without a stream nothing stores the message; the flush at least waits until the
        // server has received it, so a connection lost meanwhile is an error here.
        await this.nc.flush();
      }
    } catch (error) {
      if (isApiError(error, JetStreamApiCodes.StreamNotFound)) this.capturedBy.delete(subject);
      throw new StreamBrokerError(
        'PUBLISH_FAILED',
        `publishing to ${subject} failed: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * Makes sure a stream named `name` stores the answers published on `subjects`, with a
   * duplicate window of `duplicateWindowMs`: a re-published answer (same Nats-Msg-Id, after a
   * replica crashed between publishing and acknowledging its request) is stored once.
   */
  async ensureOutputStream(
    name: string,
    subjects: readonly string[],
    duplicateWindowMs: number,
  ): Promise<void> {
    this.assertOpen();
    const duplicateWindow = nanos(positiveInteger(duplicateWindowMs, 'duplicateWindowMs'));
    const existing = await this.streamInfo(name);
    if (existing === undefined) {
      await this.addStream(name, {
        subjects: [...subjects],
        // Limits: answers are for whoever reads them, as many consumers as want them, and
        // removed by the stream's limits rather than by being read once.
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        duplicate_window: duplicateWindow,
      });
    } else {
      const missing = subjects.filter((s) => !existing.config.subjects.includes(s));
      if (missing.length > 0 || existing.config.duplicate_window !== duplicateWindow) {
        await this.jsm.streams.update(name, {
          subjects: [...existing.config.subjects, ...missing],
          duplicate_window: duplicateWindow,
        });
      }
    }
    for (const subject of subjects) this.capturedBy.delete(subject);
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((s) => s.stop()));
      // Drain: what is published is flushed, and the server is told before the socket closes.
      if (!this.nc.isClosed()) await this.nc.drain();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== undefined || this.nc.isClosed())
      throw new StreamBrokerError('CLOSED', 'the NATS broker is closed');
  }

  private async ensureInputStream(source: StreamSource): Promise<void> {
    const existing = await this.streamInfo(source.stream);
    if (existing !== undefined) {
      if (source.subject !== undefined && !captures(existing.config.subjects, source.subject))
        throw new StreamBrokerError(
          'INCOMPATIBLE',
          `stream ${source.stream} does not capture subject ${source.subject}`,
        );
      return;
    }
    if (source.subject === undefined)
      throw new StreamBrokerError(
        'STREAM_MISSING',
        `stream ${source.stream} does not exist, and no subject was given to create it with`,
      );
    await this.addStream(source.stream, {
      subjects: [source.subject],
      // Work queue: a request is work to be done once, and the prediction log, not the stream,
      // is its record; answered requests leave the stream instead of filling it. The server also
      // refuses a second consumer over the same subjects, so two bindings that would both score
      // every request fail at once instead of doing it.
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
    });
  }

  private async addStream(
    name: string,
    config: Omit<Partial<StreamConfig>, 'name'>,
  ): Promise<void> {
    try {
      await this.jsm.streams.add({ name, ...config });
    } catch (error) {
      // Another replica created it first, maybe with other settings: what exists is checked
      // by the caller's next use rather than overwritten here.
      if ((await this.streamInfo(name)) === undefined) throw error;
    }
  }

  private async ensureConsumer(
    source: StreamSource,
    limits: Pick<ConsumerConfig, 'max_ack_pending' | 'ack_wait' | 'max_deliver'>,
  ): Promise<void> {
    const existing = await this.consumerConfig(source);
    if (existing === undefined) {
      try {
        await this.jsm.consumers.add(source.stream, {
          durable_name: source.consumer,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ...(source.subject === undefined ? {} : { filter_subject: source.subject }),
          ...limits,
        });
        return;
      } catch (error) {
        // Two replicas starting together both find no consumer; the second add fails when the
        // first one's differs in any setting. Either way, what is there now is checked below.
        if ((await this.consumerConfig(source)) === undefined) throw error;
        return this.ensureConsumer(source, limits);
      }
    }
    if (source.subject !== undefined && (existing.filter_subject ?? '') !== source.subject)
      throw new StreamBrokerError(
        'INCOMPATIBLE',
        `consumer ${source.consumer} of stream ${source.stream} reads ${existing.filter_subject ?? 'every subject'}, not ${source.subject}`,
      );
    if (existing.ack_policy !== AckPolicy.Explicit || existing.deliver_subject !== undefined)
      throw new StreamBrokerError(
        'INCOMPATIBLE',
        `consumer ${source.consumer} of stream ${source.stream} is not a pull consumer with explicit acknowledgement`,
      );
    // The binding's limits are the truth: every replica sets the same ones, so an edited binding
    // takes effect when its replicas resubscribe.
    if (
      existing.max_ack_pending !== limits.max_ack_pending ||
      existing.ack_wait !== limits.ack_wait ||
      existing.max_deliver !== limits.max_deliver
    )
      await this.jsm.consumers.update(source.stream, source.consumer, limits);
  }

  private async streamInfo(name: string): Promise<StreamInfo | undefined> {
    try {
      return await this.jsm.streams.info(name);
    } catch (error) {
      if (isApiError(error, JetStreamApiCodes.StreamNotFound)) return undefined;
      throw error;
    }
  }

  private async consumerConfig(source: StreamSource): Promise<ConsumerConfig | undefined> {
    try {
      return (await this.jsm.consumers.info(source.stream, source.consumer)).config;
    } catch (error) {
      if (isApiError(error, JetStreamApiCodes.ConsumerNotFound)) return undefined;
      throw error;
    }
  }

  /** The stream storing `subject`, asked of the server and remembered. */
  private async streamCapturing(subject: string): Promise<string | undefined> {
    const known = this.capturedBy.get(subject);
    if (known !== undefined) {
      if ('stream' in known) return known.stream;
      if (Date.now() - known.none < NO_STREAM_RECHECK_MS) return undefined;
    }
    try {
      const stream = await this.jsm.streams.find(subject);
      this.capturedBy.set(subject, { stream });
      return stream;
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
      this.capturedBy.set(subject, { none: Date.now() });
      return undefined;
    }
  }

  private report(error: unknown, context: string): void {
    if (this.options.onError !== undefined) this.options.onError(error, context);
    else NatsJetStreamBroker.logger.error(`${context}: ${errorMessage(error)}`, errorStack(error));
  }
}

/**
 * Pulls only as many messages as it has free handlers, so every message it holds is being
 * worked on: none waits in a local buffer while its ack wait runs out and another replica gets
 * it too.
 */
class PullSubscription implements Subscription {
  private readonly inFlight = new Set<Promise<void>>();
  private slotFreed: (() => void) | undefined;
  private batch: ConsumerMessages | undefined;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private retryTimer: { timer: NodeJS.Timeout; wake: () => void } | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly consumer: Consumer,
    private readonly handler: MessageHandler,
    private readonly maxInFlight: number,
    private readonly report: (error: unknown, context: string) => void,
    private readonly onStopped: () => void,
  ) {}

  /** A method, not the field: the flag changes while the pull loop awaits. */
  private isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    this.loop = this.pullLoop();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      this.slotFreed?.();
      if (this.retryTimer !== undefined) {
        clearTimeout(this.retryTimer.timer);
        this.retryTimer.wake();
      }
      // Not awaited here: the pull's close resolves once its messages have been iterated, and
      // the loop awaited next is what iterates them.
      void this.batch?.close();
      await this.loop;
      await Promise.all([...this.inFlight]);
      this.onStopped();
    })();
    return this.stopping;
  }

  private async pullLoop(): Promise<void> {
    while (!this.isStopped()) {
      await this.freeSlot();
      if (this.isStopped()) break;
      try {
        this.batch = await this.consumer.fetch({
          max_messages: this.maxInFlight - this.inFlight.size,
          expires: PULL_EXPIRES_MS,
        });
        // stop() may have come while the pull request was being made; the loop below then
        // gives back what still arrives and ends with the pull.
        if (this.isStopped()) void this.batch.close();
        for await (const msg of this.batch) {
          if (this.isStopped()) await this.giveBack(msg);
          else this.dispatch(msg);
        }
      } catch (error) {
        // A connection closed for good (not one reconnecting) delivers nothing more.
        if (this.isStopped() || this.nc.isClosed()) break;
        // The connection dropped, or the consumer was deleted: the client reconnects by itself,
        // so pulling again a moment later resumes; a deleted consumer keeps failing and says so.
        this.report(error, 'pulling messages failed; retrying');
        await this.retryDelay();
      } finally {
        this.batch = undefined;
      }
    }
  }

  private freeSlot(): Promise<void> {
    if (this.inFlight.size < this.maxInFlight || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.slotFreed = resolve;
    });
  }

  private retryDelay(): Promise<void> {
    return new Promise((resolve) => {
      this.retryTimer = { timer: setTimeout(resolve, PULL_RETRY_MS), wake: resolve };
    });
  }

  private dispatch(msg: JsMsg): void {
    const message = new JetStreamInboundMessage(msg, this.nc);
    const run = this.handler(message)
      .catch(async (error: unknown) => {
        this.report(error, `handling message ${msg.seq} failed`);
        // Delivered again later, not at once: a failure that lasts a moment (a database
        // failover) gets that moment, and max deliver bounds one that does not pass.
        await message.nak(PULL_RETRY_MS).catch((nakError: unknown) => {
          this.report(nakError, `giving back message ${msg.seq} failed`);
        });
      })
      .finally(() => {
        this.inFlight.delete(run);
        const wake = this.slotFreed;
        this.slotFreed = undefined;
        wake?.();
      });
    this.inFlight.add(run);
  }

  /** A message that arrived after stop: another subscriber may have it at once. */
  private async giveBack(msg: JsMsg): Promise<void> {
    try {
      await new JetStreamInboundMessage(msg, this.nc).nak();
    } catch (error) {
      this.report(error, `giving back message ${msg.seq} failed`);
    }
  }
}

class JetStreamInboundMessage implements InboundMessage {
  private settled = false;

  constructor(
    private readonly msg: JsMsg,
    private readonly nc: NatsConnection,
  ) {}

  get data(): Uint8Array {
    return this.msg.data;
  }

  get subject(): string {
    return this.msg.subject;
  }

  get deliveryCount(): number {
    return this.msg.info.deliveryCount;
  }

  header(name: string): string | undefined {
    const h = this.msg.headers;
    return h?.has(name, Match.IgnoreCase) === true ? h.get(name, Match.IgnoreCase) : undefined;
  }

  async ack(): Promise<void> {
    if (!this.claim()) return;
    // Waits for the server's reply: the caller acknowledges after publishing an answer and
    // logging it, and wants to know the request will not come back.
    await this.msg.ackAck();
  }

  async nak(delayMs?: number): Promise<void> {
    if (!this.claim()) return;
    this.msg.nak(delayMs);
    await this.nc.flush();
  }

  async term(reason: string): Promise<void> {
    if (!this.claim()) return;
    // A server before 2.11 does not read `+TERM <reason>` as a term at all and ignores it, so
    // the message would come back until max deliver; to it the reason is not sent.
    this.msg.term(serverAtLeast(this.nc, 2, 11) ? reason : undefined);
    await this.nc.flush();
  }

  private claim(): boolean {
    if (this.settled) return false;
    this.settled = true;
    return true;
  }
}

function serverAtLeast(nc: NatsConnection, major: number, minor: number): boolean {
  const [m = 0, n = 0] = (nc.info?.version ?? '0.0.0').split('.').map(Number);
  return m > major || (m === major && n >= minor);
}

function captures(subjects: readonly string[] | undefined, subject: string): boolean {
  return (subjects ?? []).some((pattern) => subjectMatches(pattern, subject));
}

/** NATS subject wildcards: `*` one token, `>` one or more trailing tokens. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${field}: expected a positive integer, got ${value}`);
  return value;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorStack(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}
