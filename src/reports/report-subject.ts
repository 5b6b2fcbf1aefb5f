/**
 * What a report is about, as `exportAuditReport(subject)` takes it: the same spelling as
 * ledger subjects (`model:credit-risk`, `model:credit-risk@3`, `promotion:<uuid>`,
 * `rollout:<uuid>`), plus `period:<from>/<to>` for a time range (RFC 3339 instants or dates,
 * the end excluded) — the ISO 8601 interval notation.
 */
import { BadInputError } from '../common/errors.js';
import { formatTimestamp } from '../ledger/ledger-event.js';
import type { ReportSubject } from './report-document.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MODEL = /^model:([^@\s]+)(?:@([1-9][0-9]{0,8}))?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

export const SUBJECT_FORMS =
  'model:<name>, model:<name>@<version>, promotion:<id>, rollout:<id> or period:<from>/<to>';

export function parseSubject(input: string): ReportSubject {
  const text = input.trim();
  const model = MODEL.exec(text);
  if (model) {
    const name = model[1] ?? '';
    return model[2] === undefined
      ? { kind: 'model', text, model: name }
      : { kind: 'modelVersion', text, model: name, version: Number(model[2]) };
  }
  const colon = text.indexOf(':');
  const kind = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (kind === 'promotion' || kind === 'rollout') {
    const id = rest.toLowerCase();
    if (!UUID.test(id)) throw new BadInputError('subject', `${kind} needs an id (a UUID)`);
    return { kind, text: `${kind}:${id}`, id };
  }
  if (kind === 'period') {
    const [from, to, extra] = rest.split('/');
    if (from === undefined || to === undefined || extra !== undefined)
      throw new BadInputError('subject', 'a period is period:<from>/<to>');
    const start = instant(from, 'start');
    const end = instant(to, 'end');
    if (!(start < end)) throw new BadInputError('subject', 'the period must end after it starts');
    const f = formatTimestamp(start);
    const t = formatTimestamp(end);
    return { kind: 'period', text: `period:${f}/${t}`, from: f, to: t };
  }
  throw new BadInputError('subject', `must be one of ${SUBJECT_FORMS}`);
}

function instant(value: string, which: string): Date {
  if (!DATE.test(value) && !INSTANT.test(value))
    throw new BadInputError('subject', `the period's ${which} must be an RFC 3339 date or instant`);
  const date = new Date(DATE.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime()))
    throw new BadInputError('subject', `the period's ${which} is not a real date`);
  // PostgreSQL's timestamps have no year 0 (and an offset can carry 0001-01-01 into it), and
  // RFC 3339 has no year beyond 9999.
  const year = date.getUTCFullYear();
  if (year < 1 || year > 9999)
    throw new BadInputError(
      'subject',
      `the period's ${which} must fall within the years 0001 to 9999 (UTC), got ${value}`,
    );
  return date;
}
