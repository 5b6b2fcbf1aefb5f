import type { TypedDocumentString } from '../../../src/client/generated/graphql.js';
import { runOperation as run } from '../../../src/client/graphql.js';

/**
 * Runs one generated operation with the session cookie. The CSRF token goes with every request:
 * the service refuses a cookie-authenticated POST without it.
 */
export function runOperation<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  csrfToken: string,
): Promise<TResult> {
  return run(
    { url: '/graphql', headers: { 'x-csrf-token': csrfToken }, credentials: 'same-origin' },
    document,
    variables,
  );
}
