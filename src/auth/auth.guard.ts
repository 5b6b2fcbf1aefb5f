import {
  Inject,
  Injectable,
  Optional,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ForbiddenError } from './auth.errors.js';
import { AuthService } from './auth.service.js';
import { ACCESS_KEY, type Access } from './decorators.js';
import type { Principal } from './principal.js';
import { requestOf, type AuthenticatedRequest } from './request-of.js';
import { SESSION_PRINCIPALS, type SessionPrincipals } from './session-principals.js';

/**
 * The global guard. Authentication is done once per HTTP request (a GraphQL document with five
 * root fields verifies its token once) and the permission each handler declares is checked
 * with the caller's CASL ability. A request without an Authorization header may be a web
 * console's, authenticated by its session cookie instead.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    @Optional() @Inject(SESSION_PRINCIPALS) private readonly sessions?: SessionPrincipals,
  ) {}

  canActivate(ctx: ExecutionContext): boolean | Promise<boolean> {
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS_KEY, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (access === undefined) {
      throw new Error(`${ctx.getClass().name}.${ctx.getHandler().name} declares no access rule`);
    }
    if (access.kind === 'public') return true;
    const request = requestOf(ctx);
    // A token seen a moment ago is answered without a promise: the hot path (inference).
    const known = request.principal ?? this.auth.remembered(request.headers.authorization);
    if (known) return permit(access, request, known);
    request.principalPromise ??= this.authenticate(request);
    return request.principalPromise.then((principal) => permit(access, request, principal));
  }

  private authenticate(request: AuthenticatedRequest): Promise<Principal> {
    const authorization = request.headers.authorization;
    if (authorization === undefined && this.sessions?.carriesSession(request))
      return this.sessions.authenticate(request);
    return this.auth.authenticate(authorization);
  }
}

function permit(access: Access, request: AuthenticatedRequest, principal: Principal): true {
  request.principal = principal;
  if (access.kind === 'permission' && !principal.ability.can(access.action, access.subject)) {
    throw new ForbiddenError(access.action, access.subject, { roles: principal.roles });
  }
  return true;
}
