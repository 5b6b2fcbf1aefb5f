import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { RegistryService } from '../registry/registry.service.js';
import type { EndpointEntity, PredictionLogPolicy } from './endpoint.entity.js';
import {
  endpointModelOf,
  EndpointModel,
  EndpointPageModel,
  EndpointsArgs,
  PredictionLogPolicyEnum,
} from './endpoints.model.js';
import { EndpointsService } from './endpoints.service.js';

@Resolver(() => EndpointModel)
export class EndpointsResolver {
  constructor(
    private readonly service: EndpointsService,
    private readonly registry: RegistryService,
  ) {}

  @Query(() => EndpointPageModel, {
    complexity: ({ args, childComplexity }) => Number(args['limit'] ?? 50) * childComplexity,
  })
  @Can('read', 'Endpoint')
  async endpoints(@Args() args: EndpointsArgs): Promise<EndpointPageModel> {
    const page = await this.service.list(args);
    return { items: await this.present(page.items), nextCursor: page.nextCursor };
  }

  @Query(() => EndpointModel, { nullable: true })
  @Can('read', 'Endpoint')
  async endpoint(@Args('name') name: string): Promise<EndpointModel | null> {
    const row = await this.service.byName(name);
    return row ? ((await this.present([row]))[0] ?? null) : null;
  }

  @Mutation(() => EndpointModel, {
    description:
      'Creates an endpoint for a model, with no live version: one goes live only through an approved promotion.',
  })
  @Can('create', 'Endpoint')
  async createEndpoint(
    @Args('name') name: string,
    @Args('model') model: string,
    @CurrentPrincipal() principal: Principal,
    @Args('predictionLogPolicy', {
      type: () => PredictionLogPolicyEnum,
      nullable: true,
      description: 'Default: REQUIRED for a HIGH-tier model, else BEST_EFFORT.',
    })
    predictionLogPolicy?: PredictionLogPolicy | null,
  ): Promise<EndpointModel> {
    const row = await this.service.create(name, model, principal, predictionLogPolicy ?? undefined);
    return endpointModelOf(row, model);
  }

  @Mutation(() => EndpointModel, {
    description:
      'Sets what the endpoint does when the prediction log can take no more, with the reason in the ledger. An endpoint of a HIGH-tier model stays REQUIRED.',
  })
  @Can('update', 'Endpoint')
  async setPredictionLogPolicy(
    @Args('endpoint') endpoint: string,
    @Args('policy', { type: () => PredictionLogPolicyEnum }) policy: PredictionLogPolicy,
    @Args('reason') reason: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<EndpointModel> {
    const row = await this.service.setPredictionLogPolicy(endpoint, policy, reason, principal);
    return (await this.present([row]))[0] as EndpointModel;
  }

  private async present(rows: EndpointEntity[]): Promise<EndpointModel[]> {
    const names = await this.registry.modelNames(rows.map((r) => r.modelId));
    return rows.map((r) => endpointModelOf(r, names.get(r.modelId) ?? ''));
  }
}
