/** The Ledger page's filters: what was typed, checked, and turned into `ledgerEvents` arguments. */

export interface FilterText {
  readonly type: string;
  readonly subject: string;
  readonly actor: string;
  readonly from: string;
  readonly to: string;
}

/** A checked filter: empty strings are no filter; `from` and `to` are ISO instants. */
export type EventFilter = FilterText;

export const NO_FILTER: EventFilter = { type: '', subject: '', actor: '', from: '', to: '' };

export type FilterReading =
  | { readonly ok: true; readonly filter: EventFilter }
  | { readonly ok: false; readonly field: 'from' | 'to'; readonly reason: string };

// RFC 3339 with its offset, or a plain date (midnight UTC); the console shows times in UTC.
const INSTANT =
  /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;

/** The ISO form of an instant typed as RFC 3339 or as a date, or null when it is neither. */
export function instantOf(text: string): string | null {
  if (!INSTANT.test(text)) return null;
  const date = new Date(text.length === 10 ? `${text}T00:00:00Z` : text.replace(' ', 'T'));
  // Date rolls 2026-02-30 over into March: a date that does not exist is refused instead.
  if (Number.isNaN(date.getTime()) || dayIn(text, date) !== text.slice(0, 10)) {
    return null;
  }
  return date.toISOString();
}

/** The calendar day of `date` in the zone `text` was written in (UTC unless it has an offset). */
function dayIn(text: string, date: Date): string {
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(text);
  if (!offset) return date.toISOString().slice(0, 10);
  const sign = offset[1] === '-' ? -1 : 1;
  const minutes = sign * (Number(offset[2]) * 60 + Number(offset[3]));
  return new Date(date.getTime() + minutes * 60_000).toISOString().slice(0, 10);
}

/** Trims what was typed and checks the window, naming the field at fault as the API would. */
export function readFilter(text: FilterText): FilterReading {
  const trimmed = {
    type: text.type.trim(),
    subject: text.subject.trim(),
    actor: text.actor.trim(),
    from: text.from.trim(),
    to: text.to.trim(),
  };
  const from = trimmed.from === '' ? '' : instantOf(trimmed.from);
  if (from === null) return refused('from', trimmed.from);
  const to = trimmed.to === '' ? '' : instantOf(trimmed.to);
  if (to === null) return refused('to', trimmed.to);
  if (from !== '' && to !== '' && from >= to) {
    return { ok: false, field: 'from', reason: `From must be before To (${from} is not).` };
  }
  return { ok: true, filter: { ...trimmed, from, to } };
}

function refused(field: 'from' | 'to', text: string): FilterReading {
  const label = field === 'from' ? 'From' : 'To';
  return {
    ok: false,
    field,
    reason: `${label} “${text}” is not a date (2026-12-01) or an RFC 3339 time (2026-12-01T09:30:00Z).`,
  };
}

export interface FilterVariables {
  type?: string;
  subject?: string;
  actor?: string;
  from?: string;
  to?: string;
}

/** The `ledgerEvents` arguments of a filter: a filter left empty is no argument at all. */
export function filterVariables(filter: EventFilter): FilterVariables {
  const variables: FilterVariables = {};
  for (const key of ['type', 'subject', 'actor', 'from', 'to'] as const) {
    if (filter[key] !== '') variables[key] = filter[key];
  }
  return variables;
}

/** The filter in words, for a caption or an empty list: "" when there is none. */
export function describeFilter(filter: EventFilter): string {
  const parts = [
    filter.type === '' ? '' : `of type “${filter.type}”`,
    filter.subject === '' ? '' : `about “${filter.subject}”`,
    filter.actor === '' ? '' : `by “${filter.actor}”`,
    filter.from === '' ? '' : `from ${filter.from}`,
    filter.to === '' ? '' : `before ${filter.to}`,
  ];
  return parts.filter((part) => part !== '').join(', ');
}
