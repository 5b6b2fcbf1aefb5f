import 'reflect-metadata';
import fastifyCookie from '@fastify/cookie';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { AuthService } from './auth/auth.service.js';
import { consolePlugin } from './console/console.plugin.js';
import { defaultConsoleDir } from './console/console-files.js';
import { ErrorFilter } from './common/error.filter.js';
import { answerFrameworkError, registerRestEdge } from './common/rest-edge.js';
import { registerUploadParsers } from './common/upload-body.js';
import type { Config } from './config/config.js';
import { InferLane } from './inference/infer-lane.js';
import { InferenceService } from './inference/inference.service.js';
import { loadPolicies } from './policy/policies.js';
import { logRequests, RequestLog } from './telemetry/request-log.js';
import { activeTelemetry, requestTracingPlugin } from './telemetry/sdk.js';

export interface RunningApp {
  readonly app: NestFastifyApplication;
  /** The address the server listens on, e.g. http://127.0.0.1:3000 */
  readonly url: string;
  close(): Promise<void>;
}

/** Builds the whole service and listens. Configuration and policies are validated before. */
export async function startApp(config: Config): Promise<RunningApp> {
  const policies = loadPolicies(config.policiesDir);
  const requestLog = new RequestLog(config);
  // Real-time inference is answered ahead of Fastify and Nest (src/inference/infer-lane.ts).
  const lane = new InferLane({
    bodyLimitBytes: config.bodyLimitBytes,
    log: requestLog,
    recording: () => activeTelemetry()?.recording === true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, policies),
    new FastifyAdapter({
      bodyLimit: config.bodyLimitBytes,
      logger: false,
      serverFactory: lane.serverFactory(),
      frameworkErrors: answerFrameworkError,
    }),
    // Nest's own start-up lines wait for the JSON logger (src/telemetry/logging.ts).
    { bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  // Before any route exists: the plugin wraps each route's handler in the request's span.
  await app.register(requestTracingPlugin());
  // `request.cookies` and `reply.setCookie` for the console's session (src/console-auth/).
  await app.register(fastifyCookie);
  const fastify = app.getHttpAdapter().getInstance();
  logRequests(fastify, requestLog);
  lane.attach(app.get(AuthService), app.get(InferenceService));
  fastify.addHook('preClose', (done) => {
    lane.close();
    done();
  });
  app.useGlobalFilters(new ErrorFilter());
  registerUploadParsers(fastify);
  registerRestEdge(fastify, '/graphql');
  await app.register(consolePlugin, { prefix: '/console', dir: defaultConsoleDir() });
  try {
    await app.listen(config.port, config.host);
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return { app, url: `http://${host}:${port}`, close: () => app.close() };
}
