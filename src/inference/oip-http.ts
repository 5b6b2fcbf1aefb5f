import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadInputError, DomainError } from '../common/errors.js';
import { findValueFault } from '../common/text-rules.js';

/**
 * The HTTP side of the Open Inference Protocol's infer path, with no framework: the path, the
 * media type, the bounded body and its JSON. The service's inference lane and the edge runtime
 * (`gatehouse edge serve`) answer the same requests through these, so a request one refuses the
 * other refuses with the same words.
 */

const PREFIX = '/v2/models/';
const SUFFIX = '/infer';

/**
 * The endpoint named by an OIP infer path (`/v2/models/{endpoint}/infer`, any query string
 * aside), percent-decoded as Fastify decodes route parameters; undefined for any other path,
 * which Fastify then answers (404 for one it has no route for).
 */
export function inferEndpointOf(url: string): string | undefined {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (!path.startsWith(PREFIX) || !path.endsWith(SUFFIX)) return undefined;
  const segment = path.slice(PREFIX.length, path.length - SUFFIX.length);
  if (segment === '' || segment.includes('/')) return undefined;
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** A body sent as anything but JSON: 415 rather than 400. */
export class UnsupportedMediaTypeError extends BadInputError {}

export function checkMediaType(contentType: string | undefined): void {
  if (contentType === 'application/json') return;
  const media = contentType?.split(';')[0]?.trim().toLowerCase();
  if (media !== 'application/json')
    throw new UnsupportedMediaTypeError(
      'content-type',
      `${media === undefined || media === '' ? 'none' : media} is not accepted here; send the request as application/json`,
    );
}

export class PayloadTooLargeError extends DomainError {
  /** `setting`: what sets the limit, named so that whoever meets it knows what to change. */
  constructor(limit: number, setting: string) {
    super(
      'PAYLOAD_TOO_LARGE',
      `body: larger than the limit of ${String(limit)} bytes (${setting})`,
      {
        field: 'body',
        limit,
      },
    );
  }
}

/**
 * The body as text, at most `limit` bytes of it; rejects as soon as it is known to be more.
 * Its listeners stay until the request is gone (removing four listeners costs more than a
 * finished flag): what arrives after the outcome is ignored, and after a 413 Node drops the
 * rest of the body with the connection.
 */
export function readBody(
  request: IncomingMessage,
  limit: number,
  setting = 'GATEHOUSE_BODY_LIMIT_BYTES',
): Promise<string> {
  const declared = Number(request.headers['content-length']);
  if (declared > limit) return Promise.reject(new PayloadTooLargeError(limit, setting));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    // The error is made only when it is the outcome: 'close' follows every request, and an
    // Error captures a stack trace, a large share of a request's CPU if built for each one.
    const fail = (outcome: () => Error): void => {
      if (done) return;
      done = true;
      reject(outcome());
    };
    request.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) fail(() => new PayloadTooLargeError(limit, setting));
      else chunks.push(chunk);
    });
    request.on('end', () => {
      if (done) return;
      done = true;
      const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      resolve(bytes.toString('utf8'));
    });
    // A client gone before the end of its body is answered nowhere; nothing is logged as a bug.
    request.on('error', () => {
      fail(() => new BadInputError('body', 'the connection failed before the body ended'));
    });
    request.on('close', () => {
      fail(
        () => new BadInputError('body', 'the client closed the connection before the body ended'),
      );
    });
  });
}

/**
 * The body as JSON, held to the text rule (src/common/text-rules.ts) like every other entry
 * point. JSON.parse, with what Fastify's parser (secure-json-parse) refused refused here too: a
 * `__proto__` member, or a `constructor` member holding a `prototype`. Only bodies that
 * mention either are parsed with the (slower) reviver.
 */
export function parseInferBody(text: string): unknown {
  if (text === '') throw new BadInputError('body', 'is empty; send the inference request as JSON');
  const body = parseJson(text);
  // NUL and unpaired surrogates can only arrive as \u escapes (a raw control character is not
  // JSON, and invalid UTF-8 decodes to U+FFFD), so a body without one needs no walk.
  if (text.includes('\\u')) {
    const fault = findValueFault(body, '');
    if (fault) throw new BadInputError(fault.field || 'body', fault.reason);
  }
  return body;
}

function parseJson(text: string): unknown {
  try {
    if (!text.includes('__proto__') && !text.includes('constructor')) return JSON.parse(text);
    return JSON.parse(text, (key, value: unknown) => {
      if (
        key === '__proto__' ||
        (key === 'constructor' &&
          typeof value === 'object' &&
          value !== null &&
          'prototype' in value)
      )
        throw new BadInputError('body', `a member named ${key} is not accepted`);
      return value;
    });
  } catch (error) {
    if (error instanceof BadInputError) throw error;
    throw new BadInputError(
      'body',
      `is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export function send(response: ServerResponse, status: number, json: string, close = false): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    ...(close ? { connection: 'close' } : {}),
  });
  response.end(json);
}
