import type { MercuriusDriverConfig } from '@nestjs/mercurius';
import { MercuriusDriver } from '@nestjs/mercurius';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  Kind,
  type DocumentNode,
  type ExecutionResult,
  type FormattedExecutionResult,
} from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import mercurius from 'mercurius';
import type { AuthService } from '../auth/auth.service.js';
import { DomainError } from '../common/errors.js';
import type { Config } from '../config/config.js';
import { findArgumentFault } from './argument-rules.js';
import { depthLimitRule } from './depth-rule.js';

interface Context {
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
}

/**
 * Code-first GraphQL on Mercurius. Limits: query depth (./depth-rule.ts), query cost
 * (graphql-query-complexity: each field costs 1 unless it declares `complexity`; a list field
 * declares its cost from its page size), and the HTTP body limit of the Fastify adapter.
 * Before execution every argument is held to the text rule (./argument-rules.ts), and, where
 * the configuration says so, the schema is shown only to an authenticated caller.
 */
export function graphqlOptions(config: Config, auth: AuthService): MercuriusDriverConfig {
  const production = config.env === 'production';
  const { introspection } = config.graphql;
  return {
    driver: MercuriusDriver,
    autoSchemaFile: true,
    sortSchema: true,
    path: '/graphql',
    graphiql: config.graphql.graphiql,
    // Ours rather than Mercurius's `queryDepth`: the introspection query is exempt (depth-rule.ts).
    validationRules: [depthLimitRule(config.graphql.maxDepth)],
    context: (request: FastifyRequest, reply: FastifyReply): Context => ({ req: request, reply }),
    hooks: {
      // Cost is checked before execution rather than as a validation rule, so that Mercurius
      // can keep caching parsed and validated documents (a rule depending on variables can't be cached).
      preExecution: async (schema, document, context, variables) => {
        const fault = findArgumentFault(document, variables);
        if (fault)
          throw new mercurius.ErrorWithProps(
            `${fault.field}: ${fault.reason}`,
            { code: 'BAD_USER_INPUT', details: { field: fault.field } },
            400,
          );
        if (introspection === 'authenticated' && asksForSchema(document))
          await authenticateIntrospection(auth, (context as unknown as Context).req);
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
        // Without the schema to a stranger, "Did you mean …?" would still spell out its names.
        response: withCodes(formatted.response, execution, {
          production,
          suggestions: introspection === 'public',
        }),
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
  options: { readonly production: boolean; readonly suggestions: boolean },
): FormattedExecutionResult {
  const errors = response.errors?.map((error, i) => {
    const code =
      error.extensions?.['code'] ?? execution.errors?.[i]?.extensions['code'] ?? 'BAD_USER_INPUT';
    const extensions: Record<string, unknown> = { ...error.extensions, code };
    if (options.production) delete extensions['exception'];
    const message = options.suggestions ? error.message : error.message.replace(SUGGESTION, '');
    return { ...error, message, extensions };
  });
  return errors ? { ...response, errors } : response;
}

/** Whether an operation asks for the schema (`__schema` or `__type`, at its top level). */
function asksForSchema(document: DocumentNode): boolean {
  return document.definitions.some(
    (d) =>
      d.kind === Kind.OPERATION_DEFINITION &&
      d.selectionSet.selections.some(
        (s) => s.kind === Kind.FIELD && (s.name.value === '__schema' || s.name.value === '__type'),
      ),
  );
}

async function authenticateIntrospection(
  auth: AuthService,
  request: FastifyRequest,
): Promise<void> {
  const authorization = request.headers.authorization;
  try {
    if (auth.remembered(authorization) === undefined) await auth.authenticate(authorization);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    throw new mercurius.ErrorWithProps(
      `introspection needs a valid bearer token: ${error.message}`,
      { code: error.code },
      401,
    );
  }
}

const SUGGESTION = / ?Did you mean [^?]*\?/g;
