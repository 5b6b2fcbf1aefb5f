import { trace } from '@opentelemetry/api';

const ZERO_TRACE = '00000000000000000000000000000000';

/**
 * The trace id of the active span (32 lowercase hex), or null when nothing is traced. Ledger
 * events record it so that an auditor can go from an event to the trace that caused it.
 */
export function currentTraceId(): string | null {
  const id = trace.getActiveSpan()?.spanContext().traceId;
  return id !== undefined && id !== ZERO_TRACE ? id : null;
}
