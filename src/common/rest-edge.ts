import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientErrorOf, errorBody } from './client-error.js';
import { BadInputError } from './errors.js';
import { findValueFault } from './text-rules.js';

/**
 * What the REST routes share ahead of their handlers, on Fastify itself:
 *
 * - the text rule (./text-rules.ts) for every JSON body, query string and path parameter, so a
 *   handler never sees NUL, an unpaired surrogate or a non-finite number; GraphQL checks its
 *   arguments itself, naming them as GraphQL does (src/graphql/argument-rules.ts), and uploads
 *   are streamed to handlers that check what they read;
 * - Fastify's own client errors (a path that does not decode, a body that is not JSON, an empty
 *   one, an unsupported media type), answered in the REST error shape (`answerFrameworkError`),
 *   where `clientErrorOf` names them.
 */
const JSON_MEDIA = /^\s*application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export function registerRestEdge(fastify: FastifyInstance, graphqlPath: string): void {
  // Nest installs its error handler after it has added its routes, and a Fastify route keeps the
  // handler in force when it was added: errors raised before a handler runs (this hook's, the
  // JSON parser's) would get Fastify's default answer. Each route gets ours instead; a second
  // `setErrorHandler` in the same scope would be an override Fastify warns of. GraphQL answers
  // its own errors.
  fastify.addHook('onRoute', (route) => {
    if (!route.url.startsWith(graphqlPath)) route.errorHandler ??= answerFrameworkError;
  });
  fastify.addHook('preHandler', (request, reply, done) => {
    if (request.url === graphqlPath || request.url.startsWith(`${graphqlPath}?`)) {
      done();
      return;
    }
    // Uploads are streams, checked as they are read; a text/plain body is refused by every route.
    const fault =
      findValueFault(request.params, '') ??
      findValueFault(request.query, '') ??
      (JSON_MEDIA.test(request.headers['content-type'] ?? '')
        ? findValueFault(request.body, '')
        : undefined);
    done(fault ? new BadInputError(fault.field || 'body', fault.reason) : undefined);
  });
}

/**
 * Errors Fastify raises outside Nest's handlers, in the REST error shape. Also Fastify's
 * `frameworkErrors` option: a path that does not decode (`%ED%A0%80`) is refused before any
 * route.
 */
export function answerFrameworkError(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const client = clientErrorOf(
    error.code === 'FST_ERR_BAD_URL'
      ? new BadInputError('path', 'is not valid percent-encoded UTF-8')
      : error,
  );
  void reply.status(client.status).send(errorBody(client));
}
