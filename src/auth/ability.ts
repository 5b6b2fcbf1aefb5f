import { createMongoAbility, type MongoAbility } from '@casl/ability';
import type { Action, Permission, Subject } from './permissions.js';

export type AppAbility = MongoAbility<[Action, Subject]>;

/**
 * A CASL ability from granted permissions. CASL reads the action `manage` as "any action" and
 * the subject `all` as "any subject", which is how roles.yaml grants an auditor read-all.
 */
export function buildAbility(permissions: readonly Permission[]): AppAbility {
  return createMongoAbility<[Action, Subject]>(
    permissions.map((p) => ({ action: p.action, subject: p.subject })),
  );
}
