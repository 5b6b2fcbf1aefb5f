import type { Permission } from '../abilities.js';
import { AbilitiesDocument } from '../../../src/client/generated/graphql.js';
import { runOperation } from './graphql-client.js';

/** What the signed-in session's roles allow (the `me` query). */
export async function fetchAbilities(csrfToken: string): Promise<readonly Permission[]> {
  const data = await runOperation(AbilitiesDocument, {}, csrfToken);
  return data.me.abilities;
}
