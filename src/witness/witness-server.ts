import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { KeyObject } from 'node:crypto';
import {
  cosignNoteText,
  formatNote,
  formatSignatureLine,
  type NoteSignature,
} from '../ledger/signed-note.js';
import {
  MAX_ADD_CHECKPOINT_BYTES,
  WitnessRefusal,
  judgeAddCheckpoint,
  parseAddCheckpoint,
  type AddCheckpointRequest,
} from './add-checkpoint.js';
import type { WitnessConfig } from './witness-config.js';
import type { WitnessStore } from './witness-store.js';

export interface WitnessServerOptions {
  readonly config: WitnessConfig;
  readonly store: WitnessStore;
  readonly privateKey: KeyObject;
  /** The submission and monitoring prefix, without a trailing slash ('' for the root). */
  readonly prefix: string;
  readonly log: (line: string) => void;
  /** Milliseconds since the epoch; the cosignatures' clock. */
  readonly now?: () => number;
}

const TEXT = 'text/plain; charset=utf-8';

/**
 * c2sp.org/tlog-witness over HTTP: `POST <prefix>/add-checkpoint` and the monitoring
 * `GET <prefix>/<origin hash>/checkpoint`. Nothing else is served, and no request is
 * authenticated: the log's signature on the checkpoint is the only credential.
 */
export function createWitnessServer(options: WitnessServerOptions): Server {
  const handler = new WitnessHandler(options);
  return createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    handler.handle(req, res).catch((error: unknown) => {
      options.log(`error: ${(error as Error).stack ?? String(error)}`);
      if (!res.headersSent) answer(res, 500, TEXT, 'internal error\n');
      else res.destroy();
    });
  });
}

class WitnessHandler {
  private readonly now: () => number;

  constructor(private readonly options: WitnessServerOptions) {
    this.now = options.now ?? Date.now;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const { prefix } = this.options;
    if (path === `${prefix}/add-checkpoint`) {
      if (req.method !== 'POST') {
        allowOnly(res, 'POST');
        return;
      }
      const body = await readBody(req, res);
      if (body !== undefined) this.addCheckpoint(body, res);
      return;
    }
    const monitored = new RegExp(`^${escapeRegExp(prefix)}/([0-9a-f]{64})/checkpoint$`).exec(path);
    if (monitored?.[1] !== undefined) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        allowOnly(res, 'GET, HEAD');
        return;
      }
      const origin = this.options.store.originOfHash(monitored[1]);
      const stored = origin === undefined ? undefined : this.options.store.get(origin);
      if (!stored) {
        answer(res, 404, TEXT, 'this witness has cosigned no checkpoint of that log\n');
        return;
      }
      answer(res, 200, TEXT, stored.note);
      return;
    }
    answer(res, 404, TEXT, 'not found\n');
  }

  /**
   * Synchronous from reading the state to writing it: Node runs no other request in between,
   * so two submissions cannot both pass the old-size check against the same state (the
   * rollback race the spec describes).
   */
  private addCheckpoint(body: string, res: ServerResponse): void {
    const { config, store, log } = this.options;
    let request: AddCheckpointRequest | undefined;
    try {
      request = parseAddCheckpoint(body);
      const origin = request.checkpoint.origin;
      const state = store.get(origin);
      const accepted = judgeAddCheckpoint(request, config.logs.get(origin), state);
      const timestamp = Math.floor(this.now() / 1000);
      const cosignature = cosignNoteText(
        request.note.text,
        config.name,
        this.options.privateKey,
        timestamp,
      );
      const signatures: NoteSignature[] = [...accepted.logSignatures, cosignature];
      store.put(origin, {
        treeSize: accepted.checkpoint.treeSize,
        rootHash: accepted.checkpoint.rootHash,
        note: formatNote({ text: request.note.text, signatures }),
      });
      log(`cosigned ${origin} at size ${accepted.checkpoint.treeSize} (from ${request.oldSize})`);
      answer(res, 200, TEXT, formatSignatureLine(cosignature));
    } catch (error) {
      if (!(error instanceof WitnessRefusal)) throw error;
      if (error.status === 409) {
        this.keepIfRollback(request, error, body);
        answer(res, 409, 'text/x.tlog.size', `${error.latestSize ?? 0}\n`);
        return;
      }
      if (error.status === 422 && request) {
        const file = store.keepEvidence(request.checkpoint.origin, error.message, body);
        log(
          `refused ${request.checkpoint.origin} size ${request.checkpoint.treeSize} from old size ${request.oldSize}: ${error.message}; kept as ${file}`,
        );
      }
      answer(res, error.status, TEXT, `${error.message}\n`);
    }
  }

  /**
   * A validly signed checkpoint smaller than the one cosigned is a log showing an older view:
   * routine when it is one the witness saw on its way, a rollback otherwise. Either way it is
   * what was presented, and costs one file per distinct body.
   */
  private keepIfRollback(
    request: AddCheckpointRequest | undefined,
    refusal: WitnessRefusal,
    body: string,
  ): void {
    if (!request || refusal.latestSize === undefined) return;
    if (request.checkpoint.treeSize >= refusal.latestSize) return;
    const file = this.options.store.keepEvidence(
      request.checkpoint.origin,
      `a checkpoint of size ${request.checkpoint.treeSize} below the one cosigned, ${refusal.latestSize}`,
      body,
    );
    this.options.log(
      `refused ${request.checkpoint.origin} size ${request.checkpoint.treeSize}: below the cosigned size ${refusal.latestSize}; kept as ${file}`,
    );
  }
}

/** The body as UTF-8, or undefined once a 413 or 400 has been answered. */
function readBody(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > MAX_ADD_CHECKPOINT_BYTES) {
      tooLarge(req, res);
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > MAX_ADD_CHECKPOINT_BYTES) {
        over = true;
        tooLarge(req, res);
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (over) return;
      try {
        resolve(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)));
      } catch {
        answer(res, 400, TEXT, 'the body is not UTF-8\n');
        resolve(undefined);
      }
    });
  });
}

function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  // The answer, then the connection closed: a client that keeps sending is not read further.
  res.setHeader('connection', 'close');
  res.on('finish', () => req.destroy());
  answer(res, 413, TEXT, `a request body is at most ${MAX_ADD_CHECKPOINT_BYTES} bytes\n`);
}

function allowOnly(res: ServerResponse, methods: string): void {
  res.setHeader('allow', methods);
  answer(res, 405, TEXT, 'method not allowed\n');
}

function answer(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
