import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { ConflictError, NotFoundError } from '../common/errors.js';
import { checkStatement } from '../common/statements.js';
import type { EndpointEntity } from '../endpoints/endpoint.entity.js';
import { EndpointsService } from '../endpoints/endpoints.service.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { POLICIES, type Policies } from '../policy/policies.js';
import type { StreamBindingEntity } from './stream-binding.entity.js';
import {
  differingFields,
  resolveStreamBinding,
  type StreamBindingRequest,
  type StreamBindingValues,
} from './stream-binding-rules.js';
import { StreamBindingsRepository } from './stream-bindings.repository.js';

/** A binding with its endpoint's name: what a replica runs. */
export interface BoundEndpoint {
  readonly endpoint: string;
  readonly inputSubject: string;
  readonly stream: string;
  readonly consumer: string;
  readonly outputSubject: string;
  readonly deadLetterSubject: string;
  readonly maxAckPending: number;
}

function boundOf(endpoint: string, b: StreamBindingEntity): BoundEndpoint {
  return {
    endpoint,
    inputSubject: b.inputSubject,
    stream: b.stream,
    consumer: b.consumer,
    outputSubject: b.outputSubject,
    deadLetterSubject: b.deadLetterSubject,
    maxAckPending: b.maxAckPending,
  };
}

/**
 * Binds endpoints to NATS JetStream inputs and unbinds them. Each change is committed with its
 * ledger event and announced to every replica; the endpoint's row lock makes the changes of one
 * endpoint happen one at a time, as its traffic changes do.
 */
@Injectable()
export class StreamBindingsService {
  constructor(
    private readonly repository: StreamBindingsRepository,
    private readonly endpoints: EndpointsService,
    private readonly ledger: LedgerService,
    @Inject(POLICIES) private readonly policies: Policies,
  ) {}

  /**
   * Binds the endpoint. The same binding again changes nothing and records nothing, so a
   * pipeline may repeat it; a different one while bound is a conflict: unbind first, so that
   * the ledger says why the input moved.
   */
  async bind(
    name: string,
    request: StreamBindingRequest,
    reason: string,
    principal: Principal,
  ): Promise<EndpointEntity> {
    const why = this.checkReason(reason);
    return this.ledger.transaction(async (tx) => {
      const endpoint = await this.endpoints.lock(tx.manager, name);
      if (!endpoint) throw new NotFoundError('endpoint', name);
      // After the lookup: the defaults are made of the name, which only an endpoint's is known good.
      const wanted = resolveStreamBinding(endpoint.name, request);
      const current = await this.repository.byEndpoint(endpoint.id, tx.manager);
      if (current) {
        const differing = differingFields(valuesOf(current), wanted);
        if (differing.length === 0) return endpoint;
        throw new ConflictError(
          `endpoint ${name} is already bound to a stream, with a different ${differing.join(', ')}: unbind it first`,
          { endpoint: name, fields: differing },
        );
      }
      const other = await this.repository.byConsumer(tx.manager, wanted.stream, wanted.consumer);
      if (other) {
        const holder = await this.endpoints.byId(other.endpointId, tx.manager);
        throw new ConflictError(
          `consumer ${wanted.consumer} of stream ${wanted.stream} already reads for endpoint ${holder.name}: two endpoints on one durable consumer would each get part of its messages`,
          { endpoint: holder.name, stream: wanted.stream, consumer: wanted.consumer },
        );
      }
      await this.repository.insert(
        tx.manager,
        { endpointId: endpoint.id, ...wanted, createdBy: principal.sub },
        name,
      );
      tx.record({
        type: 'endpoint.stream.bound',
        subject: `endpoint:${name}`,
        actor: actorOf(principal),
        payload: { endpoint: name, ...wanted, reason: why },
      });
      return endpoint;
    });
  }

  /**
   * Removes the endpoint's binding. Unbinding an endpoint that is not bound changes nothing and
   * records nothing: the caller wanted it unbound and it is, as a repeated bind is idempotent.
   */
  async unbind(name: string, reason: string, principal: Principal): Promise<EndpointEntity> {
    const why = this.checkReason(reason);
    return this.ledger.transaction(async (tx) => {
      const endpoint = await this.endpoints.lock(tx.manager, name);
      if (!endpoint) throw new NotFoundError('endpoint', name);
      const current = await this.repository.byEndpoint(endpoint.id, tx.manager);
      if (!current) return endpoint;
      await this.repository.delete(tx.manager, endpoint.id, name);
      tx.record({
        type: 'endpoint.stream.unbound',
        subject: `endpoint:${name}`,
        actor: actorOf(principal),
        payload: { endpoint: name, reason: why },
      });
      return endpoint;
    });
  }

  /** Every binding, with its endpoint's name: what each replica runs. */
  async allBound(): Promise<BoundEndpoint[]> {
    const [bindings, endpoints] = await Promise.all([this.repository.all(), this.endpoints.all()]);
    const names = new Map(endpoints.map((e) => [e.id, e.name]));
    return bindings.flatMap((b) => {
      const name = names.get(b.endpointId);
      return name === undefined ? [] : [boundOf(name, b)];
    });
  }

  /** The named endpoint's binding, or null when it is unbound or does not exist. */
  async boundEndpoint(name: string): Promise<BoundEndpoint | null> {
    const endpoint = await this.endpoints.byName(name);
    const binding = endpoint && (await this.repository.byEndpoint(endpoint.id));
    return binding ? boundOf(name, binding) : null;
  }

  /** The endpoint's binding, or null when it reads from no stream. */
  ofEndpoint(endpointId: string): Promise<StreamBindingEntity | null> {
    return this.repository.byEndpoint(endpointId);
  }

  /** Held to the rule of every text people sign with (the policy's minimum, three words). */
  private checkReason(reason: string): string {
    return checkStatement('reason', reason, this.policies.promotion.value.text.minReasonLength);
  }
}

function valuesOf(row: StreamBindingEntity): StreamBindingValues {
  return {
    inputSubject: row.inputSubject,
    stream: row.stream,
    consumer: row.consumer,
    outputSubject: row.outputSubject,
    deadLetterSubject: row.deadLetterSubject,
    maxAckPending: row.maxAckPending,
  };
}
