import { Module } from '@nestjs/common';
import { DriftMonitor } from './drift-monitor.service.js';
import { DriftRepository } from './drift.repository.js';
import { EndpointDriftResolver } from './endpoint-drift.resolver.js';

@Module({
  providers: [DriftRepository, DriftMonitor, EndpointDriftResolver],
  exports: [DriftMonitor],
})
export class DriftModule {}
