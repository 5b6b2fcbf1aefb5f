import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from 'fastify';
import { failSpan, tracer } from './tracing.js';

/** Real-time inference paths (OIP), with or without an explicit version. */
const INFER_PATH = /^\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/infer(\?|$)/;

export function isInferencePath(path: string): boolean {
  return INFER_PATH.test(path);
}

const SPAN = Symbol('gatehouse.inference.span');

interface TracedRequest extends FastifyRequest {
  [SPAN]?: Span;
}

/**
 * The request span of an inference route, made here rather than by @fastify/otel (which is
 * told to ignore these paths), because on the hot path only a span that will be recorded is
 * worth its price. @fastify/otel starts two spans per request whether sampled or not and runs
 * the handler in a context of its own: a quarter of the inference CPU (docs/benchmarks.md).
 *
 * So: when the process records no spans at all (no exporter), nothing is done. Otherwise the
 * span is started — the sampler decides, following an incoming `traceparent` — and only a
 * recorded one is kept and made the handler's context, so that `gatehouse.inference.run` is
 * its child. An unsampled inference request leaves no span and no trace id behind: it makes
 * no ledger event and no outgoing call that a trace id would follow, and its prediction is
 * found by its request id.
 *
 * `recording` says whether the SDK records spans; it is asked per request, since the SDK can
 * start after the routes exist (tests).
 */
export function traceInferenceRoutes(fastify: FastifyInstance, recording: () => boolean): void {
  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (!isInferencePath(route.url)) return;
    const routeUrl = route.url;
    const start = (
      request: TracedRequest,
      _reply: FastifyReply,
      done: HookHandlerDoneFunction,
    ): void => {
      if (!recording()) {
        done();
        return;
      }
      const parent: Context =
        request.headers.traceparent === undefined
          ? ROOT_CONTEXT
          : propagation.extract(ROOT_CONTEXT, request.headers);
      const span = tracer.startSpan(
        `${request.method} ${routeUrl}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': request.method,
            'url.path': request.url.split('?')[0] ?? request.url,
            'http.route': routeUrl,
          },
        },
        parent,
      );
      if (!span.isRecording()) {
        done();
        return;
      }
      request[SPAN] = span;
      context.with(trace.setSpan(parent, span), done);
    };
    const end = (request: TracedRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const span = request[SPAN];
      if (span) {
        span.setAttribute('http.response.status_code', reply.statusCode);
        if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        request[SPAN] = undefined;
      }
      done();
    };
    const fail = (
      request: TracedRequest,
      _reply: FastifyReply,
      error: Error,
      done: HookHandlerDoneFunction,
    ) => {
      const span = request[SPAN];
      if (span) failSpan(span, error);
      done();
    };
    route.onRequest = [...hooksOf(route.onRequest), start];
    route.onResponse = [...hooksOf(route.onResponse), end];
    route.onError = [...hooksOf(route.onError), fail];
  });
}

function hooksOf<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}
