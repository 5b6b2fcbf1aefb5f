import { BadInputError } from '../common/errors.js';

const MAX_LENGTH = 10_000;
const MIN_WORDS = 3;

/**
 * Texts people sign with — a justification, a rollback rationale, a sign-off statement, a
 * rejection reason — must say something: at least the policy's length, and at least three
 * different words, so that "ok ok ok ok ok…" or a row of dots does not pass as a statement.
 * Returns the trimmed text.
 */
export function checkStatement(field: string, text: string, minLength: number): string {
  const trimmed = text.trim();
  if (trimmed.length > MAX_LENGTH)
    throw new BadInputError(field, `must be at most ${MAX_LENGTH} characters`);
  if (trimmed.length < minLength)
    throw new BadInputError(
      field,
      `must be written out: at least ${minLength} characters, ${trimmed.length} given`,
    );
  const words = new Set(
    (trimmed.toLowerCase().match(/\p{L}[\p{L}\p{N}'-]*/gu) ?? []).filter((w) => w.length > 1),
  );
  if (words.size < MIN_WORDS)
    throw new BadInputError(
      field,
      `must be written out: at least ${MIN_WORDS} different words, ${words.size} given`,
    );
  return trimmed;
}
