import { BadInputError } from '../common/errors.js';
import { textFault } from '../common/text-rules.js';

/**
 * What binds an endpoint to a NATS JetStream input: the subject requests arrive on, the stream
 * that keeps them and the durable pull consumer that reads them, where answers and poison
 * messages go, and how many messages may be in flight unacknowledged (the backpressure).
 * The same names in the GraphQL input and model, the table and the ledger payload.
 */
export interface StreamBindingValues {
  readonly inputSubject: string;
  readonly stream: string;
  readonly consumer: string;
  readonly outputSubject: string;
  readonly deadLetterSubject: string;
  readonly maxAckPending: number;
}

/** A binding as asked for: the subjects the caller must give, the rest optional. */
export interface StreamBindingRequest {
  readonly inputSubject: string;
  readonly outputSubject: string;
  readonly stream?: string | null | undefined;
  readonly consumer?: string | null | undefined;
  readonly deadLetterSubject?: string | null | undefined;
  readonly maxAckPending?: number | null | undefined;
}

export const STREAM_BINDING_FIELDS = [
  'inputSubject',
  'stream',
  'consumer',
  'outputSubject',
  'deadLetterSubject',
  'maxAckPending',
] as const satisfies readonly (keyof StreamBindingValues)[];

export const DEFAULT_MAX_ACK_PENDING = 1024;
/**
 * The ceiling of unacknowledged messages: each one in flight is a request held in this
 * process's memory while it waits for the model, so the bound is a bound on that memory.
 */
export const MAX_ACK_PENDING = 65_536;
/**
 * Longest subject, in UTF-8 bytes. The server's own limit is its control line (4 KiB by
 * default) shared with the rest of the message header; this keeps well inside it and inside
 * what a monitoring tool shows on one line.
 */
export const MAX_SUBJECT_BYTES = 255;
/**
 * Longest stream or consumer name, in UTF-8 bytes: JetStream names a directory after each, and
 * 255 bytes is a file name's limit on the file systems it runs on.
 */
export const MAX_NAME_BYTES = 255;

/** Whitespace, control and invisible format characters: a subject or name shown in a log or a
 * terminal must read as what the server sees. */
const INVISIBLE = /[\s\p{Cc}\p{Cf}]/u;
const ENCODER = new TextEncoder();

/** The stream an endpoint's requests are kept in when the caller names none. */
export function defaultStreamName(endpoint: string): string {
  return `GATEHOUSE_${endpoint.toUpperCase().replaceAll('-', '_')}`;
}

/** The durable consumer that reads an endpoint's stream when the caller names none. */
export function defaultConsumerName(endpoint: string): string {
  return `gatehouse-${endpoint}`;
}

/** Where poison messages go when the caller names no subject: beside the answers. */
export function defaultDeadLetterSubject(outputSubject: string): string {
  return `${outputSubject}.dead`;
}

/**
 * Why `subject` is not a NATS subject this service may use, or undefined when it is.
 * `wildcards`: a subject subscribed to (the input) may hold `*` and a final `>`; one published
 * to (answers, dead letters) may not, since a message cannot be sent to a pattern.
 */
export function subjectFault(subject: string, wildcards: boolean): string | undefined {
  const text = textFault(subject);
  if (text) return text;
  if (subject.length === 0) return 'must not be empty';
  if (ENCODER.encode(subject).length > MAX_SUBJECT_BYTES)
    return `must be at most ${MAX_SUBJECT_BYTES} bytes long (UTF-8)`;
  if (INVISIBLE.test(subject))
    return 'must not contain whitespace, control or invisible characters';
  const tokens = subject.split('.');
  for (const [i, token] of tokens.entries()) {
    if (token === '')
      return `must be tokens separated by single dots: token ${i + 1} of ${tokens.length} is empty`;
    if (token === '*' || token === '>') {
      if (!wildcards)
        return 'must not contain wildcards (* or >): a message is published to one subject';
      if (token === '>' && i !== tokens.length - 1)
        return 'may hold the wildcard > only as its last token';
      continue;
    }
    if (token.includes('*') || token.includes('>'))
      return `token ${i + 1} (${token}) mixes a wildcard with other characters: * and > stand alone`;
  }
  // `$JS`, `$SYS`, `$KV`… are the server's own API; binding to them would read or answer its
  // control traffic.
  if (tokens[0]?.startsWith('$'))
    return 'must not begin with $: subjects beginning with $ are reserved for the NATS server';
  return undefined;
}

/** Why `name` is not a JetStream stream or consumer name, or undefined when it is. */
export function nameFault(name: string): string | undefined {
  const text = textFault(name);
  if (text) return text;
  if (name.length === 0) return 'must not be empty';
  if (ENCODER.encode(name).length > MAX_NAME_BYTES)
    return `must be at most ${MAX_NAME_BYTES} bytes long (UTF-8)`;
  if (INVISIBLE.test(name)) return 'must not contain whitespace, control or invisible characters';
  // Dots and wildcards: the name becomes a token of the server's API subjects. Slashes: it
  // becomes a directory name.
  if (/[.*>/\\]/.test(name)) return 'must not contain . * > / or \\';
  return undefined;
}

/**
 * Whether a message published to `subject` (no wildcards) is delivered to a subscription on
 * `pattern`: `*` matches one token, a final `>` one or more.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split('.');
  const have = subject.split('.');
  for (const [i, token] of want.entries()) {
    if (token === '>') return have.length > i;
    const got = have[i];
    if (got === undefined || (token !== '*' && token !== got)) return false;
  }
  return want.length === have.length;
}

/**
 * The binding a request asks for, with its defaults filled in, or a BadInputError naming the
 * first field at fault. Answers and dead letters may not land where requests are read from: the
 * service would read its own output back as requests, for ever.
 */
export function resolveStreamBinding(
  endpoint: string,
  request: StreamBindingRequest,
): StreamBindingValues {
  const inputSubject = checkSubject('inputSubject', request.inputSubject, true);
  const outputSubject = checkSubject('outputSubject', request.outputSubject, false);
  const stream = checkName('stream', request.stream ?? defaultStreamName(endpoint));
  const consumer = checkName('consumer', request.consumer ?? defaultConsumerName(endpoint));
  const deadLetterSubject = checkSubject(
    'deadLetterSubject',
    request.deadLetterSubject ?? defaultDeadLetterSubject(outputSubject),
    false,
  );
  const maxAckPending = request.maxAckPending ?? DEFAULT_MAX_ACK_PENDING;
  if (!Number.isInteger(maxAckPending) || maxAckPending < 1 || maxAckPending > MAX_ACK_PENDING)
    throw new BadInputError(
      'maxAckPending',
      `must be a whole number from 1 to ${MAX_ACK_PENDING}, got ${maxAckPending}`,
    );
  if (subjectMatches(inputSubject, outputSubject))
    throw new BadInputError(
      'outputSubject',
      `must not be ${inputSubject === outputSubject ? 'the input subject' : `matched by the input subject ${inputSubject}`}: answers would be read back as requests`,
    );
  if (deadLetterSubject === outputSubject)
    throw new BadInputError(
      'deadLetterSubject',
      'must differ from outputSubject: a poison message must not pass for an answer',
    );
  if (subjectMatches(inputSubject, deadLetterSubject))
    throw new BadInputError(
      'deadLetterSubject',
      `must not be matched by the input subject ${inputSubject}: poison messages would be read back as requests`,
    );
  return { inputSubject, stream, consumer, outputSubject, deadLetterSubject, maxAckPending };
}

/** The fields in which two bindings differ, in the order of STREAM_BINDING_FIELDS. */
export function differingFields(
  a: StreamBindingValues,
  b: StreamBindingValues,
): (keyof StreamBindingValues)[] {
  return STREAM_BINDING_FIELDS.filter((field) => a[field] !== b[field]);
}

function checkSubject(field: string, subject: string, wildcards: boolean): string {
  const fault = subjectFault(subject, wildcards);
  if (fault) throw new BadInputError(field, fault);
  return subject;
}

function checkName(field: string, name: string): string {
  const fault = nameFault(name);
  if (fault) throw new BadInputError(field, fault);
  return name;
}
