import type { Principal } from '../auth/principal.js';
import type { Actor } from './ledger-sequencer.service.js';

/** The ledger's `actor` member for a verified caller: its subject and roles. */
export function actorOf(principal: Principal): Actor {
  return { sub: principal.sub, roles: [...principal.roles] };
}
