import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import {
  ArmMetricsRecorder,
  type Observation,
} from '../../src/arm-metrics/arm-metrics-recorder.service.js';
import { ArmMetricsRepository } from '../../src/arm-metrics/arm-metrics.repository.js';
import { REPLICA_ID } from '../../src/common/replica-id.js';
import { loadConfig } from '../../src/config/config.js';
import { createDataSource } from '../../src/database/data-source.js';
import { ENTITIES } from '../../src/entities.js';
import { MetricsExposition } from '../../src/telemetry/metrics-exposition.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const observation = (
  endpoint: string,
  attributes: Record<string, string> | null = null,
): Observation => ({
  endpoint,
  version: 1,
  arm: 'live',
  latencyMs: 2,
  failed: false,
  scores: [0.9, 0.1],
  threshold: 0.5,
  attributes,
});

interface Heartbeat {
  seen: boolean;
  written: boolean;
  unwritten: boolean;
  cause: string | null;
}

/**
 * The recorder's flush against PostgreSQL, with the real repository: a window PostgreSQL
 * refuses is given up and counted, and neither holds up the other rows of its flush nor the
 * flushes after it.
 */
describe('arm metrics: a row PostgreSQL refuses', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let exposition: MetricsExposition;
  let recorder: ArmMetricsRecorder;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = createDataSource(database.url, ENTITIES, { poolSize: 2 });
    await dataSource.initialize();
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: database.url });
    exposition = MetricsExposition.create(config.telemetry);
    // No timer: the test flushes when it means to.
    recorder = new ArmMetricsRecorder(
      new ArmMetricsRepository(dataSource),
      exposition.metrics,
      config,
    );
  });

  afterAll(async () => {
    await exposition.shutdown();
    await dataSource.destroy();
    await database.drop();
  });

  const requests = async (endpoint: string): Promise<number> => {
    const [row] = await dataSource.query<{ n: string | null }[]>(
      `SELECT sum(requests) AS n FROM arm_metrics WHERE endpoint = $1`,
      [endpoint],
    );
    return Number(row?.n ?? 0);
  };

  const heartbeat = async (endpoint: string): Promise<Heartbeat | undefined> => {
    const [row] = await dataSource.query<Heartbeat[]>(
      `SELECT seen_at IS NOT NULL AS seen, written_at IS NOT NULL AS written,
              unwritten_since IS NOT NULL AS unwritten, cause
         FROM arm_metrics_heartbeats WHERE endpoint = $1 AND replica = $2`,
      [endpoint, REPLICA_ID],
    );
    return row;
  };

  /** `gatehouse_arm_metrics_rows_dropped_total` of an endpoint, from the Prometheus text. */
  const droppedRows = async (endpoint: string): Promise<number> => {
    const text = await exposition.render();
    return text
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('gatehouse_arm_metrics_rows_dropped_total{') &&
          l.includes(`endpoint="${endpoint}"`),
      )
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  };

  it('drops a window whose protected group holds a NUL, writes the others, and the next flushes', async () => {
    recorder.record(observation('credit-nul', { sex: 'female\u0000' }));
    recorder.record(observation('credit-nul', { sex: 'male' }));
    for (let i = 0; i < 3; i++) recorder.record(observation('credit-ok', { sex: 'female' }));
    await recorder.flush();

    expect(await requests('credit-ok')).toBe(3);
    expect(await requests('credit-nul')).toBe(0);
    expect(await droppedRows('credit-nul')).toBe(1);
    expect(await droppedRows('credit-ok')).toBe(0);
    expect(await heartbeat('credit-ok')).toEqual({
      seen: true,
      written: true,
      unwritten: false,
      cause: null,
    });
    const refused = await heartbeat('credit-nul');
    expect(refused).toMatchObject({ seen: true, written: false, unwritten: true });
    expect(refused?.cause).toContain('SQLSTATE 22P05');

    // The refused window is not retried: the next flush writes what was counted since.
    recorder.record(observation('credit-nul', { sex: 'female' }));
    recorder.record(observation('credit-ok', { sex: 'male' }));
    await recorder.flush();
    expect(await requests('credit-nul')).toBe(1);
    expect(await requests('credit-ok')).toBe(4);
    expect(await droppedRows('credit-nul')).toBe(1);
    expect(await heartbeat('credit-nul')).toEqual({
      seen: true,
      written: true,
      unwritten: false,
      cause: null,
    });
  });

  it('drops a window whose protected group holds a lone surrogate in the same way', async () => {
    recorder.record(observation('credit-surrogate', { age_group: 'under_\ud800' }));
    recorder.record(observation('credit-ok', { age_group: 'under_25' }));
    await recorder.flush();
    expect(await requests('credit-surrogate')).toBe(0);
    expect(await requests('credit-ok')).toBe(5);
    expect(await droppedRows('credit-surrogate')).toBe(1);

    recorder.record(observation('credit-surrogate', { age_group: 'under_25' }));
    await recorder.flush();
    expect(await requests('credit-surrogate')).toBe(1);
  });

  it("keeps a window refused for another reason (a trigger's exception) and writes it once accepted", async () => {
    await dataSource.query(`
      CREATE FUNCTION refuse_credit_held() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.endpoint = 'credit-held' THEN RAISE EXCEPTION 'credit-held is refused'; END IF;
        RETURN NEW;
      END $$`);
    await dataSource.query(`
      CREATE TRIGGER refuse_credit_held BEFORE INSERT ON arm_metrics
        FOR EACH ROW EXECUTE FUNCTION refuse_credit_held()`);
    recorder.record(observation('credit-held'));
    recorder.record(observation('credit-held'));
    recorder.record(observation('credit-ok'));
    await recorder.flush();
    expect(await requests('credit-ok')).toBe(6);
    expect(await requests('credit-held')).toBe(0);
    expect(await droppedRows('credit-held')).toBe(0);
    const held = await heartbeat('credit-held');
    expect(held).toMatchObject({ seen: true, written: false, unwritten: true });
    expect(held?.cause).toContain('credit-held is refused (SQLSTATE P0001)');

    // Still refused: kept again, nothing lost; the heartbeat says so, and the others go on.
    recorder.record(observation('credit-held'));
    recorder.record(observation('credit-ok'));
    await recorder.flush();
    expect(await requests('credit-ok')).toBe(7);
    expect(await requests('credit-held')).toBe(0);

    await dataSource.query(`DROP TRIGGER refuse_credit_held ON arm_metrics`);
    await recorder.flush();
    expect(await requests('credit-held')).toBe(3);
    expect(await heartbeat('credit-held')).toMatchObject({ written: true, unwritten: false });
  });
});
