import type { FastifyRequest } from 'fastify';
import type { Principal } from './principal.js';

/**
 * Injection token for the other way a request can be authenticated than a bearer token: the
 * web console's session cookie (src/console-auth/). Authentication asks it only about a
 * request that has no Authorization header.
 */
export const SESSION_PRINCIPALS = Symbol('gatehouse.session-principals');

export interface SessionPrincipals {
  /** Whether the request carries a session at all (whether it is good is `authenticate`'s). */
  carriesSession(request: FastifyRequest): boolean;
  /** The session's principal, or UNAUTHENTICATED / FORBIDDEN. */
  authenticate(request: FastifyRequest): Promise<Principal>;
}
