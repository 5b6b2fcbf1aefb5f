import { parse } from 'yaml';

/** What the sign-off form needs from policies/promotion.yaml. */
export interface SignOffRules {
  /** Approving in this role is the sign-off, which needs a statement. */
  readonly signOffRole: string;
  readonly minStatementLength: number;
  readonly minReasonLength: number;
}

function recordAt(value: unknown, key: string): Record<string, unknown> | null {
  if (typeof value !== 'object' || value === null) return null;
  const found: unknown = (value as Record<string, unknown>)[key];
  return typeof found === 'object' && found !== null && !Array.isArray(found)
    ? (found as Record<string, unknown>)
    : null;
}

/**
 * The sign-off rules of a promotion policy's text, as the `policies` query serves it; null when
 * the text does not carry them (the service then still refuses what falls short).
 */
export function signOffRules(content: string): SignOffRules | null {
  let document: unknown;
  try {
    document = parse(content);
  } catch {
    return null;
  }
  const signOff = recordAt(document, 'signOff');
  const text = recordAt(document, 'text');
  const role = signOff?.['role'];
  const minStatementLength = signOff?.['minStatementLength'];
  const minReasonLength = text?.['minReasonLength'];
  if (
    typeof role !== 'string' ||
    typeof minStatementLength !== 'number' ||
    typeof minReasonLength !== 'number'
  ) {
    return null;
  }
  return { signOffRole: role, minStatementLength, minReasonLength };
}
