import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicyFile, PolicyFileError, type LoadedPolicyFile } from './policy-file.js';
import { evaluationPolicySchema, type EvaluationPolicy } from './evaluation-policy.js';
import { promotionPolicySchema, type PromotionPolicy } from './promotion-policy.js';
import { rolesPolicySchema, type RolesPolicy } from './roles-policy.js';

/** Injection token for the policies loaded at start-up. */
export const POLICIES = Symbol('gatehouse.policies');

/** Every policy file the service runs under, parsed and validated. */
export interface Policies {
  readonly roles: LoadedPolicyFile<RolesPolicy>;
  readonly evaluation: LoadedPolicyFile<EvaluationPolicy>;
  readonly promotion: LoadedPolicyFile<PromotionPolicy>;
}

/**
 * Loads and validates every policy file. Called before Nest starts, so a broken file stops
 * start-up with one line naming the file, the line and the reason.
 */
export function loadPolicies(dir: string): Policies {
  const roles = load(dir, 'roles.yaml', (name, text) =>
    parsePolicyFile(name, text, rolesPolicySchema),
  );
  return {
    roles,
    evaluation: load(dir, 'evaluation.yaml', (name, text) =>
      parsePolicyFile(name, text, evaluationPolicySchema),
    ),
    // Checked against the roles just loaded: an approver role nobody can hold stops start-up.
    promotion: load(dir, 'promotion.yaml', (name, text) =>
      parsePolicyFile(name, text, promotionPolicySchema(roles.value)),
    ),
  };
}

export function policyFiles(policies: Policies): LoadedPolicyFile<unknown>[] {
  return [policies.roles, policies.evaluation, policies.promotion];
}

function load<T>(dir: string, name: string, parse: (name: string, text: string) => T): T {
  const path = join(dir, name);
  if (!existsSync(path)) throw new PolicyFileError(path, undefined, 'file not found');
  return parse(path, readFileSync(path, 'utf8'));
}
