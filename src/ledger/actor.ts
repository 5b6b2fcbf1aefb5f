import type { Principal } from '../auth/principal.js';
import type { Actor } from './ledger-sequencer.service.js';

/** The ledger's `actor` member for a verified caller (DESIGN §5). */
export function actorOf(principal: Principal): Actor {
  return { sub: principal.sub, roles: [...principal.roles] };
}
