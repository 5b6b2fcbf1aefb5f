import { describe, expect, it } from '@jest/globals';
import { copyField, jsonCopyField, parseCopyRow } from './copy-rows.js';

describe('COPY text fields', () => {
  it('writes NULL as \\N and numbers as JavaScript writes them', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField(0.125)).toBe('0.125');
    expect(copyField(12)).toBe('12');
  });

  it('escapes backslashes, tabs, newlines and carriage returns', () => {
    expect(copyField('{"a":"x\\"y"}')).toBe('{"a":"x\\\\"y"}');
    expect(copyField('line 1\nline 2\tend\r')).toBe('line 1\\nline 2\\tend\\r');
    expect(copyField('plain')).toBe('plain');
  });

  it('reads a row back into the fields it was written from', () => {
    const fields = ['a\tb\\c\nd\re', null, '\\N', '', 'plain'];
    const row = [...fields.map((f) => copyField(f)), jsonCopyField('{"x":"\\u0000\\n"}')].join(
      '\t',
    );
    expect(parseCopyRow(row)).toEqual([...fields, '{"x":"\\u0000\\n"}']);
  });
});
