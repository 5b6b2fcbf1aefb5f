import { describe, expect, it } from '@jest/globals';
import { allows, mayOpen, pageNeeds } from './abilities.js';

const auditor = [
  { action: 'read', subject: 'all' },
  { action: 'verify', subject: 'Ledger' },
  { action: 'export', subject: 'Report' },
];
const scientist = [
  { action: 'read', subject: 'PromotionRequest' },
  { action: 'read', subject: 'Rollout' },
  { action: 'read', subject: 'Endpoint' },
  { action: 'create', subject: 'PromotionRequest' },
];
const admin = [{ action: 'manage', subject: 'Policy' }];

describe('what the roles allow, as the console reads it', () => {
  it('reads `all` as every subject and `manage` as every action, and nothing more', () => {
    expect(allows(auditor, 'read', 'Ledger')).toBe(true);
    expect(allows(auditor, 'approve', 'PromotionRequest')).toBe(false);
    expect(allows(admin, 'update', 'Policy')).toBe(true);
    expect(allows(admin, 'read', 'Ledger')).toBe(false);
    expect(allows([], 'read', 'Ledger')).toBe(false);
  });

  it('offers a page to those who may read what it shows', () => {
    for (const route of ['/ledger', '/inbox', '/requests/abc', '/endpoints', '/rollouts/r1'])
      expect(mayOpen(auditor, route)).toBe(true);
    expect(mayOpen(scientist, '/ledger')).toBe(false);
    expect(mayOpen(scientist, '/inbox')).toBe(true);
    expect(mayOpen(scientist, '/rollouts/r1')).toBe(true);
    expect(mayOpen([], '/rollouts')).toBe(false);
  });

  it('offers Reports to everyone, and leaves unknown routes to the page-not-found', () => {
    expect(mayOpen([], '/reports')).toBe(true);
    expect(mayOpen([], '/no-such-page')).toBe(true);
    expect(mayOpen([], '/constructor')).toBe(true);
    expect(mayOpen([], '/__proto__')).toBe(true);
  });

  it('names what a page needs', () => {
    expect(pageNeeds('/ledger')).toBe('read Ledger');
    expect(pageNeeds('/requests/x')).toBe('read PromotionRequest');
    expect(pageNeeds('/reports')).toBeNull();
    expect(pageNeeds('/toString')).toBeNull();
  });
});
