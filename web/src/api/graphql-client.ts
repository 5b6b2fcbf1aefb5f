import type { TypedDocumentString } from './generated/graphql.js';
import { isRecord, problemOfResponse, ProblemError, type Problem } from './problem.js';

interface GraphQLErrorBody {
  readonly message?: unknown;
  readonly extensions?: unknown;
}

function problemOfGraphQLError(error: GraphQLErrorBody): Problem {
  const code =
    isRecord(error.extensions) && typeof error.extensions['code'] === 'string'
      ? error.extensions['code']
      : 'GRAPHQL';
  const message = typeof error.message === 'string' ? error.message : 'The query failed.';
  return { code, message };
}

/**
 * Runs one generated operation with the session cookie. The CSRF token goes with every request:
 * the service refuses a cookie-authenticated POST without it.
 */
export async function runOperation<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  csrfToken: string,
): Promise<TResult> {
  const response = await fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-csrf-token': csrfToken,
    },
    body: JSON.stringify({ query: document.toString(), variables }),
  });
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.includes('json')) throw new ProblemError(await problemOfResponse(response));
  const body: unknown = await response.json();
  if (!isRecord(body)) {
    throw new ProblemError({ code: 'GRAPHQL', message: 'The service answer was not understood.' });
  }
  const errors = body['errors'];
  if (Array.isArray(errors) && errors.length > 0) {
    throw new ProblemError(problemOfGraphQLError(errors[0] as GraphQLErrorBody));
  }
  if (!response.ok || !isRecord(body['data'])) {
    throw new ProblemError(
      isRecord(body['error'])
        ? problemOfGraphQLError(body['error'])
        : { code: `HTTP_${response.status}`, message: 'The query returned no data.' },
    );
  }
  return body['data'] as TResult;
}
