import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { stdTimeFunctions, type Logger } from 'pino';
import type { Config } from '../config/config.js';
import { isQuietPath } from './sdk.js';

/**
 * Headers never written to a log line. Request lines carry no headers at all (see `req`
 * below); these paths are a second lock in case a line ever does.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-routing-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'authorization',
  'token',
];

const QUIET_ROUTES = [
  { path: 'v2/health/*path', method: RequestMethod.GET },
  { path: 'metrics', method: RequestMethod.GET },
];
const INFER_ROUTE = { path: 'v2/models/:endpoint/infer', method: RequestMethod.POST };

/** Every line names the trace (and span) it was written in, when there is one. */
export function traceFields(): Record<string, string> {
  const context = trace.getActiveSpan()?.spanContext();
  if (!context || !isSpanContextValid(context)) return {};
  return { trace_id: context.traceId, span_id: context.spanId };
}

/**
 * JSON lines on stdout through pino (nestjs-pino): Nest's own logs and one line per answered
 * request (but inference requests, unless GATEHOUSE_LOG_REQUESTS=all: the prediction log
 * records those). A request line has the method, the path without its query string, the status and
 * the time taken — never headers, bodies or query values, so no token, secret or model input
 * reaches a log.
 */
export function loggingParams(config: Config): Params {
  return {
    // nestjs-pino's default route pattern matches nothing under Nest 12's Fastify adapter.
    forRoutes: [{ path: '*path', method: RequestMethod.ALL }],
    // Skipped by the middleware altogether, not only unlogged: on inference it cost two
    // thirds of the throughput with a line per request, a third even with no line written.
    exclude: [...QUIET_ROUTES, ...(config.log.requests === 'all' ? [] : [INFER_ROUTE])],
    pinoHttp: {
      level: config.log.level,
      messageKey: 'msg',
      base: { service: config.telemetry.serviceName },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // A request's lines carry the trace bound when it arrived (customProps below); other
      // lines (start-up, timers, jobs) the trace active when they are written.
      mixin: (_merge: object, _level: number, logger: Logger) =>
        logger.bindings()['trace_id'] === undefined ? traceFields() : {},
      // Read as the request arrives, inside its span: the line written when it completes
      // runs outside it.
      customProps: () => traceFields(),
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      quietReqLogger: true,
      autoLogging:
        config.log.requests === 'off'
          ? false
          : { ignore: (req: IncomingMessage) => isQuietPath(req.url ?? '') },
      serializers: {
        req: (req: IncomingMessage & { id?: unknown }) => ({
          id: req.id,
          method: req.method,
          path: (req.url ?? '').split('?')[0],
        }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      },
    },
  };
}
