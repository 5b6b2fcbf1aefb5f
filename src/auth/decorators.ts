import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Action, Subject } from './permissions.js';
import type { Principal } from './principal.js';
import { requestOf } from './request-of.js';

export const ACCESS_KEY = 'gatehouse:access';

export type Access =
  | { readonly kind: 'public' }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'permission'; readonly action: Action; readonly subject: Subject };

/**
 * Every resolver and controller handler declares one of these three; the global guard refuses
 * to run a handler that declares none (fail closed), and a test walks every handler to prove it.
 */
export const Public = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ACCESS_KEY, { kind: 'public' } satisfies Access);

export const Authenticated = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ACCESS_KEY, { kind: 'authenticated' } satisfies Access);

export const Can = (action: Action, subject: Subject): MethodDecorator & ClassDecorator =>
  SetMetadata(ACCESS_KEY, { kind: 'permission', action, subject } satisfies Access);

/** The verified caller; only valid on handlers that are not @Public. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => {
    const principal = requestOf(ctx).principal;
    if (!principal) throw new Error('CurrentPrincipal used on a handler without authentication');
    return principal;
  },
);
