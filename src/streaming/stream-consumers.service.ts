import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { Database } from '../database/database.module.js';
import { ENDPOINTS_CHANNEL } from '../endpoints/endpoint-events.js';
import { InferenceService } from '../inference/inference.service.js';
import { NotificationListener } from '../inference/notification-listener.js';
import { GatehouseMetrics } from '../telemetry/metrics.js';
import { NatsJetStreamBroker } from './nats-jetstream-broker.js';
import { StreamAnswerer, type StreamTarget } from './stream-answerer.js';
import type { Subscription } from './stream-broker.js';
import { StreamBindingsService, type BoundEndpoint } from './stream-bindings.service.js';

/**
 * A re-published answer within this long of the first is stored once by the answers stream:
 * well beyond the ack wait (30 s unless configured), after which another replica answers a
 * message again.
 */
const DUPLICATE_WINDOW_MS = 5 * 60_000;
/** Deliveries after which a message that keeps failing whoever handles it is given up. */
const MAX_DELIVER = 20;

interface Running {
  /** The binding it was started for, to tell when a change needs a restart. */
  readonly key: string;
  readonly subscription: Subscription;
}

/**
 * Runs every stream binding on this replica: a subscription to the binding's durable consumer
 * (shared by every replica, so each message is handled by one of them), whose messages the
 * StreamAnswerer answers and settles. Bindings follow the database: a bind or unbind NOTIFYs
 * the endpoints channel, and this replica starts or stops the endpoint's subscription; after a
 * (re)connection every binding is read again. Off when no NATS servers are configured.
 */
@Injectable()
export class StreamConsumers implements OnApplicationBootstrap, OnApplicationShutdown {
  private static readonly logger = new Logger('StreamConsumers');
  private broker: NatsJetStreamBroker | undefined;
  private answerer: StreamAnswerer | undefined;
  private listener: NotificationListener | undefined;
  private readonly running = new Map<string, Running>();
  /** Changes of one endpoint's subscription happen one after another. */
  private readonly changing = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly database: Database,
    private readonly bindings: StreamBindingsService,
    private readonly inference: InferenceService,
    @Optional() private readonly metrics?: GatehouseMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const servers = this.config.streaming.natsServers;
    if (servers === undefined) return;
    this.broker = await NatsJetStreamBroker.connect(servers, {
      name: 'gatehouse-streams',
      onError: (error, context) => {
        StreamConsumers.logger.warn(`${context}: ${messageOf(error)}`);
      },
    });
    this.answerer = new StreamAnswerer(this.inference, this.broker);
    this.listener = new NotificationListener({
      connectionString: this.database.url,
      channel: ENDPOINTS_CHANNEL,
      applicationName: 'gatehouse-streams',
      onNotification: (endpoint) => {
        void this.follow(endpoint);
      },
      onConnect: () => this.followAll(),
      log: (message) => {
        StreamConsumers.logger.warn(message);
      },
    });
    if (!(await this.listener.start())) await this.followAll();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.listener?.close();
    await Promise.allSettled([...this.changing.values()]);
    await Promise.allSettled([...this.running.values()].map((r) => r.subscription.stop()));
    this.running.clear();
    await this.broker?.close();
  }

  /** The endpoints whose bindings run here, for tests and health. */
  runningEndpoints(): string[] {
    return [...this.running.keys()].sort();
  }

  /** Brings every endpoint's subscription in line with the bindings in the database. */
  private async followAll(): Promise<void> {
    const bound = await this.bindings.allBound();
    const names = new Set([...bound.map((b) => b.endpoint), ...this.running.keys()]);
    await Promise.all(
      [...names].map((name) => this.follow(name, bound.find((b) => b.endpoint === name) ?? null)),
    );
  }

  /** Starts, restarts or stops one endpoint's subscription to match its binding. */
  private follow(endpoint: string, known?: BoundEndpoint | null): Promise<void> {
    const previous = this.changing.get(endpoint) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        if (this.stopped) return;
        const binding = known === undefined ? await this.bindings.boundEndpoint(endpoint) : known;
        const current = this.running.get(endpoint);
        if (binding !== null && current?.key === keyOf(binding)) return;
        if (current) {
          this.running.delete(endpoint);
          await current.subscription.stop();
        }
        if (binding !== null) await this.start(binding);
      })
      .catch((error: unknown) => {
        StreamConsumers.logger.error(
          `following the stream binding of ${endpoint} failed: ${messageOf(error)}`,
        );
      })
      .finally(() => {
        if (this.changing.get(endpoint) === next) this.changing.delete(endpoint);
      });
    this.changing.set(endpoint, next);
    return next;
  }

  private async start(binding: BoundEndpoint): Promise<void> {
    const broker = this.broker;
    const answerer = this.answerer;
    if (!broker || !answerer) return;
    // Answers and dead letters are kept by a stream of the binding's own, which is also what
    // stores a re-published answer once.
    await broker.ensureOutputStream(
      `${binding.stream}_ANSWERS`,
      [binding.outputSubject, binding.deadLetterSubject],
      DUPLICATE_WINDOW_MS,
    );
    const target: StreamTarget = {
      endpoint: binding.endpoint,
      outputSubject: binding.outputSubject,
      deadLetterSubject: binding.deadLetterSubject,
    };
    const subscription = await broker.consume(
      { stream: binding.stream, consumer: binding.consumer, subject: binding.inputSubject },
      async (message) => {
        const settled = await answerer.answer(target, message);
        this.metrics?.recordStreamMessage(
          binding.endpoint,
          settled.kind,
          settled.kind === 'answered' ? settled.arm : undefined,
        );
      },
      {
        maxAckPending: binding.maxAckPending,
        ackWaitMs: this.config.streaming.ackWaitMs,
        maxDeliver: MAX_DELIVER,
      },
    );
    this.running.set(binding.endpoint, { key: keyOf(binding), subscription });
    StreamConsumers.logger.log(
      `endpoint ${binding.endpoint} answers ${binding.inputSubject} (stream ${binding.stream}, consumer ${binding.consumer}) on ${binding.outputSubject}`,
    );
  }
}

function keyOf(binding: BoundEndpoint): string {
  return JSON.stringify([
    binding.inputSubject,
    binding.stream,
    binding.consumer,
    binding.outputSubject,
    binding.deadLetterSubject,
    binding.maxAckPending,
  ]);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
