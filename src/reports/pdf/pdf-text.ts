/**
 * How the PDF writes text: in the standard fonts' character set (Windows-1252), with times,
 * durations, figures and JSON values of the signed report in words a reader can check.
 */
import type { Json, JsonObject } from '../report-document.js';

const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
const REPLACEMENTS: Record<string, string> = {
  '≥': '>=',
  '≤': '<=',
  '→': '->',
  '‖': '||',
  '−': '-',
  '≠': '!=',
  '×': 'x',
};

/** The standard PDF fonts cover Windows-1252 only: anything else is spelled out or replaced. */
export function latin(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (
      code === 10 ||
      (code >= 32 && code < 127) ||
      (code >= 160 && code <= 255) ||
      WIN_ANSI_EXTRA.has(ch)
    )
      out += ch;
    else out += REPLACEMENTS[ch] ?? (code === 9 ? ' ' : '?');
  }
  return out;
}

export function dateTime(ts: string | null): string {
  if (ts === null) return '-';
  return ts
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC')
    .replace(/Z$/, ' UTC');
}

/** Date, then the time to the millisecond on a line of its own: stages may be seconds apart. */
export function time(ts: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)Z$/.exec(ts);
  return m ? `${m[1]}\n${m[2]}` : dateTime(ts);
}

export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} days`;
}

export function figure(value: Json | undefined): string {
  if (typeof value !== 'number') return value === null || value === undefined ? '-' : show(value);
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 1000 ? value.toFixed(1) : value.toFixed(4);
}

export function interval(ci: JsonObject | null): string {
  if (!ci) return '-';
  return `${figure(ci['lower'])} to ${figure(ci['upper'])}`;
}

export function show(value: Json): string {
  if (typeof value === 'string') return value;
  if (value === null) return '-';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function compact(value: Json): string {
  const s = show(value);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

export function listOf(value: Json): string {
  return Array.isArray(value) ? value.map(show).join(', ') : show(value);
}

export function short(hash: string | null): string {
  return hash === null ? '-' : `${hash.slice(0, 16)}…`;
}

export function shortSubject(subject: string): string {
  return subject
    .replace(/^(promotion|rollout|report|dataset):([0-9a-f]{8})[0-9a-f-]{28}$/, '$1:$2…')
    .replace(/^artifact:([0-9a-f]{12})[0-9a-f]{52}$/, 'artifact:$1…');
}

export function object(value: Json | undefined): JsonObject | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
}

export function number(value: Json | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function text(value: Json | undefined): string | null {
  return typeof value === 'string' ? value : null;
}
