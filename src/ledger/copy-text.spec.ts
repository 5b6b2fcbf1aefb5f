import { describe, expect, it } from '@jest/globals';
import { splitCopyRows, unescapeCopyField } from './copy-text.js';

describe('COPY text format', () => {
  it('unescapes what PostgreSQL escapes', () => {
    expect(unescapeCopyField('plain')).toBe('plain');
    expect(unescapeCopyField('{"a":"b\\\\"c"}')).toBe('{"a":"b\\"c"}');
    expect(unescapeCopyField('tab\\there\\nnew\\rcr\\\\back')).toBe('tab\there\nnew\rcr\\back');
    expect(unescapeCopyField('\\b\\f\\v')).toBe('\b\f\v');
    expect(unescapeCopyField('\\101\\x42')).toBe('AB');
    expect(unescapeCopyField('\\N')).toBeNull();
  });

  it('splits rows and fields and keeps an unfinished row for the next chunk', () => {
    const first = splitCopyRows('1\ta\tb\n2\tc\t');
    expect(first.rows).toEqual([['1', 'a', 'b']]);
    expect(first.rest).toBe('2\tc\t');
    const second = splitCopyRows(`${first.rest}d\n`);
    expect(second.rows).toEqual([['2', 'c', 'd']]);
    expect(second.rest).toBe('');
  });

  it('round-trips JSON text through the escapes real PostgreSQL writes', () => {
    // As COPY writes `{"note":"line\nbreak ü"}` (JSON's own backslash doubled).
    expect(unescapeCopyField('{"note":"line\\\\nbreak ü"}')).toBe('{"note":"line\\nbreak ü"}');
  });
});
