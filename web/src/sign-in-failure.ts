/**
 * The service sends a browser whose return from the OpenID provider signed nobody in back to
 * the console with `?signInFailed=<reason>`. The reason is one of a few words, turned into a
 * sentence here; anything else in the parameter is not shown, so that a crafted link cannot put
 * words of its choosing on the sign-in page.
 */
const MESSAGES: Readonly<Record<string, string>> = {
  'not-begun':
    'The sign-in could not be completed: it was not started from this browser. Sign in again.',
  expired:
    'The sign-in took too long or was already completed, so it could not be used. Sign in again.',
  refused:
    'The identity provider declined the sign-in, or its answer could not be verified. Sign in again; if it keeps failing, your administrator will find the reason in the service’s log.',
};

const PARAMETER = 'signInFailed';

/** The sentence for the failure the location's query names, or null when it names none. */
export function signInFailureMessage(search: string): string | null {
  const reason = new URLSearchParams(search).get(PARAMETER);
  if (reason === null) return null;
  return Object.hasOwn(MESSAGES, reason)
    ? (MESSAGES[reason] ?? null)
    : 'The sign-in could not be completed. Sign in again.';
}

/** The query without the failure's parameter: where to come back to after signing in. */
export function withoutSignInFailure(search: string): string {
  const params = new URLSearchParams(search);
  params.delete(PARAMETER);
  const rest = params.toString();
  return rest === '' ? '' : `?${rest}`;
}
