/** What the signed-in person may do on the Reports page, read from `me.abilities`. */

import { allows, type Permission } from './abilities.js';

export interface ReportAccess {
  /** `exportAuditReport` needs `export Report`. */
  readonly export: boolean;
  /** `GET /v1/reports/{id}` needs `read Report`. */
  readonly download: boolean;
  /** Exported reports are listed from their `report.exported` events: `read Ledger`. */
  readonly list: boolean;
}

/**
 * Offered only what the service would allow, so that nobody is invited to a refusal; the
 * service still decides each call.
 */
export function reportAccess(abilities: readonly Permission[]): ReportAccess {
  const download = allows(abilities, 'read', 'Report');
  return {
    export: allows(abilities, 'export', 'Report') && download,
    download,
    list: allows(abilities, 'read', 'Ledger') && download,
  };
}
