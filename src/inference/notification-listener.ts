import pg from 'pg';

export interface NotificationListenerOptions {
  readonly connectionString: string;
  readonly channel: string;
  readonly applicationName: string;
  /** A NOTIFY on the channel, with its payload. */
  readonly onNotification: (payload: string) => void;
  /**
   * After every (re)connection, once LISTEN is in place: notifications sent while no
   * connection listened are lost, so whatever they would have said must be reloaded here.
   */
  readonly onConnect: () => Promise<void>;
  readonly log: (message: string) => void;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How often the connection is asked `SELECT 1` while it waits for notifications. */
  readonly heartbeatMs?: number;
  /** How long a heartbeat (or a connect) may take before the connection counts as lost. */
  readonly heartbeatTimeoutMs?: number;
}

/**
 * LISTEN on one PostgreSQL channel over a dedicated connection (a pooled connection cannot
 * hold a LISTEN), reconnecting with exponential backoff when it is lost.
 *
 * A connection that only listens never notices a server that stopped answering without
 * closing it (stopped, failed over to another address, a network that drops packets): TCP
 * keepalive takes hours by default, and meanwhile every notification is missed. A heartbeat
 * query with a timeout notices within seconds; the reconnect then reloads what was missed.
 */
export class NotificationListener {
  private client: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private closed = false;
  private connections = 0;

  constructor(private readonly options: NotificationListenerOptions) {
    this.backoffMs = options.minBackoffMs ?? 100;
  }

  /**
   * How many times a connection was made and caught up (`onConnect` done): 1 after start, +1
   * per reconnect.
   */
  get connectionCount(): number {
    return this.connections;
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Connects once; on failure a reconnect is scheduled and the failure is returned. */
  async start(): Promise<boolean> {
    return this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.heartbeatTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
  }

  private async connect(): Promise<boolean> {
    if (this.closed) return false;
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      application_name: this.options.applicationName,
      keepAlive: true,
      connectionTimeoutMillis: this.heartbeatTimeoutMs(),
    });
    const state = { lost: false };
    const onLost = (error?: Error): void => {
      if (state.lost) return;
      state.lost = true;
      if (this.client === client) {
        this.client = undefined;
        clearTimeout(this.heartbeatTimer);
      }
      void client.end().catch(() => undefined);
      if (this.closed) return;
      this.options.log(
        `LISTEN ${this.options.channel} connection lost${error ? `: ${error.message}` : ''}; reconnecting`,
      );
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', () => {
      onLost();
    });
    client.on('notification', (message) => {
      if (message.channel === this.options.channel)
        this.options.onNotification(message.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.options.channel)}`);
      if (state.lost || this.isClosed()) return false;
      this.client = client;
      await this.options.onConnect();
      this.connections++;
      this.backoffMs = this.options.minBackoffMs ?? 100;
      this.scheduleHeartbeat(client, onLost);
      return true;
    } catch (error) {
      onLost(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
  }

  /** Read through a method: close() may have run while this connection was being made. */
  private isClosed(): boolean {
    return this.closed;
  }

  private heartbeatTimeoutMs(): number {
    return this.options.heartbeatTimeoutMs ?? 5000;
  }

  private scheduleHeartbeat(client: pg.Client, onLost: (error?: Error) => void): void {
    this.heartbeatTimer = setTimeout(() => {
      if (this.client !== client) return;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`no answer to a heartbeat within ${this.heartbeatTimeoutMs()} ms`));
        }, this.heartbeatTimeoutMs());
      });
      Promise.race([client.query('SELECT 1'), late])
        .then(() => {
          if (this.client === client) this.scheduleHeartbeat(client, onLost);
        })
        .catch((error: unknown) => {
          onLost(error instanceof Error ? error : new Error(String(error)));
        })
        .finally(() => {
          clearTimeout(timer);
        });
    }, this.options.heartbeatMs ?? 10_000);
    this.heartbeatTimer.unref();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 5000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }
}
