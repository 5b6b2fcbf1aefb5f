import { ArgsType, Field, Int } from '@nestjs/graphql';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { BadInputError } from './errors.js';

/**
 * Keyset pagination for lists ordered by (created_at, id): stable while rows are added, and
 * as fast on the thousandth page as on the first. The cursor is opaque to clients.
 */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { defaultValue: 50, description: 'At most 200.' })
  limit!: number;

  @Field(() => String, {
    nullable: true,
    description: 'The nextCursor of the previous page; absent for the first page.',
  })
  cursor?: string | null;
}

export interface Cursor {
  readonly createdAt: Date;
  readonly id: string;
}

export const MAX_PAGE = 200;

export function pageLimit(limit: number | undefined): number {
  const value = limit ?? 50;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE)
    throw new BadInputError('limit', `must be an integer from 1 to ${MAX_PAGE}`);
  return value;
}

export function encodeCursor(row: Cursor): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined): Cursor | undefined {
  if (cursor === undefined || cursor === null || cursor === '') return undefined;
  const [ts, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(ts ?? '');
  if (id === undefined || Number.isNaN(createdAt.getTime()))
    throw new BadInputError('cursor', 'is not a cursor this service gave out');
  return { createdAt, id };
}

/**
 * Given up to limit+1 rows in (created_at, id) order, the page and the cursor of the next one.
 */
export function pageOf<T extends Cursor>(
  rows: readonly T[],
  limit: number,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null,
  };
}

/**
 * Orders a query by (created_at, id), starts it after the cursor and fetches one row more than
 * the page, so `pageOf` can tell whether another page follows. `alias` is the query's alias of
 * a table with those two columns; `order` DESC lists the newest first.
 */
export function keysetPage<T extends ObjectLiteral>(
  q: SelectQueryBuilder<T>,
  alias: string,
  limit: number,
  cursor: Cursor | undefined,
  order: 'ASC' | 'DESC' = 'ASC',
): SelectQueryBuilder<T> {
  q.orderBy(`${alias}.created_at`, order)
    .addOrderBy(`${alias}.id`, order)
    .limit(limit + 1);
  if (cursor)
    q.andWhere(
      `(${alias}.created_at, ${alias}.id) ${order === 'ASC' ? '>' : '<'} (:cursorAt, :cursorId)`,
      {
        cursorAt: cursor.createdAt,
        cursorId: cursor.id,
      },
    );
  return q;
}
