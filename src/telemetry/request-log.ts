import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import type { Config } from '../config/config.js';
import { isInferencePath } from './inference-tracing.js';
import { isQuietPath } from './sdk.js';
import { loggingParams, traceFields } from './logging.js';

const LOGGED = Symbol('gatehouse.requestLog');

interface LoggedRequest extends FastifyRequest {
  [LOGGED]?: { readonly started: number; readonly bindings: Record<string, string> };
}

/**
 * One line per answered request, from two Fastify hooks: the request's id and trace are bound
 * as it arrives (and every line written while it runs carries them, through nestjs-pino's
 * context), and the line is written when the answer has gone, with the method, the path
 * without its query string, the status and the time taken — never headers, bodies or query
 * values, so no token, secret or model input reaches a log.
 *
 * Hooks rather than nestjs-pino's middleware: Nest runs middleware through @fastify/middie
 * for every request, excluded or not, and on inference that alone cost about a tenth of the
 * service's CPU per request (docs/benchmarks.md). Here an unlogged request costs one test of
 * its path. Health probes and scrapes are never logged; inference requests only with
 * `requests: 'all'` (the prediction log records them).
 */
export function logRequests(fastify: FastifyInstance, config: Config): void {
  const requests = config.log.requests;
  if (requests === 'off') return;
  const skip = (url: string): boolean =>
    isQuietPath(url) || (requests !== 'all' && isInferencePath(url));
  // Any instance will do: the context and the root logger live in nestjs-pino's module, the
  // root made once, from these parameters, by whoever comes first.
  const context = new PinoLogger(loggingParams(config));
  fastify.addHook(
    'onRequest',
    (request: LoggedRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
      if (skip(request.url)) {
        done();
        return;
      }
      // Read as the request arrives, inside its span: the line written when it completes
      // runs outside it.
      const bindings = { reqId: request.id, ...traceFields() };
      request[LOGGED] = { started: performance.now(), bindings };
      context.runInContext(done, { bindings });
    },
  );
  fastify.addHook('onResponse', (request: LoggedRequest, reply: FastifyReply, done) => {
    const logged = request[LOGGED];
    if (logged) {
      const line = {
        ...logged.bindings,
        req: { id: request.id, method: request.method, url: request.url },
        res: reply.raw,
        responseTime: Math.round(performance.now() - logged.started),
      };
      if (reply.statusCode >= 500) PinoLogger.root.error(line, 'request errored');
      else PinoLogger.root.info(line, 'request completed');
    }
    done();
  });
}
