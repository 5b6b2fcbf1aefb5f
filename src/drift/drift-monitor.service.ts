import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { LedgerService } from '../ledger/ledger.service.js';
import { POLICIES, type Policies } from '../policy/policies.js';
import { GatehouseMetrics } from '../telemetry/metrics.js';
import { withSpan } from '../telemetry/tracing.js';
import { episodeChange, windowDrift, windowValues, type WindowDrift } from './drift-window.js';
import { DriftInputs, type LiveVersion } from './drift-inputs.service.js';
import { DriftRepository, type DriftStatusRow } from './drift.repository.js';

const ACTOR = { sub: 'system:drift' };

/** What one check of one endpoint found. */
export type DriftCheck =
  | { readonly endpoint: string; readonly outcome: 'no-baseline' }
  | { readonly endpoint: string; readonly outcome: 'too-few-rows'; readonly rows: number }
  /** The check threw; the other endpoints are checked all the same. */
  | { readonly endpoint: string; readonly outcome: 'failed'; readonly message: string }
  | {
      readonly endpoint: string;
      readonly outcome: 'checked';
      readonly drift: WindowDrift;
      readonly change: 'open' | 'close' | null;
    };

/**
 * Drift monitoring of live versions: every `intervalSeconds`, for each endpoint
 * with a live version, the PSI of the score and of each feature over the last `windowSeconds`
 * of its logged traffic against the baseline stored with its evaluation. Computed from the
 * prediction log in PostgreSQL, so every replica sees all replicas' traffic and a restart
 * loses nothing; the status row is locked while an episode opens or closes, so exactly one
 * `drift.alert` (and one `drift.resolved`) is written per episode.
 *
 * Each endpoint is checked and written on its own: one whose check fails (its status row or
 * its event refused, say) is logged once per cause and does not keep the others unchecked.
 * The values written cannot be refused for their content: feature names come from the
 * registry's own text columns and non-finite figures become JSON null.
 */
@Injectable()
export class DriftMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private static readonly logger = new Logger('DriftMonitor');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  /** Per endpoint, the cause of its failing check last logged. */
  private readonly failing = new Map<string, string>();

  constructor(
    private readonly inputs: DriftInputs,
    private readonly repository: DriftRepository,
    private readonly ledger: LedgerService,
    private readonly metrics: GatehouseMetrics,
    @Inject(POLICIES) private readonly policies: Policies,
  ) {}

  private get policy() {
    return this.policies.evaluation.value.drift.monitoring;
  }

  onApplicationBootstrap(): void {
    const interval = this.policy.intervalSeconds;
    if (interval === 0) return;
    this.timer = setInterval(() => {
      // A slow check is not stacked on by the next tick.
      if (this.running) return;
      this.running = this.checkAll()
        .catch((error: unknown) => {
          DriftMonitor.logger.warn(`drift check failed: ${messageOf(error)}`);
        })
        .finally(() => {
          this.running = undefined;
        });
    }, interval * 1000).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Checks every endpoint with a live version now. */
  async checkAll(now: Date = new Date()): Promise<DriftCheck[]> {
    const results: DriftCheck[] = [];
    for (const live of await this.inputs.liveVersions()) {
      try {
        results.push(await this.check(live, now));
        this.failing.delete(live.endpoint);
      } catch (error) {
        const message = messageOf(error);
        results.push({ endpoint: live.endpoint, outcome: 'failed', message });
        if (this.failing.get(live.endpoint) === message) continue;
        this.failing.set(live.endpoint, message);
        DriftMonitor.logger.warn(
          `drift check of ${live.endpoint}@${live.version} failed (logged again only when the cause changes): ${message}`,
        );
      }
    }
    return results;
  }

  /** Checks one endpoint now (null when it has no live version). */
  async checkEndpoint(endpoint: string, now: Date = new Date()): Promise<DriftCheck | null> {
    const [live] = await this.inputs.liveVersions(endpoint);
    return live ? this.check(live, now) : null;
  }

  /** The last check of the endpoint's live version, if it was checked. */
  async status(endpoint: string, version: number): Promise<DriftStatusRow | null> {
    return this.repository.status(endpoint, version);
  }

  private check(live: LiveVersion, now: Date): Promise<DriftCheck> {
    return withSpan(
      'gatehouse.drift.check',
      { 'gatehouse.endpoint': live.endpoint, 'gatehouse.model.version': live.version },
      async (span) => {
        const result = await this.checkTraced(live, now);
        span.setAttribute('gatehouse.drift.outcome', result.outcome);
        if (result.outcome === 'checked') {
          span.setAttribute('gatehouse.drift.max_psi', result.drift.maxPsi);
          span.setAttribute('gatehouse.drift.rows', result.drift.rows);
        }
        return result;
      },
    );
  }

  private async checkTraced(live: LiveVersion, now: Date): Promise<DriftCheck> {
    const policy = this.policy;
    const baseline = await this.inputs.baseline(live);
    if (!baseline) return { endpoint: live.endpoint, outcome: 'no-baseline' };
    const windowStart = new Date(now.getTime() - policy.windowSeconds * 1000);
    const served = await this.inputs.served(
      live.endpoint,
      live.version,
      windowStart,
      policy.maxRows,
    );
    const values = windowValues(served, live);
    // Too little traffic to judge: the episode (if any) stays as it is.
    if (values.rows < policy.minRows)
      return { endpoint: live.endpoint, outcome: 'too-few-rows', rows: values.rows };
    const drift = windowDrift(baseline.drift, live, values);
    this.metrics.recordDrift(live.endpoint, live.version, drift.scorePsi, drift.features);

    const change = await this.ledger.transaction(async (tx) => {
      const measured: DriftStatusRow = {
        endpoint: live.endpoint,
        version: live.version,
        evaluationId: baseline.evaluationId,
        alerting: false,
        episodeStartedAt: null,
        checkedAt: now,
        windowStart,
        windowEnd: now,
        rows: drift.rows,
        threshold: policy.psiThreshold,
        scorePsi: drift.scorePsi,
        features: drift.features,
      };
      await this.repository.ensureStatus(tx.manager, measured);
      const previous = await this.repository.lockStatus(tx.manager, live.endpoint, live.version);
      const alerting = previous?.alerting ?? false;
      const change = episodeChange(alerting, drift.maxPsi, policy.psiThreshold);
      const opened = change === 'open';
      await this.repository.saveStatus(tx.manager, {
        ...measured,
        alerting: change === null ? alerting : opened,
        episodeStartedAt: opened
          ? now
          : change === 'close'
            ? null
            : (previous?.episodeStartedAt ?? null),
      });
      if (change !== null) {
        tx.record({
          type: opened ? 'drift.alert' : 'drift.resolved',
          subject: `endpoint:${live.endpoint}`,
          actor: ACTOR,
          payload: {
            endpoint: live.endpoint,
            version: live.version,
            evaluationId: baseline.evaluationId,
            threshold: policy.psiThreshold,
            window: {
              from: windowStart.toISOString(),
              to: now.toISOString(),
              rows: drift.rows,
            },
            scorePsi: drift.scorePsi,
            maxPsi: drift.maxPsi,
            // Only what breached, for the alert; every figure is in drift_status and /metrics.
            breached: [
              ...(drift.scorePsi !== null && drift.scorePsi > policy.psiThreshold ? ['score'] : []),
              ...drift.features.filter((f) => f.psi > policy.psiThreshold).map((f) => f.feature),
            ],
            features: drift.features.map((f) => ({ feature: f.feature, psi: f.psi })),
          },
        });
      }
      return change;
    });
    if (change === 'open') {
      this.metrics.recordDriftAlert(live.endpoint, live.version);
      DriftMonitor.logger.warn(
        `drift on ${live.endpoint}@${live.version}: PSI ${drift.maxPsi.toFixed(3)} above ${policy.psiThreshold}`,
      );
    } else if (change === 'close') {
      DriftMonitor.logger.log(`drift on ${live.endpoint}@${live.version} resolved`);
    }
    return { endpoint: live.endpoint, outcome: 'checked', drift, change };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
