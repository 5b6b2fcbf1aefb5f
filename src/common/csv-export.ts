import { stringify, type Input, type Options } from 'csv-stringify/sync';

/**
 * Every CSV the service writes goes through here, so no cell can act as a spreadsheet formula
 * (OWASP "CSV injection"): a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage
 * return is written with a leading apostrophe, which spreadsheets show as text. Numbers are
 * numbers and stay as they are. The text a CSV neutralises is kept exactly in the signed JSON
 * and the PDF, which are the record; the CSV is for reading and searching.
 */
export function csvText(records: Input, options: Omit<Options, 'cast'> = {}): string {
  return stringify(records, { ...options, cast: { string: neutralisedCell } });
}

const FORMULA_START = /^[=+\-@\t\r]/;

export function neutralisedCell(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}
