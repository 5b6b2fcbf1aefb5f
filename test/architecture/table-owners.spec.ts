import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * One owner per table: only the module that owns a table names it in SQL or uses its entity
 * for queries; every other module asks the owner's service. The table of owners is the one in
 * docs/architecture.md ("Tables and their owners").
 */
const OWNERS: Readonly<Record<string, string>> = {
  policy_documents: 'policy',
  ledger_events: 'ledger',
  ledger_keys: 'ledger',
  ledger_merkle_nodes: 'ledger',
  ledger_checkpoints: 'ledger',
  ledger_pending: 'ledger',
  artifacts: 'artifacts',
  datasets: 'datasets',
  models: 'registry',
  model_versions: 'registry',
  endpoints: 'endpoints',
  batch_jobs: 'batch',
  evaluations: 'evaluation',
  promotion_requests: 'promotions',
  promotion_approvals: 'promotions',
  gate_evaluations: 'promotions',
  rollouts: 'rollouts',
  arm_metrics: 'arm-metrics',
  arm_metrics_heartbeats: 'arm-metrics',
  predictions: 'prediction-log',
  prediction_batches: 'prediction-log',
  feedback: 'feedback',
  drift_status: 'drift',
  audit_reports: 'reports',
  console_sessions: 'console-auth',
  console_sign_ins: 'console-auth',
  stream_bindings: 'streaming',
  edge_bundles_issued: 'edge',
  edge_device_positions: 'edge',
  edge_device_records: 'edge',
  ledger_cosignatures: 'witnessing',
};

/**
 * The documented exceptions, file by file (paths under src/), with the tables each may read.
 * Migrations live outside src/ and create every table; they are not scanned.
 */
const ALLOWED: Readonly<Record<string, readonly string[] | 'any'>> = {
  // An audit report is an export of the record: its one read model reads the tables the
  // report is made of, and never writes (its header lists each table and why).
  'reports/report-read-model.repository.ts': 'any',
  // The composition root's list of every entity, which it gives the data source.
  'entities.ts': 'any',
  // A label means nothing apart from the prediction it labels: labelled scores are one join.
  'feedback/feedback.repository.ts': ['predictions'],
};

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SQL_TABLE = /\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:ONLY\s+)?([a-z_][a-z0-9_]*)\b/g;
const ENTITY_IMPORT = /import\s*\{([^}]*)\}\s*from\s*'\.\.?\/([a-z-]+)\/[a-z0-9-]+\.entity\.js'/g;

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() && /\.ts$/.test(entry.name) && !/\.spec(?:-helper)?\.ts$/.test(entry.name)
      ? [path]
      : [];
  });
}

function allowed(file: string, table: string): boolean {
  const rule = ALLOWED[file];
  return rule === 'any' || (rule?.includes(table) ?? false);
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** Every `file:line` outside a table's owner that names the table in SQL or queries its entity. */
function trespasses(): { scanned: number; found: string[] } {
  const src = join(ROOT, 'src');
  const files = filesUnder(src);
  const found: string[] = [];
  for (const path of files) {
    const file = relative(src, path).split(sep).join('/');
    const folder = file.split('/')[0] ?? '';
    const text = readFileSync(path, 'utf8');
    for (const match of text.matchAll(SQL_TABLE)) {
      const table = match[1] ?? '';
      const owner = OWNERS[table];
      if (owner !== undefined && owner !== folder && !allowed(file, table))
        found.push(`src/${file}:${lineOf(text, match.index)}: ${table} belongs to ${owner}/`);
    }
    for (const match of text.matchAll(ENTITY_IMPORT)) {
      const owner = match[2] ?? '';
      if (owner === folder || match[0].startsWith('import type')) continue;
      const entities = (match[1] ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name.endsWith('Entity') && !name.startsWith('type '));
      if (entities.length > 0 && !allowed(file, owner))
        found.push(
          `src/${file}:${lineOf(text, match.index)}: ${entities.join(', ')} belong to ${owner}/`,
        );
    }
  }
  return { scanned: files.length, found };
}

function migratedTables(): string[] {
  const folder = join(ROOT, 'migrations');
  return readdirSync(folder)
    .filter((name) => name.endsWith('.ts'))
    .flatMap((name) =>
      [
        ...readFileSync(join(folder, name), 'utf8').matchAll(
          /CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)/g,
        ),
      ].map((m) => m[1] ?? ''),
    );
}

describe('tables and their owners', () => {
  it('names an owner for every table the migrations create', () => {
    const tables = migratedTables();
    expect(tables.length).toBeGreaterThan(20);
    expect(tables.filter((t) => OWNERS[t] === undefined)).toEqual([]);
  });

  it('has no module read another module’s table, outside the documented exceptions', () => {
    const { scanned, found } = trespasses();
    expect(scanned).toBeGreaterThan(100);
    expect(found).toEqual([]);
  });
});
