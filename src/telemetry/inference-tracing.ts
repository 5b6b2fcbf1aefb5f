import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import { failSpan, tracer } from './tracing.js';

/** Real-time inference paths (OIP), with or without an explicit version. */
const INFER_PATH = /^\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/infer(\?|$)/;

export function isInferencePath(path: string): boolean {
  return INFER_PATH.test(path);
}

/** The route name an inference request's span carries, as Fastify would name it. */
export const INFER_ROUTE = '/v2/models/:endpoint/infer';

/** A recorded inference request span and the context its handler runs in. */
export interface InferenceSpan {
  readonly span: Span;
  readonly context: Context;
}

/**
 * The request span of an inference request (src/inference/infer-lane.ts), made only when it
 * will be recorded: on the hot path an unrecorded span is not worth its price. @fastify/otel,
 * which starts two spans per request whether sampled or not and runs the handler in a context
 * of its own (a large share of the inference CPU, docs/benchmarks.md), never sees these
 * requests.
 *
 * So: when the process records no spans at all (no exporter), nothing is done. Otherwise the
 * span is started — the sampler decides, following an incoming `traceparent` — and only a
 * recorded one is kept, its context the handler's, so that `gatehouse.inference.run` is its
 * child. An unsampled inference request leaves no span and no trace id behind: it makes no
 * ledger event and no outgoing call that a trace id would follow, and its prediction is found
 * by its request id.
 */
export function startInferenceSpan(
  request: {
    readonly method?: string;
    readonly url?: string;
    readonly headers: IncomingHttpHeaders;
  },
  recording: boolean,
): InferenceSpan | undefined {
  if (!recording) return undefined;
  const method = request.method ?? 'POST';
  const url = request.url ?? '';
  const parent: Context =
    request.headers.traceparent === undefined
      ? ROOT_CONTEXT
      : propagation.extract(ROOT_CONTEXT, request.headers);
  const span = tracer.startSpan(
    `${method} ${INFER_ROUTE}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': method,
        'url.path': url.split('?')[0] ?? url,
        'http.route': INFER_ROUTE,
      },
    },
    parent,
  );
  if (!span.isRecording()) return undefined;
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends an inference request's span with the status it was answered with. */
export function endInferenceSpan(span: Span, status: number, error?: unknown): void {
  if (error !== undefined) failSpan(span, error);
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
