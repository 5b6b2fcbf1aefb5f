import { startApp } from '../../app.js';
import { loadConfig } from '../../config/config.js';

/**
 * Runs the service until SIGTERM or SIGINT, then closes it (HTTP server, database pool and the
 * embedded PostgreSQL) before exiting with status 0.
 */
export async function serve(): Promise<void> {
  const config = loadConfig(process.env);
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
}
