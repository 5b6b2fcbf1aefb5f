import type { MercuriusDriverConfig } from '@nestjs/mercurius';
import { MercuriusDriver } from '@nestjs/mercurius';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ExecutionResult, type FormattedExecutionResult } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import mercurius from 'mercurius';
import type { Config } from '../config/config.js';

/**
 * Code-first GraphQL on Mercurius. Limits: query depth (Mercurius), query cost
 * (graphql-query-complexity: each field costs 1 unless it declares `complexity`; a list field
 * declares its cost from its page size), and the HTTP body limit of the Fastify adapter.
 */
export function graphqlOptions(config: Config): MercuriusDriverConfig {
  const production = config.env === 'production';
  return {
    driver: MercuriusDriver,
    autoSchemaFile: true,
    sortSchema: true,
    path: '/graphql',
    graphiql: config.graphql.graphiql,
    queryDepth: config.graphql.maxDepth,
    context: (request: FastifyRequest, reply: FastifyReply) => ({ req: request, reply }),
    hooks: {
      // Cost is checked before execution rather than as a validation rule, so that Mercurius
      // can keep caching parsed and validated documents (a rule depending on variables can't be cached).
      preExecution: (schema, document, _context, variables) => {
        const cost = getComplexity({
          schema,
          query: document,
          variables,
          estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
        });
        if (cost > config.graphql.maxCost) {
          throw new mercurius.ErrorWithProps(
            `query cost ${cost} exceeds the limit of ${config.graphql.maxCost}`,
            { code: 'BAD_USER_INPUT' },
            400,
          );
        }
      },
    },
    errorFormatter: (execution, context) => {
      const formatted = mercurius.defaultErrorFormatter(execution, context);
      return {
        statusCode: formatted.statusCode,
        response: withCodes(formatted.response, execution, production),
      };
    },
  };
}

/**
 * Every error a client sees carries `extensions.code`. Errors that did not come through the
 * error filter (syntax, validation, depth) are the client's: BAD_USER_INPUT.
 */
function withCodes(
  response: FormattedExecutionResult,
  execution: ExecutionResult,
  production: boolean,
): FormattedExecutionResult {
  const errors = response.errors?.map((error, i) => {
    const code =
      error.extensions?.['code'] ?? execution.errors?.[i]?.extensions['code'] ?? 'BAD_USER_INPUT';
    const extensions: Record<string, unknown> = { ...error.extensions, code };
    if (production) delete extensions['exception'];
    return { ...error, extensions };
  });
  return errors ? { ...response, errors } : response;
}
