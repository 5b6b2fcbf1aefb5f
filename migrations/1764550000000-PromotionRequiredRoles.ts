import type { MigrationInterface, QueryRunner } from 'typeorm';
import { parse } from 'yaml';

/**
 * An open promotion request is judged under the promotion policy in force, which can differ
 * from the one it was requested under (a restart with another promotion.yaml). The request
 * keeps the roles it needs now and the digest of the policy they come from, so that its
 * status, `missingRoles`, the APPROVALS gate and `startRollout` read the same list, whichever
 * replica answers. Both move only together with a `promotion.repolicied` event; what was
 * requested (content, `policy_sha256`) still never changes.
 *
 * Existing requests need the roles of the policy they were requested under: its text is in
 * `policy_documents` (recorded before any request could be made).
 */
export class PromotionRequiredRoles1764550000000 implements MigrationInterface {
  name = 'PromotionRequiredRoles1764550000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE promotion_requests
        ADD COLUMN required_roles       text[],
        ADD COLUMN judged_policy_sha256 char(64)`);
    const groups = (await q.query(`
      SELECT DISTINCT r.policy_sha256 AS sha256, r.risk_tier AS tier, d.content
      FROM promotion_requests r LEFT JOIN policy_documents d ON d.sha256 = r.policy_sha256`)) as {
      sha256: string;
      tier: string;
      content: string | null;
    }[];
    for (const group of groups) {
      const roles = group.content === null ? null : approversOf(group.content, group.tier);
      if (roles === null)
        throw new Error(
          `promotion requests were made under promotion policy ${group.sha256}, whose ${group.tier} approvers cannot be read from policy_documents`,
        );
      await q.query(
        `UPDATE promotion_requests SET required_roles = $1, judged_policy_sha256 = policy_sha256
         WHERE policy_sha256 = $2 AND risk_tier = $3`,
        [roles, group.sha256, group.tier],
      );
    }
    await q.query(`
      ALTER TABLE promotion_requests
        ALTER COLUMN required_roles SET NOT NULL,
        ALTER COLUMN judged_policy_sha256 SET NOT NULL,
        ADD CONSTRAINT promotion_requests_required_roles CHECK (cardinality(required_roles) > 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE promotion_requests
        DROP COLUMN required_roles,
        DROP COLUMN judged_policy_sha256`);
  }
}

/** `tiers.<tier>.approvers` of a promotion.yaml text that was validated when it was loaded. */
function approversOf(content: string, tier: string): string[] | null {
  const doc: unknown = parse(content);
  const tiers = isRecord(doc) ? doc['tiers'] : undefined;
  const approvers = isRecord(tiers) && isRecord(tiers[tier]) ? tiers[tier]['approvers'] : undefined;
  return Array.isArray(approvers) &&
    approvers.length > 0 &&
    approvers.every((r): r is string => typeof r === 'string')
    ? approvers
    : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
