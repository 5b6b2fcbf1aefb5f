import { context } from '@opentelemetry/api';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import { ForbiddenError } from '../auth/auth.errors.js';
import type { AuthService } from '../auth/auth.service.js';
import { clientErrorOf, errorBody } from '../common/client-error.js';
import { BadInputError } from '../common/errors.js';
import { textFault } from '../common/text-rules.js';
import { endInferenceSpan, startInferenceSpan } from '../telemetry/inference-tracing.js';
import type { LoggedEntry, RequestLog } from '../telemetry/request-log.js';
import type { InferenceService } from './inference.service.js';
import {
  checkMediaType,
  inferEndpointOf,
  parseInferBody,
  readBody,
  send,
  UnsupportedMediaTypeError,
} from './oip-http.js';

/** The server settings Fastify hands its `serverFactory` (those of them the lane applies). */
export interface ServerSettings {
  readonly http?: ServerOptions;
  readonly keepAliveTimeout?: number;
  readonly requestTimeout?: number;
  readonly connectionTimeout?: number;
  readonly maxRequestsPerSocket?: number;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

interface Services {
  readonly auth: AuthService;
  readonly inference: InferenceService;
}

/** How an inference request ended: its status, and the error behind a 5xx. */
interface Outcome {
  readonly status: number;
  readonly failure?: unknown;
}

const SHUTTING_DOWN = JSON.stringify(
  errorBody({
    code: 'INTERNAL',
    message: 'the service is shutting down: send the request again',
    status: 503,
  }),
);

/**
 * `POST /v2/models/{endpoint}/infer`, answered on Node's HTTP server itself, ahead of Fastify
 * and Nest. Every other request goes on to Fastify unchanged.
 *
 * Why: this is the one path taken thousands of times a second, and on it Fastify's request and
 * reply objects and hooks, and Nest's guard, pipes and interceptors, cost about as much as the
 * model run, so serving it here answers markedly more requests on the same cores (figures in
 * docs/benchmarks.md, the choice in docs/decisions.md). What they did on this path is done
 * here, with the same shared parts:
 *
 * - the caller's token, through AuthService (its cache first), and the `infer Inference`
 *   permission, as the global guard checks `@Can('infer', 'Inference')`;
 * - the body: JSON only, within the body limit (GATEHOUSE_BODY_LIMIT_BYTES), refused before a
 *   byte is read when its declared length is over it;
 * - errors answered as the global filter answers them (`clientErrorOf`, `errorBody`);
 * - the request span, when it is recorded (src/telemetry/inference-tracing.ts), and a request
 *   log line with `GATEHOUSE_LOG_REQUESTS=all` (src/telemetry/request-log.ts).
 *
 * Nest's global guards, pipes, interceptors and filters do not run here: one added for every
 * route must be added to this path too.
 */
export class InferLane {
  private services?: Services;
  private requests = 0;
  private closing = false;

  constructor(
    private readonly options: {
      readonly bodyLimitBytes: number;
      readonly log: RequestLog;
      /** Whether the process records spans (asked per request: the SDK can start later). */
      readonly recording: () => boolean;
    },
  ) {}

  /**
   * The services the lane answers with, once Nest has made them. Until then every request goes
   * to Fastify (none arrives: the server listens after this is called).
   */
  attach(auth: AuthService, inference: InferenceService): void {
    this.services = { auth, inference };
  }

  /**
   * The service is shutting down (Fastify's `preClose`): from now on a request is answered 503,
   * as Fastify answers its own routes, and every answer closes its connection. Closing the
   * server closes only the connections idle at that moment; one answered afterwards and kept
   * alive would hold the close open until its keep-alive timeout (72 s), and a client sending
   * steadily could keep it busy for longer (test/e2e/inference-shutdown.e2e-spec.ts).
   */
  close(): void {
    this.closing = true;
  }

  /**
   * For Fastify's `serverFactory` option: the HTTP server Fastify would make, with its settings,
   * and the lane in front of Fastify's handler.
   */
  serverFactory(): (handler: Handler, settings: ServerSettings) => Server {
    return (handler, settings) => {
      const server = createServer(settings.http ?? {}, (request, response) => {
        if (!this.take(request, response)) handler(request, response);
      });
      if (settings.keepAliveTimeout !== undefined)
        server.keepAliveTimeout = settings.keepAliveTimeout;
      if (settings.requestTimeout !== undefined) server.requestTimeout = settings.requestTimeout;
      if (settings.connectionTimeout !== undefined) server.setTimeout(settings.connectionTimeout);
      if (settings.maxRequestsPerSocket !== undefined && settings.maxRequestsPerSocket > 0)
        server.maxRequestsPerSocket = settings.maxRequestsPerSocket;
      return server;
    };
  }

  /** Answers the request if it is a real-time inference request; false leaves it to Fastify. */
  take(request: IncomingMessage, response: ServerResponse): boolean {
    const services = this.services;
    if (request.method !== 'POST' || services === undefined) return false;
    const endpoint = inferEndpointOf(request.url ?? '');
    if (endpoint === undefined) return false;
    if (this.closing) {
      send(response, 503, SHUTTING_DOWN, true);
      return true;
    }
    const traced = startInferenceSpan(request, this.options.recording());
    if (traced) {
      context.with(traced.context, () => {
        this.answer(services, endpoint, request, response, traced);
      });
    } else this.answer(services, endpoint, request, response, undefined);
    return true;
  }

  private answer(
    services: Services,
    endpoint: string,
    request: IncomingMessage,
    response: ServerResponse,
    traced: ReturnType<typeof startInferenceSpan>,
  ): void {
    const log = this.options.log;
    const finish = (entry: LoggedEntry | undefined, id: string) => (outcome: Outcome) => {
      if (traced) endInferenceSpan(traced.span, outcome.status, outcome.failure);
      if (entry) log.end(entry, { id, method: request.method, url: request.url }, response);
    };
    if (!log.inference) {
      void this.serve(services, endpoint, request, response).then(finish(undefined, ''));
      return;
    }
    const id = `inf-${(++this.requests).toString(36)}`;
    log.begin(id, (entry) => {
      void this.serve(services, endpoint, request, response).then(finish(entry, id));
    });
  }

  /** Never rejects: every error is answered, and said in the outcome. */
  private async serve(
    { auth, inference }: Services,
    endpoint: string,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<Outcome> {
    try {
      const authorization = request.headers.authorization;
      const principal = auth.remembered(authorization) ?? (await auth.authenticate(authorization));
      if (!principal.ability.can('infer', 'Inference'))
        throw new ForbiddenError('infer', 'Inference', { roles: principal.roles });
      // The name is percent-decoded from the path: `%00` would reach the database otherwise.
      const endpointFault = textFault(endpoint);
      if (endpointFault) throw new BadInputError('endpoint', endpointFault);
      checkMediaType(request.headers['content-type']);
      const body = parseInferBody(await readBody(request, this.options.bodyLimitBytes));
      const routingKey = request.headers['x-routing-key'];
      const answer = await inference.infer(
        endpoint,
        body,
        typeof routingKey === 'string' ? routingKey : undefined,
      );
      send(response, 200, JSON.stringify(answer), this.closing);
      return { status: 200 };
    } catch (error) {
      const client = clientErrorOf(error);
      const status = error instanceof UnsupportedMediaTypeError ? 415 : client.status;
      // Past the limit the rest of the body is not read: the connection closes after the answer.
      send(response, status, JSON.stringify(errorBody(client)), status === 413 || this.closing);
      return status >= 500 ? { status, failure: error } : { status };
    }
  }
}
