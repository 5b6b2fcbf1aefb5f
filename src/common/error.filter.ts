import { ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { GqlContextType } from '@nestjs/graphql';
import type { FastifyReply } from 'fastify';
import { GraphQLError } from 'graphql';
import { clientErrorOf, errorBody } from './client-error.js';

/**
 * Where errors become answers for GraphQL and for REST routes served through Nest. Resolvers
 * and controllers never catch to translate: they throw DomainErrors and `clientErrorOf` maps
 * the code. (Real-time inference answers on its own path, src/inference/infer-lane.ts, with the
 * same mapping.)
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): unknown {
    const error = clientErrorOf(exception);
    if (host.getType<GqlContextType>() === 'graphql') {
      return new GraphQLError(error.message, {
        extensions: { code: error.code, ...(error.details ? { details: error.details } : {}) },
      });
    }
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    void reply.status(error.status).send(errorBody(error));
    return undefined;
  }
}
