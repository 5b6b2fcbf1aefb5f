import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { NotFoundError } from '../common/errors.js';
import { Database } from '../database/database.module.js';
import { ENDPOINTS_CHANNEL } from '../endpoints/endpoint-events.js';
import type { EndpointState } from './endpoint-state.js';
import { EndpointStateReader } from './endpoint-state-reader.service.js';
import { ModelRuntime } from '../runtime/model-runtime.service.js';
import { CandidateExecutor } from './candidate-executor.service.js';
import { NotificationListener } from './notification-listener.js';

/**
 * Every endpoint's traffic state, cached in memory so that routing a request costs no query.
 * The cache follows the database: the deployment service NOTIFYs `gatehouse_endpoints` with
 * the endpoint's name in the transaction that changes it, and every replica LISTENs on a
 * dedicated connection and reloads that endpoint. After a (re)connection, notifications may
 * have been missed, so everything is reloaded. A new state's versions are loaded and warmed
 * (a candidate in the candidate threads as well) before it replaces the old one, so they take
 * traffic warm.
 */
@Injectable()
export class EndpointRouter implements OnApplicationBootstrap, OnApplicationShutdown {
  private static readonly logger = new Logger('EndpointRouter');
  private readonly states = new Map<string, EndpointState>();
  /** Per endpoint, the refresh in progress: refreshes of one endpoint run one after another. */
  private readonly refreshing = new Map<string, Promise<void>>();
  private readonly misses = new Map<string, Promise<EndpointState | undefined>>();
  private listener: NotificationListener | undefined;
  private loadedOnce = false;

  constructor(
    private readonly database: Database,
    private readonly reader: EndpointStateReader,
    private readonly runtime: ModelRuntime,
    private readonly candidates: CandidateExecutor,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.listener = new NotificationListener({
      connectionString: this.database.url,
      channel: ENDPOINTS_CHANNEL,
      applicationName: 'gatehouse-router',
      onNotification: (name) => {
        void this.refresh(name);
      },
      onConnect: () => this.reloadAll(),
      log: (message) => {
        EndpointRouter.logger.warn(message);
      },
    });
    if (!(await this.listener.start()) && !this.loadedOnce) {
      // No LISTEN yet (it keeps retrying); serve what the database says now.
      await this.reloadAll().catch((error: unknown) => {
        EndpointRouter.logger.error(`loading endpoints failed: ${String(error)}`);
      });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.listener?.close();
  }

  /** The listener's connection count, for tests and health. */
  listenerConnections(): number {
    return this.listener?.connectionCount ?? 0;
  }

  /** The cached state, if the endpoint is known; no I/O. */
  peek(name: string): EndpointState | undefined {
    return this.states.get(name);
  }

  /**
   * The endpoint's state. An endpoint this replica has not cached (created since the last
   * load: creation sends no notification) is read from the database once.
   */
  async state(name: string): Promise<EndpointState> {
    const cached = this.states.get(name);
    if (cached) return cached;
    let miss = this.misses.get(name);
    if (!miss) {
      miss = this.reader.byName(name).finally(() => this.misses.delete(name));
      this.misses.set(name, miss);
    }
    const loaded = await miss;
    if (!loaded) throw new NotFoundError('endpoint', name);
    return this.apply(loaded);
  }

  /** Reloads one endpoint (after a notification), warming its versions first. */
  refresh(name: string): Promise<void> {
    const previous = this.refreshing.get(name) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        const loaded = await this.reader.byName(name);
        if (!loaded) {
          this.states.delete(name);
          return;
        }
        await this.warm(loaded);
        this.apply(loaded);
      })
      .catch((error: unknown) => {
        EndpointRouter.logger.error(`reloading endpoint ${name} failed: ${String(error)}`);
      })
      .finally(() => {
        if (this.refreshing.get(name) === next) this.refreshing.delete(name);
      });
    this.refreshing.set(name, next);
    return next;
  }

  /** Reloads every endpoint; those that no longer exist are forgotten. */
  async reloadAll(): Promise<void> {
    const all = await this.reader.all();
    await Promise.all(all.map((s) => this.warm(s)));
    const names = new Set(all.map((s) => s.name));
    for (const name of this.states.keys()) if (!names.has(name)) this.states.delete(name);
    for (const state of all) this.apply(state);
    this.loadedOnce = true;
  }

  /** Keeps the newer of the cached and the loaded state (by revision). */
  private apply(loaded: EndpointState): EndpointState {
    const cached = this.states.get(loaded.name);
    if (cached && cached.revision > loaded.revision) return cached;
    this.states.set(loaded.name, loaded);
    return loaded;
  }

  private async warm(state: EndpointState): Promise<void> {
    const versions = [state.live, state.candidate, state.standby].filter((v) => v !== null);
    // The candidate is loaded here too: it goes live on this thread when it is promoted.
    const results = await Promise.allSettled(
      versions.map(async (v) => {
        await this.runtime.warm(v.artifactSha256);
        if (v === state.candidate) await this.candidates.warm(v.artifactSha256);
      }),
    );
    results.forEach((result, i) => {
      if (result.status === 'rejected')
        EndpointRouter.logger.warn(
          `endpoint ${state.name}: version ${versions[i]?.version ?? '?'} could not be loaded: ${String(result.reason)}`,
        );
    });
  }
}
