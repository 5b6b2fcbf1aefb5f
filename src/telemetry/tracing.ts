import {
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';

/**
 * Gatehouse's own tracer. A proxy: spans made before the SDK starts (or with no SDK at all,
 * as in most unit tests) are no-ops, and the same handle works once it has started.
 */
export const tracer: Tracer = trace.getTracer('gatehouse');

/**
 * Runs `fn` inside a new span, child of the active one, and ends it when `fn` settles. A thrown
 * error is recorded on the span (status ERROR) and rethrown unchanged. Attribute values must
 * never carry a token, a secret or a raw model input: spans leave the process.
 *
 * Span names are `gatehouse.<area>.<operation>` (docs/observability.md lists them).
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  options: Omit<SpanOptions, 'attributes'> = {},
): Promise<T> {
  return tracer.startActiveSpan(name, { ...options, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** As `withSpan`, for synchronous work (a pure computation worth seeing in a trace). */
export function withSpanSync<T>(name: string, attributes: Attributes, fn: (span: Span) => T): T {
  return tracer.startActiveSpan(name, { attributes }, (span) => {
    try {
      return fn(span);
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * A child of the active span that is not made active, for a hot path that ends it itself (no
 * closure, no context switch), e.g. one inference run inside a micro-batch; made only when the
 * active span is recorded, since building the attributes of a span nobody keeps costs more
 * than the work it describes. The caller ends it.
 */
export function startRecordedChildSpan(
  name: string,
  attributes: () => Attributes,
): Span | undefined {
  if (trace.getActiveSpan()?.isRecording() !== true) return undefined;
  return tracer.startSpan(name, { attributes: attributes() });
}

/** Marks a span failed with the error's class and message (never its stack's data). */
export function failSpan(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException({ name: error.name, message: error.message });
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}
