import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { LEDGER_EVENT_TYPES } from './event-catalogue.js';

/** The types named in the first column of docs/ledger.md's "Event types" table. */
function documentedTypes(): string[] {
  const doc = readFileSync(new URL('../../docs/ledger.md', import.meta.url), 'utf8');
  const section = doc.split(/^## Event types$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = section.split('\n').filter((line) => /^\| `/.test(line));
  return rows.flatMap((row) => {
    const first = row.split('|')[1] ?? '';
    return [...first.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
  });
}

describe('the ledger event catalogue', () => {
  it('is documented in docs/ledger.md, type for type', () => {
    const documented = documentedTypes();
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual([...LEDGER_EVENT_TYPES].sort());
  });

  it('spells every type as the ledger requires: dotted lowercase names', () => {
    for (const type of LEDGER_EVENT_TYPES)
      expect(type).toMatch(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/);
  });
});
