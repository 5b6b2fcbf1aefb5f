import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { Params } from 'nestjs-pino';
import { stdTimeFunctions, type Logger } from 'pino';
import type { Config } from '../config/config.js';

/**
 * Headers never written to a log line. Request lines carry no headers at all
 * (src/telemetry/request-log.ts); these paths are a second lock in case a line ever does.
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

/** Every line names the trace (and span) it was written in, when there is one. */
export function traceFields(): Record<string, string> {
  const context = trace.getActiveSpan()?.spanContext();
  if (!context || !isSpanContextValid(context)) return {};
  return { trace_id: context.traceId, span_id: context.spanId };
}

/**
 * JSON lines on stdout through pino (nestjs-pino): Nest's own logs, and the request lines of
 * src/telemetry/request-log.ts. Every line names the trace it was written in.
 */
export function loggingParams(config: Config): Params {
  return {
    // No middleware: requests are logged by Fastify hooks (src/telemetry/request-log.ts).
    // Nest runs any middleware through @fastify/middie on every request, inference included.
    forRoutes: [],
    pinoHttp: {
      level: config.log.level,
      messageKey: 'msg',
      base: { service: config.telemetry.serviceName },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // A request's lines carry the trace bound when it arrived (request-log.ts); other
      // lines (start-up, timers, jobs) the trace active when they are written.
      mixin: (_merge: object, _level: number, logger: Logger) =>
        logger.bindings()['trace_id'] === undefined ? traceFields() : {},
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Whatever is logged as `req` or `res`, only these fields are written: no header, body
      // or query string.
      serializers: {
        req: (req: { id?: unknown; method?: string; url?: string }) => ({
          id: req.id,
          method: req.method,
          path: (req.url ?? '').split('?')[0],
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
  };
}
