import { describe, expect, it } from '@jest/globals';
import { consoleCookieOptions, SESSION_COOKIE, SIGN_IN_COOKIE } from './console-cookies.js';

describe('console cookies', () => {
  it('keep the session cookie from script and from requests other sites start', () => {
    expect(consoleCookieOptions(SESSION_COOKIE, 3600)).toEqual({
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
      path: '/',
      maxAge: 3600,
    });
  });

  it('let the sign-in cookie come back with the navigation from the provider', () => {
    expect(consoleCookieOptions(SIGN_IN_COOKIE, 600)).toMatchObject({
      sameSite: 'lax',
      secure: true,
      httpOnly: true,
      path: '/',
    });
  });

  it('meet the __Host- prefix rules: Secure, Path=/ and no Domain', () => {
    for (const name of [SESSION_COOKIE, SIGN_IN_COOKIE] as const) {
      expect(name.startsWith('__Host-')).toBe(true);
      const options = consoleCookieOptions(name, 0);
      expect(options.secure).toBe(true);
      expect(options.path).toBe('/');
      expect(options.domain).toBeUndefined();
    }
  });
});
