import type { TypedDocumentString } from './generated/graphql.js';
import { isRecord, problemOfResponse, ProblemError, type Problem } from './problem.js';

/** Where a client sends its operations and what goes with each: a token, or a cookie and CSRF. */
export interface GraphQLTransport {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The browser's cookie policy (`same-origin` for the console); unused by Node's fetch. */
  readonly credentials?: 'same-origin' | 'include' | 'omit';
}

function problemOfGraphQLError(error: unknown): Problem {
  const body = isRecord(error) ? error : {};
  const extensions = isRecord(body['extensions']) ? body['extensions'] : {};
  const code = typeof extensions['code'] === 'string' ? extensions['code'] : 'GRAPHQL';
  const message = typeof body['message'] === 'string' ? body['message'] : 'The query failed.';
  const details = extensions['details'];
  return isRecord(details) ? { code, message, details } : { code, message };
}

/**
 * Runs one generated operation. The first GraphQL error becomes a ProblemError with the
 * service's code, so a caller branches on `BAD_USER_INPUT` or `GATE_FAILED`, not on wording.
 */
export async function runOperation<TResult, TVariables>(
  transport: GraphQLTransport,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
): Promise<TResult> {
  const response = await fetch(transport.url, {
    method: 'POST',
    ...(transport.credentials === undefined ? {} : { credentials: transport.credentials }),
    headers: {
      ...transport.headers,
      'content-type': 'application/json',
      accept: 'application/json',
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
    throw new ProblemError(problemOfGraphQLError(errors[0]));
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
