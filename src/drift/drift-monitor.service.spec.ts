import { describe, expect, it } from '@jest/globals';
import type { LedgerService } from '../ledger/ledger.service.js';
import type { Policies } from '../policy/policies.js';
import type { GatehouseMetrics } from '../telemetry/metrics.js';
import { DriftMonitor } from './drift-monitor.service.js';
import type { DriftInputs, LiveVersion } from './drift-inputs.service.js';
import type { DriftRepository } from './drift.repository.js';

const live = (endpoint: string): LiveVersion => ({
  endpoint,
  endpointId: `${endpoint}-id`,
  modelVersionId: `${endpoint}-v1`,
  version: 1,
  inputName: 'x',
  featureColumns: ['a'],
  scoreOutput: 'score',
  scoreIndex: 0,
  threshold: 0.5,
});

describe('the drift monitor', () => {
  it('checks every endpoint even when one check fails', async () => {
    const inputs = {
      liveVersions: () => Promise.resolve([live('broken'), live('fine')]),
      baseline: (v: LiveVersion) =>
        v.endpoint === 'broken'
          ? Promise.reject(new Error('drift_status refused the row'))
          : Promise.resolve(null),
    } as unknown as DriftInputs;
    const policies = {
      evaluation: { value: { drift: { monitoring: { intervalSeconds: 0 } } } },
    } as unknown as Policies;
    const monitor = new DriftMonitor(
      inputs,
      {} as DriftRepository,
      {} as LedgerService,
      {} as GatehouseMetrics,
      policies,
    );
    const checks = await monitor.checkAll();
    expect(checks).toEqual([
      { endpoint: 'broken', outcome: 'failed', message: 'drift_status refused the row' },
      { endpoint: 'fine', outcome: 'no-baseline' },
    ]);
    // Failing again the same way: still checked, and the others too.
    expect((await monitor.checkAll()).map((c) => c.outcome)).toEqual(['failed', 'no-baseline']);
  });
});
