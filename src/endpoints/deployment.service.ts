import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { BadInputError, ConflictError, NotFoundError } from '../common/errors.js';
import type { Actor, LedgerTx } from '../ledger/ledger.service.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { ModelVersionEntity } from '../registry/model-version.entity.js';
import { ModelEntity } from '../registry/model.entity.js';
import { EndpointEntity, type TrafficMode } from './endpoint.entity.js';
import { ENDPOINTS_CHANNEL } from './endpoint-events.js';

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
  constructor(private readonly ledger: LedgerService) {}

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
    const current = await tx.manager
      .createQueryBuilder(EndpointEntity, 'e')
      .setLock('pessimistic_write')
      .where('e.name = :endpoint', { endpoint })
      .getOne();
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
    await checkTraffic(tx.manager, current.modelId, next);
    await tx.manager.update(
      EndpointEntity,
      { id: current.id },
      { ...next, revision: current.revision + 1, updatedAt: new Date() },
    );
    await tx.manager.query('SELECT pg_notify($1, $2)', [ENDPOINTS_CHANNEL, endpoint]);
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
    const updated = await tx.manager.findOneBy(EndpointEntity, { id: current.id });
    if (!updated) throw new Error(`endpoint ${endpoint} vanished inside its own transaction`);
    return updated;
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

async function checkTraffic(manager: EntityManager, modelId: string, t: Traffic): Promise<void> {
  for (const field of ['liveVersion', 'candidateVersion', 'standbyVersion'] as const) {
    const version = t[field];
    if (version === null) continue;
    const exists = await manager.existsBy(ModelVersionEntity, { modelId, version });
    if (!exists) {
      const model = await manager.findOneBy(ModelEntity, { id: modelId });
      throw new NotFoundError('model version', `${model?.name ?? modelId}@${version}`);
    }
  }
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
