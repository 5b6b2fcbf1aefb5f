import type { ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext, type GqlContextType } from '@nestjs/graphql';
import type { FastifyRequest } from 'fastify';
import type { Principal } from './principal.js';

export type AuthenticatedRequest = FastifyRequest & {
  principal?: Principal;
  principalPromise?: Promise<Principal>;
};

/** The HTTP request behind a REST call or a GraphQL operation. */
export function requestOf(ctx: ExecutionContext): AuthenticatedRequest {
  if (ctx.getType<GqlContextType>() === 'graphql') {
    return GqlExecutionContext.create(ctx).getContext<{ req: AuthenticatedRequest }>().req;
  }
  return ctx.switchToHttp().getRequest<AuthenticatedRequest>();
}
