import type { Actor, EventInput, JsonObject } from '../../src/ledger/event-catalogue.js';

/**
 * A `test.appended` event, of a type no part of Gatehouse writes, for tests that exercise the
 * chain alone with payloads of their choosing. The catalogue types every real event, so this
 * one is cast past it; the ledger itself takes any well-formed type.
 */
export function testEvent(subject: string, actor: Actor, payload: JsonObject): EventInput {
  return { type: 'test.appended', subject, actor, payload } as unknown as EventInput;
}
