/**
 * What the signed-in person's roles allow, as the `me` query's abilities give it (from
 * policies/roles.yaml). The console offers only what these allow, so that nobody is invited
 * to a refusal; the service still decides every call.
 */

export interface Permission {
  readonly action: string;
  readonly subject: string;
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
 * What each page of the console reads, by its route: a page is offered to those whose roles
 * may read it. Reports needs nothing: anyone may verify a report file in the browser, and the
 * page offers export and download only to those allowed.
 */
const PAGE_NEEDS: Readonly<Record<string, Permission | null>> = {
  '/ledger': { action: 'read', subject: 'Ledger' },
  '/inbox': { action: 'read', subject: 'PromotionRequest' },
  '/requests': { action: 'read', subject: 'PromotionRequest' },
  '/endpoints': { action: 'read', subject: 'Endpoint' },
  '/rollouts': { action: 'read', subject: 'Rollout' },
  '/reports': null,
};

/** Whether the page at `route` (`/rollouts/<id>` is a Rollouts page) is for these abilities. */
export function mayOpen(abilities: readonly Permission[], route: string): boolean {
  const section = /^\/[^/]*/.exec(route)?.[0] ?? '/';
  if (!Object.hasOwn(PAGE_NEEDS, section)) return true;
  const needs = PAGE_NEEDS[section];
  return needs === null || needs === undefined || allows(abilities, needs.action, needs.subject);
}

/** What the page needs, in words, for the message of a page someone's roles do not open. */
export function pageNeeds(route: string): string | null {
  const section = /^\/[^/]*/.exec(route)?.[0] ?? '/';
  const needs = Object.hasOwn(PAGE_NEEDS, section) ? PAGE_NEEDS[section] : null;
  return needs ? `${needs.action} ${needs.subject}` : null;
}
