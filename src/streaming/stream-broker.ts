/**
 * The seam between stream-bound endpoints and the message broker that carries their requests.
 * Routing, scoring and the prediction log see only these types; an adapter (NATS JetStream
 * today, `nats-jetstream-broker.ts`) maps them onto its client. Nothing here names a broker's
 * own types, so a Kafka adapter could implement it without touching the code that routes.
 */

/** Where requests are read from. */
export interface StreamSource {
  /** The stream (a Kafka topic would map here). */
  readonly stream: string;
  /**
   * The durable consumer every replica shares (a Kafka consumer group): each message is handed
   * to one subscriber at a time, whichever replica holds it.
   */
  readonly consumer: string;
  /**
   * The subject requests are published on. When given, an adapter may create the stream if it
   * does not exist, and the consumer reads only this subject of it.
   */
  readonly subject?: string;
}

export interface ConsumeOptions {
  /**
   * The most messages handed out and not yet settled, over every subscriber of the consumer
   * together: the broker holds the rest back, which is the back-pressure of a stream-bound
   * endpoint.
   */
  readonly maxAckPending: number;
  /**
   * The most handlers this subscription runs at once (a replica's share); at most
   * `maxAckPending`, which it defaults to. The subscription asks the broker only for as many
   * messages as it has free handlers, so it never holds a message it is not working on.
   */
  readonly maxInFlight?: number;
  /** How long a message may stay unsettled before the broker hands it to another subscriber. */
  readonly ackWaitMs?: number;
  /**
   * Deliveries after which the broker gives up on a message that was never settled: the bound
   * on a message that crashes whoever handles it.
   */
  readonly maxDeliver?: number;
}

/**
 * One delivery of one message. Exactly one settlement counts (`ack`, `nak` or `term`); later
 * ones are ignored, so a handler's error path may settle without knowing whether its success
 * path already did.
 */
export interface InboundMessage {
  readonly data: Uint8Array;
  /** The subject (Kafka: topic) the message was published on. */
  readonly subject: string;
  /** A header's value, its name matched without regard to case (as in HTTP); undefined if absent. */
  header(name: string): string | undefined;
  /** 1 on the first delivery, 2 on the first redelivery, and so on. */
  readonly deliveryCount: number;
  /** Done: the broker never delivers it again. Resolves once the broker has recorded it. */
  ack(): Promise<void>;
  /** Not done: deliver it again, after `delayMs` if given. */
  nak(delayMs?: number): Promise<void>;
  /** Never deliver it again; `reason` is kept by brokers that keep one. */
  term(reason: string): Promise<void>;
}

/**
 * A handler settles its message. One that rejects without settling has its message delivered
 * again later (until `maxDeliver`); the error goes to the broker's error listener.
 */
export type MessageHandler = (message: InboundMessage) => Promise<void>;

export interface Subscription {
  /**
   * Stops asking for messages and resolves once every handler already running has finished.
   * Messages received but not yet handed to a handler are given back at once.
   */
  stop(): Promise<void>;
}

export interface StreamBroker {
  /** Creates what the source needs if the adapter can (see StreamSource), then starts handling. */
  consume(
    source: StreamSource,
    handler: MessageHandler,
    options: ConsumeOptions,
  ): Promise<Subscription>;
  /**
   * Resolves once the broker holds the message: stored by the stream that captures `subject`
   * when there is one (where a repeated `Nats-Msg-Id` header within the stream's duplicate
   * window is stored once), otherwise received by the server.
   */
  publish(
    subject: string,
    payload: Uint8Array,
    headers: Readonly<Record<string, string>>,
  ): Promise<void>;
  /** Stops every subscription (letting running handlers finish), then closes the connection. */
  close(): Promise<void>;
}

export const STREAM_BROKER_ERROR_CODES = [
  /** The source's stream does not exist and no subject was given to create it with. */
  'STREAM_MISSING',
  /** An existing stream or consumer cannot serve as asked (another retention, another filter). */
  'INCOMPATIBLE',
  /** The broker did not take a published message. */
  'PUBLISH_FAILED',
  /** The broker was closed. */
  'CLOSED',
] as const;

export type StreamBrokerErrorCode = (typeof STREAM_BROKER_ERROR_CODES)[number];

/** The one error a broker adapter throws; `cause` keeps the client library's own error. */
export class StreamBrokerError extends Error {
  constructor(
    readonly code: StreamBrokerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StreamBrokerError';
  }
}
