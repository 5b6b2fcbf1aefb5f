import { Injectable } from '@nestjs/common';
import { BadInputError, ConflictError, NotFoundError } from '../common/errors.js';
import type { Actor, LedgerTx } from '../ledger/ledger.service.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { RegistryService } from '../registry/registry.service.js';
import type { EndpointEntity, TrafficMode } from './endpoint.entity.js';
import { EndpointsRepository } from './endpoints.repository.js';

/** A change of an endpoint's traffic state; absent members stay as they are. */
export interface TrafficChange {
  readonly liveVersion?: number | null;
  readonly candidateVersion?: number | null;
  /** The previous live version kept loaded after a go-live; it answers nothing. */
  readonly standbyVersion?: number | null;
  readonly mode?: TrafficMode;
  readonly candidateWeight?: number;
  readonly shadowSample?: number;
}

/**
 * The only code that changes which version serves: promotions and rollouts call it, no
 * GraphQL mutation does. Each change locks the endpoint row, is checked, bumps the revision,
 * records its ledger event and notifies every replica's router (NOTIFY is delivered at
 * commit, so no replica ever routes to a state that did not commit).
 */
@Injectable()
export class DeploymentService {
  constructor(
    private readonly repository: EndpointsRepository,
    private readonly registry: RegistryService,
    private readonly ledger: LedgerService,
  ) {}

  /** In a unit of work of its own. */
  setTraffic(
    endpoint: string,
    change: TrafficChange,
    actor: Actor,
    reason: string,
  ): Promise<EndpointEntity> {
    return this.ledger.transaction((tx) => this.applyTraffic(tx, endpoint, change, actor, reason));
  }

  /** Inside the caller's unit of work (a rollout stage change, say), with its events. */
  async applyTraffic(
    tx: LedgerTx,
    endpoint: string,
    change: TrafficChange,
    actor: Actor,
    reason: string,
  ): Promise<EndpointEntity> {
    const current = await this.repository.lock(tx.manager, endpoint);
    if (!current) throw new NotFoundError('endpoint', endpoint);
    const next = {
      liveVersion: change.liveVersion === undefined ? current.liveVersion : change.liveVersion,
      candidateVersion:
        change.candidateVersion === undefined ? current.candidateVersion : change.candidateVersion,
      standbyVersion:
        change.standbyVersion === undefined ? current.standbyVersion : change.standbyVersion,
      mode: change.mode ?? current.mode,
      candidateWeight: change.candidateWeight ?? current.candidateWeight,
      shadowSample: change.shadowSample ?? current.shadowSample,
    };
    await this.checkVersions(tx, current.modelId, next);
    checkTraffic(next);
    await this.repository.updateTraffic(
      tx.manager,
      { id: current.id, name: endpoint },
      next,
      current.revision + 1,
    );
    const liveChanged = next.liveVersion !== current.liveVersion;
    tx.record({
      type: liveChanged ? 'deployment.live.changed' : 'deployment.traffic.changed',
      subject: `endpoint:${endpoint}`,
      actor,
      payload: {
        endpoint,
        revision: current.revision + 1,
        from: trafficOf(current),
        to: next,
        reason,
      },
    });
    const updated = await this.repository.byName(endpoint, tx.manager);
    if (!updated) throw new Error(`endpoint ${endpoint} vanished inside its own transaction`);
    return updated;
  }

  private async checkVersions(tx: LedgerTx, modelId: string, t: Traffic): Promise<void> {
    for (const field of ['liveVersion', 'candidateVersion', 'standbyVersion'] as const) {
      const version = t[field];
      if (version === null) continue;
      if (!(await this.registry.versionExists(modelId, version, tx.manager))) {
        const model = await this.registry.modelById(modelId, tx.manager);
        throw new NotFoundError('model version', `${model.name}@${version}`);
      }
    }
  }
}

type Traffic = { readonly [K in keyof TrafficChange]-?: Exclude<TrafficChange[K], undefined> };

function trafficOf(e: EndpointEntity): Traffic {
  return {
    liveVersion: e.liveVersion,
    candidateVersion: e.candidateVersion,
    standbyVersion: e.standbyVersion,
    mode: e.mode,
    candidateWeight: e.candidateWeight,
    shadowSample: e.shadowSample,
  };
}

function checkTraffic(t: Traffic): void {
  for (const field of ['candidateWeight', 'shadowSample'] as const) {
    const value = t[field];
    if (!Number.isInteger(value) || value < 0 || value > 10_000)
      throw new BadInputError(field, 'must be basis points, an integer from 0 to 10000');
  }
  if (t.mode !== 'NONE' && t.candidateVersion === null)
    throw new ConflictError(`traffic mode ${t.mode} needs a candidate version`);
  if (t.candidateVersion !== null && t.candidateVersion === t.liveVersion)
    throw new ConflictError('the candidate is already the live version');
  if (t.standbyVersion !== null && t.standbyVersion === t.liveVersion)
    throw new ConflictError('the standby version is the live version');
}
