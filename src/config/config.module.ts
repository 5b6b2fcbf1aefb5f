import { DynamicModule, Global, Module } from '@nestjs/common';
import type { Config } from './config.js';

/** Injection token for the validated configuration object. */
export const CONFIG = Symbol('gatehouse.config');

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: CONFIG, useValue: config }],
      exports: [CONFIG],
    };
  }
}
