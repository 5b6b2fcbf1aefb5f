import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { TelemetryConfig } from '../config/config.js';
import { GatehouseMetrics } from './metrics.js';
import { activeTelemetry } from './sdk.js';

/**
 * Where the service's metrics are collected from for `GET /metrics`: the SDK's Prometheus
 * reader when telemetry was started before Nest (then the HTTP and pg instrumentations'
 * metrics are there too), otherwise a meter provider of this application's own, so that an
 * app built without the SDK (tests, benchmarks) still exposes its metrics.
 */
export class MetricsExposition {
  readonly metrics: GatehouseMetrics;
  /** Without the otel_scope_* labels on every series: names are unique across scopes here. */
  private readonly serializer = new PrometheusSerializer(undefined, false, undefined, false, true);

  private constructor(
    private readonly reader: PrometheusExporter,
    private readonly ownProvider: MeterProvider | undefined,
  ) {
    const meter = (ownProvider ?? metrics.getMeterProvider()).getMeter('gatehouse');
    this.metrics = new GatehouseMetrics(meter);
  }

  static create(config: TelemetryConfig): MetricsExposition {
    const telemetry = activeTelemetry();
    if (telemetry) return new MetricsExposition(telemetry.prometheus, undefined);
    const reader = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': config.serviceName }),
      readers: [reader],
    });
    return new MetricsExposition(reader, provider);
  }

  /** The Prometheus text exposition format (version 0.0.4) of every metric now. */
  async render(): Promise<string> {
    const { resourceMetrics } = await this.reader.collect();
    return this.serializer.serialize(resourceMetrics);
  }

  async shutdown(): Promise<void> {
    this.metrics.close();
    await this.ownProvider?.shutdown();
  }
}
