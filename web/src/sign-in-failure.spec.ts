import { describe, expect, it } from '@jest/globals';
import { signInFailureMessage, withoutSignInFailure } from './sign-in-failure.js';

describe('a failed sign-in, as the console says it', () => {
  it('has a sentence for each reason the service sends', () => {
    expect(signInFailureMessage('?signInFailed=not-begun')).toMatch(
      /not started from this browser/,
    );
    expect(signInFailureMessage('?signInFailed=expired')).toMatch(/took too long/);
    expect(signInFailureMessage('?signInFailed=refused')).toMatch(/identity provider declined/);
  });

  it('shows no text a link chose, nor an inherited key', () => {
    for (const reason of ['Call 555-0100 to verify', 'constructor', '__proto__', 'toString', ''])
      expect(
        signInFailureMessage(`?${new URLSearchParams({ signInFailed: reason }).toString()}`),
      ).toBe('The sign-in could not be completed. Sign in again.');
  });

  it('is silent without the parameter', () => {
    expect(signInFailureMessage('')).toBeNull();
    expect(signInFailureMessage('?seq=4')).toBeNull();
  });

  it('comes back to the same page without the failure', () => {
    expect(withoutSignInFailure('?signInFailed=expired')).toBe('');
    expect(withoutSignInFailure('?seq=4&signInFailed=refused')).toBe('?seq=4');
    expect(withoutSignInFailure('')).toBe('');
  });
});
