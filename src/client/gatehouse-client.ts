import type { TypedDocumentString } from './generated/graphql.js';
import { runOperation, type GraphQLTransport } from './graphql.js';
import { isRecord, problemOfResponse, ProblemError } from './problem.js';

/**
 * A Gatehouse elsewhere, as a pipeline reaches it: its base URL and a bearer token. GraphQL for
 * everything the schema covers; REST for the bytes (artifacts, datasets, report files).
 */
export class GatehouseClient {
  private readonly transport: GraphQLTransport;

  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {
    this.transport = {
      url: new URL('graphql', baseUrl).href,
      headers: { authorization: `Bearer ${token}` },
    };
  }

  run<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    variables: TVariables,
  ): Promise<TResult> {
    return runOperation(this.transport, document, variables);
  }

  /** `PUT` of a file's bytes (`/v1/artifacts`, `/v1/datasets?name=`); the JSON answer. */
  put(path: string, body: Uint8Array, contentType: string): Promise<Record<string, unknown>> {
    return this.send('PUT', path, body, contentType);
  }

  /** `POST` of bytes (a device log's records); the JSON answer. */
  post(path: string, body: Uint8Array, contentType: string): Promise<Record<string, unknown>> {
    return this.send('POST', path, body, contentType);
  }

  private async send(
    method: 'PUT' | 'POST',
    path: string,
    body: Uint8Array,
    contentType: string,
  ): Promise<Record<string, unknown>> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        'content-type': contentType,
        accept: 'application/json',
      },
      body,
    });
    if (!response.ok) throw new ProblemError(await problemOfResponse(response));
    const answer: unknown = await response.json();
    if (!isRecord(answer))
      throw new ProblemError({
        code: 'HTTP',
        message: `${path} answered something other than JSON`,
      });
    return answer;
  }

  /** `GET` of bytes with their headers (a report file and its digest). */
  async download(path: string): Promise<{ bytes: Uint8Array; headers: Headers }> {
    const response = await fetch(new URL(path, this.baseUrl), {
      headers: { authorization: `Bearer ${this.token}` },
    });
    if (!response.ok) throw new ProblemError(await problemOfResponse(response));
    return { bytes: new Uint8Array(await response.arrayBuffer()), headers: response.headers };
  }
}
