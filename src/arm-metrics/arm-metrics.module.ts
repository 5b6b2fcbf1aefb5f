import { Module } from '@nestjs/common';
import { ArmMetricsRecorder } from './arm-metrics-recorder.service.js';
import { ArmMetricsRepository } from './arm-metrics.repository.js';

/** Per endpoint, version and arm: what each replica measured, and the sums the controller reads. */
@Module({
  providers: [ArmMetricsRecorder, ArmMetricsRepository],
  exports: [ArmMetricsRecorder, ArmMetricsRepository],
})
export class ArmMetricsModule {}
