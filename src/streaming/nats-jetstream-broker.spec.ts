import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsJetStreamBroker, subjectMatches } from './nats-jetstream-broker.js';
import { StreamBrokerError, type InboundMessage, type StreamSource } from './stream-broker.js';

// Against the real NATS server (JetStream on) that `.ci/run` starts. Every name carries this
// file's run id, so files and runs never share a stream, and each stream is deleted afterwards.
const NATS = ['nats://127.0.0.1:4222'];
const RUN = randomUUID().replace(/-/g, '').slice(0, 12);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

let admin: NatsConnection;
let jsm: JetStreamManager;
const streams: string[] = [];
const brokers: NatsJetStreamBroker[] = [];
const errors: string[] = [];

function source(name: string, consumer = 'workers'): Required<StreamSource> {
  const stream = `GH_TEST_${RUN}_${name}`;
  streams.push(stream);
  return { stream, consumer, subject: `gh-test.${RUN}.${name}.in` };
}

async function broker(): Promise<NatsJetStreamBroker> {
  const b = await NatsJetStreamBroker.connect(NATS, {
    onError: (error, context) => {
      errors.push(`${context}: ${error instanceof Error ? error.message : String(error)}`);
    },
  });
  brokers.push(b);
  return b;
}

async function send(b: NatsJetStreamBroker, subject: string, ids: readonly string[]) {
  for (const id of ids)
    await b.publish(subject, encoder.encode(`{"id":"${id}"}`), { 'Nats-Msg-Id': id });
}

/** Polls a condition until it holds; the bound is generous, the test does not wait on it. */
async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function idOf(message: InboundMessage): string {
  return (JSON.parse(decoder.decode(message.data)) as { id: string }).id;
}

/** A handler that holds each message until the test lets it go. */
class Gate {
  readonly held = new Map<string, InboundMessage>();
  readonly seen: string[] = [];
  private readonly release = new Map<string, () => void>();
  maxHeld = 0;

  readonly handler = async (message: InboundMessage): Promise<void> => {
    const id = idOf(message);
    this.seen.push(id);
    this.held.set(id, message);
    this.maxHeld = Math.max(this.maxHeld, this.held.size);
    await new Promise<void>((resolve) => this.release.set(id, resolve));
    this.held.delete(id);
    await message.ack();
  };

  open(id: string): void {
    const resolve = this.release.get(id);
    if (resolve === undefined) throw new Error(`${id} is not held`);
    this.release.delete(id);
    resolve();
  }

  openAll(): void {
    for (const id of [...this.release.keys()]) this.open(id);
  }
}

beforeAll(async () => {
  admin = await connect({ servers: NATS });
  jsm = await jetstreamManager(admin);
});

afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close()));
  for (const stream of streams) await jsm.streams.delete(stream).catch(() => false);
  await admin.close();
});

describe('NatsJetStreamBroker', () => {
  it('creates the stream and durable consumer, hands each message over with its headers, and an ack removes it', async () => {
    const sut = await broker();
    const src = source('ack');
    const got: { id: string; key: string | undefined; count: number; missing: unknown }[] = [];
    const sub = await sut.consume(
      src,
      async (m) => {
        got.push({
          id: m.header('nats-msg-id') ?? '',
          key: m.header('X-Routing-Key'),
          count: m.deliveryCount,
          missing: m.header('No-Such-Header'),
        });
        await m.ack();
      },
      { maxAckPending: 8 },
    );
    for (const id of ['a1', 'a2', 'a3'])
      await sut.publish(src.subject, encoder.encode('{}'), {
        'Nats-Msg-Id': id,
        'X-Routing-Key': `key-${id}`,
      });

    await until('three messages are handled', () => got.length === 3);
    expect(got).toEqual(
      ['a1', 'a2', 'a3'].map((id) => ({ id, key: `key-${id}`, count: 1, missing: undefined })),
    );
    const info = await jsm.consumers.info(src.stream, src.consumer);
    expect(info.config).toMatchObject({ ack_policy: 'explicit', max_ack_pending: 8 });
    expect(info.num_ack_pending).toBe(0);
    // Work-queue retention: an acknowledged request leaves the stream.
    await until('the stream is empty', async () => {
      return (await jsm.streams.info(src.stream)).state.messages === 0;
    });
    await sub.stop();
    expect(errors).toEqual([]);
  });

  it('delivers a nak-ed message again, counting the delivery', async () => {
    const sut = await broker();
    const src = source('nak');
    const deliveries: number[] = [];
    await sut.consume(
      src,
      async (m) => {
        deliveries.push(m.deliveryCount);
        if (m.deliveryCount === 1) await m.nak();
        else await m.ack();
      },
      { maxAckPending: 4 },
    );
    await send(sut, src.subject, ['n1']);
    await until('the message comes back', () => deliveries.length === 2);
    expect(deliveries).toEqual([1, 2]);
  });

  it('never delivers a terminated message again', async () => {
    const sut = await broker();
    const src = source('term');
    const seen: string[] = [];
    await sut.consume(
      src,
      async (m) => {
        seen.push(`${idOf(m)}#${m.deliveryCount}`);
        if (idOf(m) === 'poison') await m.term('not an inference request');
        else await m.ack();
      },
      { maxAckPending: 4, ackWaitMs: 1000 },
    );
    await send(sut, src.subject, ['poison', 'after']);
    await until('both are handled', () => seen.length === 2);
    // The server holds nothing more for this consumer: nothing pending, nothing awaiting an
    // ack, so there is nothing it could redeliver however long one waits.
    await until('the consumer is settled', async () => {
      const info = await jsm.consumers.info(src.stream, src.consumer);
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
    expect(seen).toEqual(['poison#1', 'after#1']);
  });

  it('keeps at most max-ack-pending messages unsettled, the rest held back by the server', async () => {
    const sut = await broker();
    const src = source('bound');
    const gate = new Gate();
    const ids = Array.from({ length: 10 }, (_, i) => `b${i}`);
    await sut.consume(src, gate.handler, { maxAckPending: 3 });
    await send(sut, src.subject, ids);

    await until('three are in flight', () => gate.held.size === 3);
    const info = await jsm.consumers.info(src.stream, src.consumer);
    expect(info.num_ack_pending).toBe(3);
    expect(info.num_pending).toBe(7);

    for (let done = 0; done < ids.length; done++) {
      const oldest = gate.seen.find((id) => gate.held.has(id));
      if (oldest === undefined) throw new Error('nothing in flight');
      gate.open(oldest);
      await until(`${oldest} is settled`, () => !gate.held.has(oldest));
      await until('the next ones arrive', () => gate.held.size === Math.min(3, 9 - done));
      expect(gate.held.size).toBeLessThanOrEqual(3);
    }
    expect([...gate.seen].sort()).toEqual(ids);
    expect(gate.maxHeld).toBe(3);
  });

  it('shares one durable consumer between subscribers, each message handled by one', async () => {
    const first = await broker();
    const second = await broker();
    const src = source('share');
    const ids = Array.from({ length: 10 }, (_, i) => `s${i}`);

    // The first replica takes two and holds them; the second gets the other eight.
    const gate = new Gate();
    await first.consume(src, gate.handler, { maxAckPending: 20, maxInFlight: 2 });
    await send(first, src.subject, ids);
    await until('the first holds two', () => gate.held.size === 2);
    const secondSeen: string[] = [];
    await second.consume(
      src,
      async (m) => {
        secondSeen.push(idOf(m));
        await m.ack();
      },
      { maxAckPending: 20 },
    );
    await until('the second handled the rest', () => secondSeen.length === 8);
    gate.openAll();
    await until('the consumer is settled', async () => {
      const info = await jsm.consumers.info(src.stream, src.consumer);
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });

    expect(gate.seen).toHaveLength(2);
    expect([...gate.seen, ...secondSeen].sort()).toEqual(ids);
    expect((await jsm.consumers.info(src.stream, src.consumer)).num_redelivered).toBe(0);
  });

  it("redelivers a lost subscriber's unacknowledged messages to another after the ack wait", async () => {
    const errorsBefore = errors.length;
    const lostConnection = await connect({ servers: NATS });
    const lost = new NatsJetStreamBroker(lostConnection, await jetstreamManager(lostConnection), {
      onError: () => undefined,
    });
    const survivor = await broker();
    const src = source('lost');
    const options = { maxAckPending: 10, ackWaitMs: 1000 };
    const ids = ['l1', 'l2', 'l3'];

    const gate = new Gate();
    await lost.consume(src, gate.handler, options);
    await send(survivor, src.subject, ids);
    await until('the lost one holds all three', () => gate.held.size === 3);
    // As a crash would: the connection ends, and nothing is acknowledged or given back.
    await lostConnection.close();

    const redelivered: string[] = [];
    await survivor.consume(
      src,
      async (m) => {
        redelivered.push(`${idOf(m)}#${m.deliveryCount}`);
        await m.ack();
      },
      options,
    );
    await until('the survivor has them', () => redelivered.length === 3);
    expect(redelivered.sort()).toEqual(['l1#2', 'l2#2', 'l3#2']);

    // The lost handlers finish; their acks cannot reach the server any more.
    gate.openAll();
    await lost.close();
    expect(errors.slice(errorsBefore)).toEqual([]);
  });

  it('stores a re-published answer once within the duplicate window', async () => {
    const sut = await broker();
    const stream = `GH_TEST_${RUN}_OUT`;
    streams.push(stream);
    const subject = `gh-test.${RUN}.out`;
    await sut.ensureOutputStream(stream, [subject], 60_000);
    const answer = encoder.encode('{"outputs":[]}');
    await sut.publish(subject, answer, { 'Nats-Msg-Id': 'r1', 'Gatehouse-Arm': 'live' });
    await sut.publish(subject, answer, { 'Nats-Msg-Id': 'r1', 'Gatehouse-Arm': 'live' });
    await sut.publish(subject, answer, { 'Nats-Msg-Id': 'r2', 'Gatehouse-Arm': 'live' });

    const info = await jsm.streams.info(stream);
    expect(info.state.messages).toBe(2);
    expect(info.config.duplicate_window).toBe(60_000 * 1_000_000);
    const stored = await jsm.streams.getMessage(stream, { seq: 1 });
    expect(stored?.header.get('Gatehouse-Arm')).toBe('live');
    // Asking again changes nothing and keeps the window.
    await sut.ensureOutputStream(stream, [subject], 60_000);
    expect((await jsm.streams.info(stream)).state.messages).toBe(2);
  });

  it('publishes to a subject no stream captures as a plain message', async () => {
    const sut = await broker();
    const subject = `gh-test.${RUN}.plain`;
    const sub = admin.subscribe(subject, { max: 1 });
    await admin.flush();
    await sut.publish(subject, encoder.encode('hello'), { 'Nats-Msg-Id': 'p1' });
    for await (const m of sub) {
      expect(decoder.decode(m.data)).toBe('hello');
      expect(m.headers?.get('Nats-Msg-Id')).toBe('p1');
    }
  });

  it('refuses a missing stream it has no subject to create, and a consumer reading another subject', async () => {
    const sut = await broker();
    const src = source('refuse');
    const attempt = sut.consume({ stream: src.stream, consumer: 'c' }, async (m) => m.ack(), {
      maxAckPending: 1,
    });
    await expect(attempt).rejects.toThrow(StreamBrokerError);
    await expect(attempt).rejects.toMatchObject({ code: 'STREAM_MISSING' });

    const sub = await sut.consume(src, async (m) => m.ack(), { maxAckPending: 1 });
    await sub.stop();
    await jsm.streams.update(src.stream, { subjects: [src.subject, `${src.subject}.other`] });
    await expect(
      sut.consume({ ...src, subject: `${src.subject}.other` }, async (m) => m.ack(), {
        maxAckPending: 1,
      }),
    ).rejects.toMatchObject({ code: 'INCOMPATIBLE' });
  });

  it('stops pulling on stop, after the running handlers finish', async () => {
    const sut = await broker();
    const src = source('stop');
    const gate = new Gate();
    const sub = await sut.consume(src, gate.handler, { maxAckPending: 5 });
    await send(sut, src.subject, ['x1']);
    await until('it is held', () => gate.held.size === 1);
    let stopped = false;
    const stopping = sub.stop().then(() => {
      stopped = true;
    });
    // stop waits for the running handler, whatever happens meanwhile.
    await admin.flush();
    expect(stopped).toBe(false);
    gate.open('x1');
    await stopping;
    await send(sut, src.subject, ['x2']);
    const info = await jsm.consumers.info(src.stream, src.consumer);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(1);
    expect(gate.seen).toEqual(['x1']);
  });
});

describe('subjectMatches', () => {
  it.each([
    ['a.b', 'a.b', true],
    ['a.*', 'a.b', true],
    ['a.*', 'a.b.c', false],
    ['a.>', 'a.b.c', true],
    ['a.>', 'a', false],
    ['a.b', 'a.c', false],
  ])('%s captures %s: %s', (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });
});
