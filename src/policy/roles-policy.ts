import { z } from 'zod';
import {
  ACTIONS,
  SUBJECTS,
  type Action,
  type Permission,
  type Subject,
} from '../auth/permissions.js';

const roleName = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, 'role names are lowercase words joined by -');

const roleSchema = z.strictObject({
  description: z.string().min(1),
  /** action → subjects it applies to */
  can: z.partialRecord(z.enum(ACTIONS), z.array(z.enum(SUBJECTS)).min(1)),
});

export const rolesPolicySchema = z.strictObject({
  version: z.literal(1),
  roles: z
    .record(roleName, roleSchema)
    .refine((r) => Object.keys(r).length > 0, 'at least one role'),
});

export type RolesPolicy = z.infer<typeof rolesPolicySchema>;

/** The (action, subject) pairs granted to a set of roles; unknown roles grant nothing. */
export function permissionsOf(policy: RolesPolicy, roles: readonly string[]): Permission[] {
  const seen = new Set<string>();
  const out: Permission[] = [];
  for (const role of roles) {
    // Role names come from tokens: `__proto__` or `toString` must name no role, not a member
    // every object inherits.
    if (!Object.hasOwn(policy.roles, role)) continue;
    const def = policy.roles[role];
    if (!def) continue;
    for (const [action, subjects] of Object.entries(def.can) as [Action, Subject[]][]) {
      for (const subject of subjects) {
        const key = `${action}:${subject}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ action, subject });
      }
    }
  }
  return out;
}
