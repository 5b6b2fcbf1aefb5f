import { isRecord, problemOfResponse, ProblemError } from './problem.js';

/** The signed-in person, as the console's sign-in backend (`/console/auth/session`) tells it. */
export interface Session {
  readonly subject: string;
  readonly roles: readonly string[];
  /** Sent as `x-csrf-token` with every state-changing call made with the session cookie. */
  readonly csrfToken: string;
  readonly expiresAt: string;
}

const AUTH = '/console/auth';

function sessionOf(body: unknown): Session {
  if (
    isRecord(body) &&
    typeof body['subject'] === 'string' &&
    Array.isArray(body['roles']) &&
    body['roles'].every((role) => typeof role === 'string') &&
    typeof body['csrfToken'] === 'string' &&
    typeof body['expiresAt'] === 'string'
  ) {
    return {
      subject: body['subject'],
      roles: body['roles'],
      csrfToken: body['csrfToken'],
      expiresAt: body['expiresAt'],
    };
  }
  throw new ProblemError({
    code: 'BAD_SESSION',
    message: 'The session answer was not understood.',
  });
}

/** The current session, or null when nobody is signed in; a server without sign-in throws. */
export async function fetchSession(): Promise<Session | null> {
  const response = await fetch(`${AUTH}/session`, {
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
  });
  if (response.status === 401) return null;
  if (response.status === 404) {
    throw new ProblemError({
      code: 'NO_SIGN_IN',
      message: 'This server does not offer sign-in to the console.',
    });
  }
  if (!response.ok) throw new ProblemError(await problemOfResponse(response));
  return sessionOf(await response.json());
}

/** Where the browser goes to sign in with the OpenID provider, coming back to `returnTo`. */
export function signInHref(returnTo: string): string {
  return `${AUTH}/login?${new URLSearchParams({ returnTo }).toString()}`;
}

export async function signOut(session: Session): Promise<void> {
  const response = await fetch(`${AUTH}/logout`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'x-csrf-token': session.csrfToken },
  });
  if (!response.ok) throw new ProblemError(await problemOfResponse(response));
}

/**
 * Whether the development issuer's sign-in is on. The backend has the route only then: an
 * empty request is refused as bad input when it exists, and not found when it does not.
 */
export async function devSignInAvailable(): Promise<boolean> {
  const response = await fetch(`${AUTH}/dev-login`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: '{}',
  });
  return response.status !== 404 && response.status !== 405;
}

export async function devSignIn(subject: string, roles: readonly string[]): Promise<void> {
  const response = await fetch(`${AUTH}/dev-login`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ subject, roles }),
  });
  if (!response.ok) throw new ProblemError(await problemOfResponse(response));
}
