import { startApp } from '../../app.js';
import { loadConfig } from '../../config/config.js';
import { activeTelemetry, startTelemetry } from '../../telemetry/sdk.js';

/**
 * Runs the service until SIGTERM or SIGINT, then closes it (HTTP server, database pool and the
 * embedded PostgreSQL) and flushes the spans still buffered, before exiting with status 0.
 */
export async function serve(): Promise<void> {
  const config = loadConfig(process.env);
  // Started by src/telemetry/register.ts before anything loaded (`npm start`, bin/gatehouse.js).
  // Run any other way, it starts here: request spans, our own spans and trace ids, but not the
  // HTTP, GraphQL and pg instrumentations, which must patch those modules before they load.
  const telemetry = activeTelemetry() ?? startTelemetry(config.telemetry, { instrument: false });
  const running = await startApp(config);
  process.stdout.write(
    `gatehouse listening on ${running.url} (GraphQL at ${running.url}/graphql)\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.stdout.write(`gatehouse: ${signal} received, shutting down\n`);
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await running.close();
  // An unreachable collector must not hold the exit: spans not sent within 5 s are lost.
  await Promise.race([
    telemetry.shutdown(),
    new Promise((resolve) => setTimeout(resolve, 5000).unref()),
  ]);
}
