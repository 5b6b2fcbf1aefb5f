import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An endpoint may be bound to a NATS JetStream input: requests read from a stream by a durable
 * pull consumer, answers published to an output subject, poison messages to a dead-letter
 * subject, at most `max_ack_pending` of them in flight. One binding per endpoint (the key).
 *
 * Two endpoints on one durable consumer would each get part of its messages, so the pair
 * (stream, consumer) is unique too. The checks repeat the service's rules that a row must never
 * break, whoever writes it: answers never published where requests are read, a dead letter
 * never passing for an answer, the in-flight bound that keeps memory bounded.
 */
export class StreamBindings1764640000000 implements MigrationInterface {
  name = 'StreamBindings1764640000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE stream_bindings (
        endpoint_id         uuid PRIMARY KEY REFERENCES endpoints (id),
        input_subject       text NOT NULL,
        stream_name         text NOT NULL,
        consumer_name       text NOT NULL,
        output_subject      text NOT NULL,
        dead_letter_subject text NOT NULL,
        max_ack_pending     integer NOT NULL CHECK (max_ack_pending BETWEEN 1 AND 65536),
        created_by          text NOT NULL,
        created_at          timestamptz NOT NULL DEFAULT now(),
        CHECK (output_subject <> input_subject),
        CHECK (dead_letter_subject <> output_subject),
        CHECK (dead_letter_subject <> input_subject),
        UNIQUE (stream_name, consumer_name)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE stream_bindings`);
  }
}
