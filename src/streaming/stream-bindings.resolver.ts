import { Args, Mutation, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import type { EndpointEntity } from '../endpoints/endpoint.entity.js';
import { endpointModelOf, EndpointModel } from '../endpoints/endpoints.model.js';
import { RegistryService } from '../registry/registry.service.js';
import { StreamBindingInput, StreamBindingModel } from './stream-binding.model.js';
import { StreamBindingsService } from './stream-bindings.service.js';

/**
 * `bindStream`, `unbindStream` and `Endpoint.streamBinding`, resolved here so that the
 * endpoints module need not know about streams. Binding is a change to how an endpoint is run,
 * so it takes the permission its other changes take (`update Endpoint`).
 */
@Resolver(() => EndpointModel)
export class StreamBindingsResolver {
  constructor(
    private readonly service: StreamBindingsService,
    private readonly registry: RegistryService,
  ) {}

  @Mutation(() => EndpointModel, {
    description:
      'Binds the endpoint to a NATS JetStream input, with the reason in the ledger. The same binding again changes nothing; a different one while bound is a CONFLICT.',
  })
  @Can('update', 'Endpoint')
  async bindStream(
    @Args('endpoint') endpoint: string,
    @Args('input') input: StreamBindingInput,
    @Args('reason') reason: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<EndpointModel> {
    return this.present(await this.service.bind(endpoint, input, reason, principal));
  }

  @Mutation(() => EndpointModel, {
    description:
      'Removes the endpoint’s stream binding, with the reason in the ledger. An endpoint that is not bound stays so, and nothing is recorded.',
  })
  @Can('update', 'Endpoint')
  async unbindStream(
    @Args('endpoint') endpoint: string,
    @Args('reason') reason: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<EndpointModel> {
    return this.present(await this.service.unbind(endpoint, reason, principal));
  }

  @ResolveField(() => StreamBindingModel, {
    nullable: true,
    description: 'The NATS JetStream input the endpoint reads requests from; null when none.',
  })
  @Can('read', 'Endpoint')
  async streamBinding(@Parent() endpoint: EndpointModel): Promise<StreamBindingModel | null> {
    const row = await this.service.ofEndpoint(endpoint.id);
    if (!row) return null;
    return {
      inputSubject: row.inputSubject,
      stream: row.stream,
      consumer: row.consumer,
      outputSubject: row.outputSubject,
      deadLetterSubject: row.deadLetterSubject,
      maxAckPending: row.maxAckPending,
      createdBy: row.createdBy,
      createdAt: row.createdAt,
    };
  }

  private async present(row: EndpointEntity): Promise<EndpointModel> {
    const names = await this.registry.modelNames([row.modelId]);
    return endpointModelOf(row, names.get(row.modelId) ?? '');
  }
}
