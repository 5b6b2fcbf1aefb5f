import { Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { Can } from '../auth/decorators.js';
import { EndpointModel } from '../endpoints/endpoints.model.js';
import { DriftMonitor } from './drift-monitor.service.js';
import { EndpointDriftModel } from './drift.model.js';

/** `Endpoint.drift`, resolved here so that the endpoints module need not know about drift. */
@Resolver(() => EndpointModel)
export class EndpointDriftResolver {
  constructor(private readonly monitor: DriftMonitor) {}

  @ResolveField(() => EndpointDriftModel, {
    nullable: true,
    description:
      'Drift of the live version’s served traffic against its evaluation baseline; null before the first check.',
  })
  @Can('read', 'Endpoint')
  async drift(@Parent() endpoint: EndpointModel): Promise<EndpointDriftModel | null> {
    if (endpoint.liveVersion === null) return null;
    const status = await this.monitor.status(endpoint.name, endpoint.liveVersion);
    if (!status) return null;
    return {
      version: status.version,
      alerting: status.alerting,
      since: status.episodeStartedAt,
      checkedAt: status.checkedAt,
      windowStart: status.windowStart,
      windowEnd: status.windowEnd,
      rows: status.rows,
      threshold: status.threshold,
      scorePsi: status.scorePsi,
      features: status.features.map((f) => ({ feature: f.feature, psi: f.psi })),
      evaluationId: status.evaluationId,
    };
  }
}
