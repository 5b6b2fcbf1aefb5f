import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Config } from '../config/config.js';
import { loggingParams } from './logging.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsExposition } from './metrics-exposition.js';
import { GatehouseMetrics } from './metrics.js';

/** Closes what the exposition owns when the application closes. */
@Injectable()
class ExpositionLifecycle implements OnApplicationShutdown {
  constructor(@Inject(MetricsExposition) private readonly exposition: MetricsExposition) {}

  async onApplicationShutdown(): Promise<void> {
    await this.exposition.shutdown();
  }
}

/**
 * Metrics (`GatehouseMetrics`, injectable everywhere), `GET /metrics` and the JSON logger.
 * Tracing needs no module: the SDK is started before Nest (src/telemetry/register.ts) and
 * code makes spans with `withSpan` (src/telemetry/tracing.ts).
 */
@Global()
@Module({})
export class TelemetryModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: TelemetryModule,
      imports: [LoggerModule.forRoot(loggingParams(config))],
      controllers: [MetricsController],
      providers: [
        {
          provide: MetricsExposition,
          useFactory: () => MetricsExposition.create(config.telemetry),
        },
        {
          provide: GatehouseMetrics,
          useFactory: (exposition: MetricsExposition) => exposition.metrics,
          inject: [MetricsExposition],
        },
        ExpositionLifecycle,
      ],
      exports: [GatehouseMetrics],
    };
  }
}
