import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONSOLE_HEADERS, isClientRoute } from './console-files.js';

export interface ConsoleOptions {
  /** The built console: index.html and its `assets/`. */
  readonly dir: string;
}

/** The path after `/console/` of a request URL, without its query. */
function pathUnderConsole(url: string): string {
  const path = url.split('?', 1)[0] ?? '';
  return path.replace(/^\/console\/?/, '');
}

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).send({ error: { code: 'NOT_FOUND', message } });
}

/**
 * The web console, registered with the prefix `/console`: its built files, and index.html for
 * its client routes. Without a build the console answers 404 saying so, and the service runs on.
 */
export async function consolePlugin(
  scope: FastifyInstance,
  options: ConsoleOptions,
): Promise<void> {
  scope.addHook('onSend', async (_request, reply, payload) => {
    void reply.headers(CONSOLE_HEADERS);
    return payload;
  });
  const indexPath = join(options.dir, 'index.html');
  if (!existsSync(indexPath)) {
    const unbuilt = async (_request: FastifyRequest, reply: FastifyReply) =>
      notFound(reply, 'The console is not built on this server: run `npm run build` and restart.');
    scope.get('/', unbuilt);
    scope.get('/*', unbuilt);
    return;
  }
  // Read once: a rebuilt console is served after a restart, as the service's own code is.
  const index = readFileSync(indexPath);
  const sendIndex = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(index);
  await scope.register(fastifyStatic, {
    root: options.dir,
    prefix: '/',
    index: false,
    decorateReply: false,
    // Vite names assets by their content: a name never changes meaning.
    setHeaders: (reply, path) => {
      const asset = path.includes(join('assets', ''));
      void reply.header(
        'cache-control',
        asset ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  scope.get('/', sendIndex);
  scope.setNotFoundHandler(async (request, reply) => {
    const path = pathUnderConsole(request.url);
    if ((request.method === 'GET' || request.method === 'HEAD') && isClientRoute(path)) {
      return sendIndex(request, reply);
    }
    return notFound(reply, `The console has no file ${request.url}`);
  });
}
