import { describe, expect, it } from '@jest/globals';
import { allows } from './abilities.js';
import { reportAccess } from './report-access.js';

describe('reportAccess', () => {
  it('offers everything to an auditor, who reads all and exports reports', () => {
    expect(
      reportAccess([
        { action: 'read', subject: 'all' },
        { action: 'verify', subject: 'Ledger' },
        { action: 'export', subject: 'Report' },
      ]),
    ).toEqual({ export: true, download: true, list: true });
  });

  it('offers a compliance officer export, download and the list from named subjects', () => {
    expect(
      reportAccess([
        { action: 'read', subject: 'Ledger' },
        { action: 'read', subject: 'Report' },
        { action: 'export', subject: 'Report' },
      ]),
    ).toEqual({ export: true, download: true, list: true });
  });

  it('offers nothing to a data scientist, who may read neither reports nor the ledger', () => {
    expect(
      reportAccess([
        { action: 'read', subject: 'Model' },
        { action: 'create', subject: 'PromotionRequest' },
      ]),
    ).toEqual({ export: false, download: false, list: false });
  });

  it('does not offer an export that could never be downloaded', () => {
    expect(reportAccess([{ action: 'export', subject: 'Report' }]).export).toBe(false);
  });
});

describe('allows', () => {
  it('reads manage as every action and all as every subject', () => {
    expect(allows([{ action: 'manage', subject: 'Report' }], 'export', 'Report')).toBe(true);
    expect(allows([{ action: 'manage', subject: 'all' }], 'read', 'Ledger')).toBe(true);
    expect(allows([{ action: 'read', subject: 'Policy' }], 'read', 'Report')).toBe(false);
  });
});
