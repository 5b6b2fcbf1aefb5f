import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import type { ServerResponse } from 'node:http';
import type { Config } from '../config/config.js';
import { isInferencePath } from './inference-tracing.js';
import { isQuietPath } from './sdk.js';
import { loggingParams, traceFields } from './logging.js';

/** A request being logged: when it began and what every line written meanwhile carries. */
export interface LoggedEntry {
  readonly started: number;
  readonly bindings: Record<string, string>;
}

/**
 * One line per answered request: the request's id and trace are bound as it arrives (and every
 * line written while it runs carries them, through nestjs-pino's context), and the line is
 * written when the answer has gone, with the method, the path without its query string, the
 * status and the time taken — never headers, bodies or query values, so no token, secret or
 * model input reaches a log. Health probes and scrapes are never logged; inference requests
 * only with `requests: 'all'` (the prediction log records them).
 */
export class RequestLog {
  private readonly requests: Config['log']['requests'];
  // Any instance will do: the context and the root logger live in nestjs-pino's module, the
  // root made once, from these parameters, by whoever comes first.
  private readonly context: PinoLogger;

  constructor(config: Config) {
    this.requests = config.log.requests;
    this.context = new PinoLogger(loggingParams(config));
  }

  get enabled(): boolean {
    return this.requests !== 'off';
  }

  /** Whether inference requests are logged. */
  get inference(): boolean {
    return this.requests === 'all';
  }

  logs(url: string): boolean {
    if (this.requests === 'off' || isQuietPath(url)) return false;
    return this.requests === 'all' || !isInferencePath(url);
  }

  /**
   * Starts a request's entry and runs `fn` in its logging context. Called as the request
   * arrives, inside its span: the line written when it completes runs outside it.
   */
  begin<T>(id: string, fn: (entry: LoggedEntry) => T): T {
    const entry = { started: performance.now(), bindings: { reqId: id, ...traceFields() } };
    return this.context.runInContext(() => fn(entry), { bindings: entry.bindings });
  }

  /** Writes the request's line; `response` is Node's, as the log's serializer reads it. */
  end(
    entry: LoggedEntry,
    request: { readonly id: string; readonly method?: string; readonly url?: string },
    response: ServerResponse,
  ): void {
    const line = {
      ...entry.bindings,
      req: { id: request.id, method: request.method, url: request.url },
      res: response,
      responseTime: Math.round(performance.now() - entry.started),
    };
    if (response.statusCode >= 500) PinoLogger.root.error(line, 'request errored');
    else PinoLogger.root.info(line, 'request completed');
  }
}

const LOGGED = Symbol('gatehouse.requestLog');

interface LoggedRequest extends FastifyRequest {
  [LOGGED]?: LoggedEntry;
}

/**
 * The request log of the routes Fastify serves, from two Fastify hooks. Hooks rather than
 * nestjs-pino's middleware: Nest runs middleware through @fastify/middie for every request,
 * excluded or not, and on inference that alone was a noticeable share of the service's CPU per
 * request (docs/benchmarks.md). Here an unlogged request costs one test of its path.
 */
export function logRequests(fastify: FastifyInstance, log: RequestLog): void {
  if (!log.enabled) return;
  fastify.addHook(
    'onRequest',
    (request: LoggedRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
      if (!log.logs(request.url)) {
        done();
        return;
      }
      log.begin(request.id, (entry) => {
        request[LOGGED] = entry;
        done();
      });
    },
  );
  fastify.addHook('onResponse', (request: LoggedRequest, reply: FastifyReply, done) => {
    const entry = request[LOGGED];
    if (entry) log.end(entry, request, reply.raw);
    done();
  });
}
