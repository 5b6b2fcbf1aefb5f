import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { clientErrorOf, errorBody } from './client-error.js';
import { BadInputError, DomainError } from './errors.js';
import { findValueFault } from './text-rules.js';

/**
 * What the REST routes share ahead of their handlers, on Fastify itself:
 *
 * - the text rule (./text-rules.ts) for every JSON body, query string and path parameter, so a
 *   handler never sees NUL, an unpaired surrogate or a non-finite number; GraphQL checks its
 *   arguments itself, naming them as GraphQL does (src/graphql/argument-rules.ts), and uploads
 *   are streamed to handlers that check what they read;
 * - one error shape: an error raised before a handler runs (a body that is not JSON, an empty
 *   JSON body, an unsupported media type) is answered `{"error": {code, message, details}}`
 *   like every other REST error, not in Fastify's own shape.
 */
export function registerRestEdge(fastify: FastifyInstance, graphqlPath: string): void {
  fastify.addHook('preHandler', (request, _reply, done) => {
    if (request.url === graphqlPath || request.url.startsWith(`${graphqlPath}?`)) {
      done();
      return;
    }
    const fault =
      findValueFault(request.params, '') ??
      findValueFault(request.query, '') ??
      (request.body instanceof Readable || Buffer.isBuffer(request.body)
        ? undefined
        : findValueFault(request.body, ''));
    done(fault ? new BadInputError(fault.field || 'body', fault.reason) : undefined);
  });
  fastify.setErrorHandler((error: FastifyError, _request, reply) => {
    sendError(error, reply);
  });
}

/**
 * For Fastify's `frameworkErrors` option: a path that does not decode (`%ED%A0%80`) is refused
 * before any route or error handler, so it is answered here, in the same shape.
 */
export function answerFrameworkError(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  sendError(
    error.code === 'FST_ERR_BAD_URL'
      ? Object.assign(new BadInputError('path', 'is not valid percent-encoded UTF-8'), {
          statusCode: 400,
        })
      : error,
    reply,
  );
}

function sendError(error: FastifyError | DomainError, reply: FastifyReply): void {
  const domain = error instanceof DomainError ? error : asDomainError(error);
  const client = clientErrorOf(domain);
  // Fastify's status stands (415 stays 415); the body is ours.
  const status =
    domain === error || !('statusCode' in error)
      ? client.status
      : (error.statusCode ?? client.status);
  void reply.status(status).send(errorBody(client));
}

/**
 * Fastify's own client errors (they carry a 4xx `statusCode`) as the DomainError that says
 * the same; anything else is left as it is, for `clientErrorOf` to answer.
 */
function asDomainError(error: FastifyError): unknown {
  const status = error.statusCode;
  if (error instanceof DomainError || status === undefined || status < 400 || status >= 500)
    return error;
  if (status === 413)
    return new DomainError('PAYLOAD_TOO_LARGE', `body: ${error.message}`, { field: 'body' });
  if (status === 415) return new BadInputError('content-type', error.message);
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return new BadInputError('body', 'is empty; send a JSON object');
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY')
    return new BadInputError('body', `is not valid JSON: ${error.message}`);
  return new DomainError(status === 404 ? 'NOT_FOUND' : 'BAD_USER_INPUT', error.message);
}
