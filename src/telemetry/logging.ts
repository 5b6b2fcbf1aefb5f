import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { Params } from 'nestjs-pino';
import { stdTimeFunctions } from 'pino';
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

/** Every line names the trace (and span) it was written in, when there is one. */
export function traceFields(): Record<string, string> {
  const context = trace.getActiveSpan()?.spanContext();
  if (!context || !isSpanContextValid(context)) return {};
  return { trace_id: context.traceId, span_id: context.spanId };
}

/**
 * JSON lines on stdout through pino (nestjs-pino): Nest's own logs and one line per answered
 * request. A request line has the method, the path without its query string, the status and
 * the time taken — never headers, bodies or query values, so no token, secret or model input
 * reaches a log.
 */
export function loggingParams(config: Config): Params {
  return {
    pinoHttp: {
      level: config.log.level,
      messageKey: 'msg',
      base: { service: config.telemetry.serviceName },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceFields,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      quietReqLogger: true,
      autoLogging: config.log.requests
        ? { ignore: (req: IncomingMessage) => isQuietPath(req.url ?? '') }
        : false,
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
