import type { CookieSerializeOptions } from '@fastify/cookie';

/**
 * The console's cookies. `__Host-` makes a browser keep them only if they are Secure, have
 * `Path=/` and no `Domain`: no sibling host and no plain-http page can plant or read one.
 * Browsers treat http://localhost as secure, so development works without TLS.
 */
export const SESSION_COOKIE = '__Host-gatehouse_session';

/**
 * Holds a sign-in's `state` while the browser is at the provider, binding the callback to the
 * browser that began it. `SameSite=Lax`: the way back from the provider is a cross-site
 * navigation, on which a Strict cookie would not be sent.
 */
export const SIGN_IN_COOKIE = '__Host-gatehouse_sign_in';

/** The header every cookie-authenticated request carries, equal to its session's token. */
export const CSRF_HEADER = 'x-csrf-token';

export type ConsoleCookie = typeof SESSION_COOKIE | typeof SIGN_IN_COOKIE;

/**
 * The attributes of a console cookie: script cannot read it, a page of another site cannot
 * make the browser send the session one. `maxAgeSeconds` 0 makes the browser drop it.
 */
export function consoleCookieOptions(
  name: ConsoleCookie,
  maxAgeSeconds: number,
): CookieSerializeOptions {
  return {
    httpOnly: true,
    secure: true,
    sameSite: name === SESSION_COOKIE ? 'strict' : 'lax',
    path: '/',
    maxAge: maxAgeSeconds,
  };
}
