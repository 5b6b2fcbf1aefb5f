import { UnauthenticatedError } from '../auth/auth.errors.js';

/**
 * Why a return from the OpenID provider signed nobody in, in the few words the console turns
 * into a sentence: the browser never began this sign-in (`not-begun`), it began it too long ago
 * or already finished it (`expired`), or the provider declined or its answer did not verify
 * (`refused`). The details stay in the service's log: the page is no place for them.
 */
export const SIGN_IN_FAILURE_REASONS = ['not-begun', 'expired', 'refused'] as const;
export type SignInFailureReason = (typeof SIGN_IN_FAILURE_REASONS)[number];

export class SignInFailedError extends UnauthenticatedError {
  constructor(
    readonly reason: SignInFailureReason,
    detail: string,
  ) {
    super(detail);
  }
}

/** Where a failed return sends the browser: the console, which says what went wrong. */
export function signInFailedLocation(reason: SignInFailureReason): string {
  return `/console/?${new URLSearchParams({ signInFailed: reason }).toString()}`;
}
