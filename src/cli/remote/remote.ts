import type { Command } from 'commander';
import { GatehouseClient } from '../../client/gatehouse-client.js';
import { ProblemError } from '../../client/problem.js';
import { exitOf, type ExitCode } from '../exit.js';
import { bearerToken } from './credentials.js';

/** The options every client verb takes. */
export interface RemoteOptions {
  readonly url?: string;
  readonly tokenFile?: string;
  readonly json?: boolean;
}

/** A bad `--url` or none: a usage error before anything is sent. */
export class RemoteUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteUrlError';
  }
}

export function withRemoteOptions(command: Command): Command {
  return command
    .option('--url <url>', 'the Gatehouse service (default: GATEHOUSE_URL)')
    .option(
      '--token-file <file>',
      'a file holding the bearer token, read when GATEHOUSE_TOKEN is unset (default: GATEHOUSE_TOKEN_FILE, else the stored gatehouse login)',
    )
    .option('--json', 'print the result as one JSON object, errors too');
}

/** The service's base URL, ending in `/` so that relative paths stay under it. */
export function serviceUrl(options: RemoteOptions, env: NodeJS.ProcessEnv = process.env): string {
  const text = options.url ?? env['GATEHOUSE_URL'];
  if (text === undefined || text.trim() === '')
    throw new RemoteUrlError('no service: pass --url or set GATEHOUSE_URL');
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new RemoteUrlError(`--url: ${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new RemoteUrlError(`--url: must be an http or https URL, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '')
    throw new RemoteUrlError(
      '--url: must not carry credentials; the token goes in GATEHOUSE_TOKEN',
    );
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  return url.href;
}

export async function connect(options: RemoteOptions): Promise<GatehouseClient> {
  const url = serviceUrl(options);
  return new GatehouseClient(url, await bearerToken({ tokenFile: options.tokenFile }));
}

/**
 * What a verb says as it goes: on a terminal, one line rewritten in place; in a CI log (no
 * terminal) or with --json, nothing, so the log holds only results.
 */
export class Progress {
  private readonly live: boolean;
  private shown = false;

  constructor(
    options: RemoteOptions,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.live = stream.isTTY && options.json !== true;
  }

  say(message: string): void {
    if (!this.live) return;
    this.stream.write(`\r\x1b[2K${message}`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}

/** The end of a client verb: its result on stdout (JSON or text) and its exit status. */
export function finish(
  options: RemoteOptions,
  code: ExitCode,
  result: Record<string, unknown>,
  text: string,
): void {
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${text}\n`);
  process.exitCode = code;
}

/**
 * A client verb's failure: one line on stderr, and with --json the same as an object on stdout
 * for the pipeline that reads it; the status says what kind of failure it was.
 */
export function fail(options: RemoteOptions, error: unknown): void {
  const message = messageOf(error);
  process.stderr.write(`gatehouse: ${message}\n`);
  if (options.json) {
    const problem =
      error instanceof ProblemError
        ? error.problem
        : { code: error instanceof RemoteUrlError ? 'BAD_USER_INPUT' : 'CLIENT', message };
    process.stdout.write(`${JSON.stringify({ error: problem })}\n`);
  }
  process.exitCode = error instanceof RemoteUrlError ? 2 : exitOf(error);
}

function messageOf(error: unknown): string {
  if (error instanceof TypeError && error.message === 'fetch failed') {
    const cause = (error as { cause?: unknown }).cause;
    return `the service could not be reached: ${cause instanceof Error ? cause.message : 'no answer'}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Runs a client verb's body, turning any failure into its line and exit status. */
export async function runVerb(options: RemoteOptions, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    fail(options, error);
  }
}
