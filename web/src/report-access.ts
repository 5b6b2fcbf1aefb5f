/** What the signed-in person may do on the Reports page, read from `me.abilities`. */

export interface Permission {
  readonly action: string;
  readonly subject: string;
}

export interface ReportAccess {
  /** `exportAuditReport` needs `export Report`. */
  readonly export: boolean;
  /** `GET /v1/reports/{id}` needs `read Report`. */
  readonly download: boolean;
  /** Exported reports are listed from their `report.exported` events: `read Ledger`. */
  readonly list: boolean;
}

/** Whether one of the abilities grants `action` on `subject`, as CASL reads `manage` and `all`. */
export function allows(abilities: readonly Permission[], action: string, subject: string): boolean {
  return abilities.some(
    (ability) =>
      (ability.action === action || ability.action === 'manage') &&
      (ability.subject === subject || ability.subject === 'all'),
  );
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
