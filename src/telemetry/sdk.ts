import { FastifyOtelInstrumentation } from '@fastify/otel';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  NoopSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { TelemetryConfig } from '../config/config.js';
import { isInferencePath } from './inference-tracing.js';
import { samplerOf } from './sampler.js';

/** What the running service needs from the SDK once it has started. */
export interface Telemetry {
  /** The pull reader `GET /metrics` renders. */
  readonly prometheus: PrometheusExporter;
  /** Registered on the Fastify instance by startApp (src/app.ts): request spans. */
  readonly fastify: FastifyOtelInstrumentation;
  /** Whether library instrumentation (HTTP, GraphQL, pg) was installed. */
  readonly instrumented: boolean;
  /** Whether spans are recorded at all (an exporter or a span processor is configured). */
  readonly recording: boolean;
  /** Flushes what is buffered (spans to the collector) and stops. */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** More span processors, e.g. an in-memory exporter in tests; these turn sampling on. */
  readonly spanProcessors?: readonly SpanProcessor[];
  /**
   * Install the HTTP, GraphQL and pg instrumentations (default true). They patch modules as
   * they load, so they only see modules loaded after this call: see src/telemetry/register.ts.
   */
  readonly instrument?: boolean;
}

/** Paths whose traces would be noise: probes and scrapes, several a minute each. */
export function isQuietPath(url: string): boolean {
  return url.startsWith('/v2/health/') || url === '/metrics' || url.startsWith('/metrics?');
}

let active: Telemetry | undefined;
let standalone: FastifyOtelInstrumentation | undefined;

function fastifyInstrumentation(): FastifyOtelInstrumentation {
  return new FastifyOtelInstrumentation({
    instrumentHooks: false,
    // Inference requests get their span from src/telemetry/inference-tracing.ts instead.
    ignorePaths: (route) => isQuietPath(route.url) || isInferencePath(route.url),
  });
}

/**
 * The Fastify plugin that opens a span per request — a child of the HTTP server span when the
 * HTTP instrumentation runs, otherwise the root, continuing an incoming `traceparent` — and
 * runs the handler inside it, so everything the request does (GraphQL, SQL, ledger events)
 * belongs to its trace. Registered explicitly rather than by patching Fastify's loading.
 */
export function requestTracingPlugin(): ReturnType<FastifyOtelInstrumentation['plugin']> {
  const instrumentation = active?.fastify ?? (standalone ??= fastifyInstrumentation());
  return instrumentation.plugin();
}

/** The telemetry started in this process, if any. */
export function activeTelemetry(): Telemetry | undefined {
  return active;
}

/**
 * Starts the OpenTelemetry SDK once per process: W3C trace context (and baggage) from incoming
 * requests, the configured sampler, OTLP/HTTP export when an endpoint is configured, and a
 * Prometheus pull reader for the metrics. Without an exporter nothing is recorded — spans are
 * sampled off — but trace ids are still made and propagated, so ledger events carry one.
 */
export function startTelemetry(config: TelemetryConfig, options: TelemetryOptions = {}): Telemetry {
  if (active) return active;
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (config.otlpTracesEndpoint !== undefined)
    processors.push(
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: config.otlpTracesEndpoint }),
      }),
    );
  const exporting = processors.length > 0;
  // A tracer provider is registered only with a processor: without one there would be no
  // trace ids at all.
  if (!exporting) processors.push(new NoopSpanProcessor());

  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const fastify = fastifyInstrumentation();
  const instrument = options.instrument ?? true;
  const instrumentations: Instrumentation[] = [fastify];
  if (instrument)
    instrumentations.push(
      // Outgoing requests only (a JWKS fetch, say): the incoming request's server span is
      // @fastify/otel's, which carries the route. A second server span per request cost a
      // quarter of the inference throughput (docs/observability.md).
      new HttpInstrumentation({
        disableIncomingRequestInstrumentation: true,
        requireParentforOutgoingSpans: true,
      }),
      // Spans for the operation and its top two levels of fields, list items merged; no
      // argument values (they can name people or carry statements).
      new GraphQLInstrumentation({
        ignoreTrivialResolveSpans: true,
        mergeItems: true,
        depth: 2,
        allowValues: false,
      }),
      // No query parameters (they can hold model inputs), and no spans for the job queue's
      // polling outside any request or job.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
    );

  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    textMapPropagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
    sampler: exporting
      ? samplerOf(config.sampler, config.inferenceSampleRatio)
      : new AlwaysOffSampler(),
    spanProcessors: processors,
    metricReaders: [prometheus],
    // Logs go to stdout as JSON lines (nestjs-pino), not through OTLP.
    logRecordProcessors: [],
    instrumentations,
  });
  sdk.start();
  const telemetry: Telemetry = {
    prometheus,
    fastify,
    instrumented: instrument,
    recording: exporting,
    shutdown: async () => {
      if (active === telemetry) active = undefined;
      await sdk.shutdown();
    },
  };
  active = telemetry;
  return telemetry;
}
