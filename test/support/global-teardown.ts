import pg from 'pg';

/** Drops this run's template and every database cloned from it; stops an embedded server. */
export default async function globalTeardown(): Promise<void> {
  const serverUrl = process.env['GATEHOUSE_TEST_SERVER_URL'];
  const runId = process.env['GATEHOUSE_TEST_RUN_ID'];
  if (serverUrl && runId) {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE datname LIKE $1`,
        [`gh_%_${runId}%`],
      );
      for (const { datname } of rows) {
        await client.query(
          `DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`,
        );
      }
    } finally {
      await client.end();
    }
  }
  await (
    globalThis as { gatehouseTestPostgres?: { stop(): Promise<void> } }
  ).gatehouseTestPostgres?.stop();
}
