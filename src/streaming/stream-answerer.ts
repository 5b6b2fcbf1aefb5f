import { BadInputError } from '../common/errors.js';
import { parseInferBody } from '../inference/oip-http.js';
import {
  ModelFailureError,
  NoLiveVersionError,
  PredictionLogUnavailableError,
} from '../inference/inference.errors.js';
import type { DurableAnswer } from '../inference/inference.service.js';
import { MAX_REQUEST_ID_LENGTH } from '../inference/oip-tensors.js';
import type { InboundMessage, StreamBroker } from './stream-broker.js';

/** The request id, and the id under which the answer is published (a deduplicating stream keeps one). */
export const REQUEST_ID_HEADER = 'Nats-Msg-Id';
/** Routes like the HTTP `x-routing-key` header: the same key, the same arm for a stage. */
export const ROUTING_KEY_HEADER = 'X-Routing-Key';
/** On an answer: `live` or `candidate`. */
export const ARM_HEADER = 'Gatehouse-Arm';
/** On an answer: the version that gave it. */
export const VERSION_HEADER = 'Gatehouse-Model-Version';
/** On a dead letter: why the message was not answered. */
export const REASON_HEADER = 'Gatehouse-Reason';
/** On a dead letter: the subject the message came on. */
export const SOURCE_HEADER = 'Gatehouse-Source-Subject';

/** Where a bound endpoint's messages are answered. */
export interface StreamTarget {
  readonly endpoint: string;
  readonly outputSubject: string;
  readonly deadLetterSubject: string;
}

/** What the answerer needs of the inference service. */
export interface DurableInference {
  inferDurably(
    endpoint: string,
    body: unknown,
    options: { readonly routingKey?: string; readonly requestId: string },
  ): Promise<DurableAnswer>;
}

/** How a message was settled, for the counters. */
export type Settled =
  | { readonly kind: 'answered'; readonly arm: 'live' | 'candidate' }
  | { readonly kind: 'dead-lettered'; readonly reason: string }
  | { readonly kind: 'retried'; readonly reason: string };

/** A message that is put back waits this long before it is delivered again. */
const RETRY_DELAY_MS = 1000;

/**
 * Answers one stream message as the HTTP path answers a request, then settles it:
 *
 * - its body is read by the same rules as an HTTP body, its `Nats-Msg-Id` (or the body's `id`)
 *   is the request id, its `X-Routing-Key` header routes;
 * - the answer goes to the output subject under the request id (so a redelivered message,
 *   answered again, is stored once by a deduplicating output stream), then the message is
 *   acknowledged once its prediction is written or spooled;
 * - a message that can never be answered (not JSON, not an inference request, a model that
 *   fails on it) goes to the dead-letter subject with the reason and is terminated: it is
 *   never retried;
 * - one that cannot be answered now (no live version yet, the log full, the prediction not
 *   kept) is put back to be delivered again after a pause.
 */
export class StreamAnswerer {
  private readonly decoder = new TextDecoder();
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly inference: DurableInference,
    private readonly broker: Pick<StreamBroker, 'publish'>,
  ) {}

  async answer(target: StreamTarget, message: InboundMessage): Promise<Settled> {
    let body: unknown;
    let requestId: string;
    try {
      body = parseInferBody(this.decoder.decode(message.data));
      requestId = requestIdOf(message, body);
    } catch (error) {
      return this.deadLetter(target, message, reasonOf(error));
    }
    const routingKey = message.header(ROUTING_KEY_HEADER);
    let answered: DurableAnswer;
    try {
      answered = await this.inference.inferDurably(target.endpoint, body, {
        requestId,
        ...(routingKey === undefined || routingKey === '' ? {} : { routingKey }),
      });
    } catch (error) {
      if (error instanceof NoLiveVersionError || error instanceof PredictionLogUnavailableError)
        return this.retry(message, reasonOf(error));
      if (error instanceof BadInputError || error instanceof ModelFailureError)
        return this.deadLetter(target, message, reasonOf(error));
      throw error;
    }
    await this.broker.publish(
      target.outputSubject,
      this.encoder.encode(JSON.stringify(answered.response)),
      {
        [REQUEST_ID_HEADER]: requestId,
        [ARM_HEADER]: answered.arm,
        [VERSION_HEADER]: answered.response.model_version,
      },
    );
    const outcome = await answered.logged;
    if (outcome.kind === 'dropped' && outcome.reason !== 'disabled') {
      const reason = `the prediction was not kept in the log (${outcome.reason}): ${outcome.message}`;
      // A value the log refuses is refused again: only a fault of the moment is worth a retry.
      return outcome.reason === 'refused' || outcome.reason === 'invalid'
        ? this.deadLetter(target, message, reason)
        : this.retry(message, reason);
    }
    // Written or spooled, safe from a crash; a log turned off has nothing to wait for.
    await message.ack();
    return { kind: 'answered', arm: answered.arm };
  }

  private async deadLetter(
    target: StreamTarget,
    message: InboundMessage,
    reason: string,
  ): Promise<Settled> {
    const requestId = message.header(REQUEST_ID_HEADER);
    await this.broker.publish(target.deadLetterSubject, message.data, {
      [REASON_HEADER]: headerValue(reason),
      [SOURCE_HEADER]: message.subject,
      ...(requestId === undefined ? {} : { [REQUEST_ID_HEADER]: requestId }),
    });
    await message.term(reason);
    return { kind: 'dead-lettered', reason };
  }

  private async retry(message: InboundMessage, reason: string): Promise<Settled> {
    await message.nak(RETRY_DELAY_MS);
    return { kind: 'retried', reason };
  }
}

function requestIdOf(message: InboundMessage, body: unknown): string {
  const header = message.header(REQUEST_ID_HEADER);
  if (header !== undefined && header !== '') {
    if (header.length > MAX_REQUEST_ID_LENGTH)
      throw new BadInputError(
        REQUEST_ID_HEADER,
        `must be at most ${MAX_REQUEST_ID_LENGTH} characters`,
      );
    return header;
  }
  const id = (body as { id?: unknown }).id;
  if (typeof id === 'string' && id !== '') return id;
  throw new BadInputError(
    REQUEST_ID_HEADER,
    'is required (or the request body\'s "id"): it is the request id, which lets a redelivered message be answered once',
  );
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A header carries one line of visible text: control characters become spaces, and it is cut short. */
function headerValue(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 1000);
}
