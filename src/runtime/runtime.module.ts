import { Global, Module } from '@nestjs/common';
import { ModelRuntime } from './model-runtime.service.js';

/** The ONNX Runtime sessions of the process, shared by inference, batch jobs and evaluations. */
@Global()
@Module({ providers: [ModelRuntime], exports: [ModelRuntime] })
export class RuntimeModule {}
