import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadInputError, TooLargeError } from './errors.js';

/**
 * Uploads (ONNX artifacts, CSV and Parquet datasets, device logs) are streamed to the blob store by their handlers,
 * which enforce their own size limits: these content types are handed over as the raw request
 * stream instead of being buffered under the global body limit. A request with a body and no
 * content type (`curl -T model.onnx`) is treated the same way; any other unknown type is
 * still refused with 415, as Fastify does by default.
 */
export const UPLOAD_CONTENT_TYPES = [
  'application/octet-stream',
  'text/csv',
  'application/vnd.apache.parquet',
  'application/x-ndjson',
] as const;

export function registerUploadParsers(fastify: FastifyInstance): void {
  for (const type of UPLOAD_CONTENT_TYPES) {
    fastify.addContentTypeParser(type, (_request, payload, done) => {
      done(null, payload);
    });
  }
  fastify.addContentTypeParser('*', (request, payload, done) => {
    // No parser for unknown routes, as before: they answer 404 whatever the body.
    if (request.headers['content-type'] === undefined || request.is404) {
      done(null, payload);
      return;
    }
    done(
      Object.assign(new Error(`Unsupported Media Type: ${request.headers['content-type']}`), {
        statusCode: 415,
        code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      }),
      undefined,
    );
  });
}

export interface UploadOptions {
  /** Media types the route takes besides none at all. */
  readonly accept: readonly string[];
  /** How to send it, for the refusal of another type (default: the accepted types). */
  readonly howToSend?: string;
  readonly maxBytes: number;
  /** Names the upload in a 413 ("artifact", "dataset"). */
  readonly what: string;
}

/**
 * The request body of an upload route as a stream of bytes, never held whole in memory. A
 * Content-Length beyond the limit is refused before a byte is read; a body sent without one
 * is counted as it streams by the blob store.
 *
 * The stream is iterated without being destroyed when the consumer stops early (the blob
 * store refusing it, say), so that the error can still be answered on the connection (see
 * `receiveUpload`).
 */
export function uploadBody(request: FastifyRequest, options: UploadOptions): AsyncIterable<Buffer> {
  const mediaType = mediaTypeOf(request);
  if (mediaType !== undefined && !options.accept.includes(mediaType))
    throw new BadInputError(
      'content-type',
      `${mediaType} is not accepted here; ${options.howToSend ?? `send the bytes as ${options.accept.join(' or ')}`}`,
    );
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes)
    throw new TooLargeError(options.what, options.maxBytes);
  const body: unknown = request.body;
  if (body instanceof Readable) return body.iterator({ destroyOnReturn: false });
  // No body at all (Fastify skips parsing when there is nothing to parse).
  return Readable.from([]);
}

/** The request's media type, lower case and without parameters; undefined when none is sent. */
export function mediaTypeOf(request: FastifyRequest): string | undefined {
  return request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
}

/** How long a refused upload may go on sending (read and thrown away) before it is cut off. */
export const LINGER_MS = 5000;

/**
 * Runs an upload. When it is refused before the client finished sending (too large, a bad
 * row early in a big file), the rest is read and thrown away for a short while so the client
 * can finish writing and read the answer, then the connection is cut: closing at once would
 * reset it under a client still writing, and many lose the answer with the reset.
 */
export async function receiveUpload<T>(
  request: FastifyRequest,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const body = request.raw;
    if (!body.readableEnded) {
      const timer = setTimeout(() => body.socket.destroy(), LINGER_MS);
      timer.unref();
      body.once('end', () => {
        clearTimeout(timer);
      });
      body.once('close', () => {
        clearTimeout(timer);
      });
      body.resume();
    }
    throw error;
  }
}
