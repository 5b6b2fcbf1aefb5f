import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { BadInputError } from '../common/errors.js';
import {
  nameFault,
  resolveStreamBinding,
  subjectFault,
  subjectMatches,
  type StreamBindingRequest,
} from './stream-binding-rules.js';

/** Text a hostile or careless caller sends: the pieces that break naive checks. */
const HOSTILE = [
  '\u0000',
  '\ud800',
  '\udc00',
  ' ',
  '\t',
  '\n',
  '\r',
  '\u00a0',
  '\u2028',
  '\u200b',
  '\ufeff',
  '\u007f',
  '.',
  '..',
  '*',
  '>',
  '/',
  '\\',
  '$',
  '__proto__',
  'constructor',
  '😀',
  'x'.repeat(300),
];

const hostileText = fc.array(
  fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom(...HOSTILE)),
  { maxLength: 8 },
);

/**
 * An independent statement of the subject grammar, as the NATS documentation gives it: tokens
 * of characters other than whitespace, control and invisible ones, `.`, `*` and `>`, joined by
 * single dots; with wildcards, a token may also be `*`, and the last one `>`.
 */
function isSubject(subject: string, wildcards: boolean): boolean {
  if (/[\ud800-\udfff]/.test(subject.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) return false;
  if (new TextEncoder().encode(subject).length > 255 || subject.startsWith('$')) return false;
  const tokens = subject.split('.');
  return tokens.every((token, i) => {
    if (wildcards && (token === '*' || (token === '>' && i === tokens.length - 1))) return true;
    return /^[^\s\p{Cc}\p{Cf}.*>]+$/u.test(token);
  });
}

function fieldOf(work: () => unknown): string | undefined {
  try {
    work();
  } catch (error) {
    if (error instanceof BadInputError) return error.field;
    throw error;
  }
  return undefined;
}

const bind = (request: Partial<StreamBindingRequest>) =>
  resolveStreamBinding('credit-risk', {
    inputSubject: 'credit.requests',
    outputSubject: 'credit.answers',
    ...request,
  });

describe('NATS subjects', () => {
  it('accepts exactly the subjects of the grammar, whatever text it is given', () => {
    fc.assert(
      fc.property(hostileText, fc.boolean(), (parts, wildcards) => {
        const subject = parts.join('');
        expect(subjectFault(subject, wildcards) === undefined).toBe(isSubject(subject, wildcards));
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts a well-formed subject, and refuses it once a hostile character is put anywhere in it', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
    const hostileChar = fc.constantFrom(
      '\u0000',
      '\ud800',
      '\udfff',
      ' ',
      '\t',
      '\u200b',
      '\u0085',
    );
    fc.assert(
      fc.property(
        fc.array(token, { minLength: 1, maxLength: 8 }),
        hostileChar,
        fc.nat(),
        (tokens, bad, at) => {
          const subject = tokens.join('.');
          expect(subjectFault(subject, false)).toBeUndefined();
          const i = at % (subject.length + 1);
          expect(subjectFault(subject.slice(0, i) + bad + subject.slice(i), true)).toBeDefined();
        },
      ),
    );
  });

  it('accepts dotted subjects with wildcards in the input only, > only last', () => {
    expect(subjectFault('credit.requests', false)).toBeUndefined();
    expect(subjectFault('__proto__.constructor', false)).toBeUndefined();
    expect(subjectFault('crédit.dossiers😀', false)).toBeUndefined();
    expect(subjectFault('credit.*.requests', true)).toBeUndefined();
    expect(subjectFault('credit.>', true)).toBeUndefined();
    expect(subjectFault('credit.>', false)).toMatch(/wildcards/);
    expect(subjectFault('credit.>.requests', true)).toMatch(/last token/);
    expect(subjectFault('credit.req*', true)).toMatch(/stand alone/);
  });

  it('refuses empty tokens, invisible characters, NUL, lone surrogates, $ and long subjects', () => {
    expect(subjectFault('', true)).toMatch(/empty/);
    expect(subjectFault('credit..requests', true)).toMatch(/token 2 of 3 is empty/);
    expect(subjectFault('.credit', true)).toMatch(/empty/);
    expect(subjectFault('credit.', true)).toMatch(/empty/);
    expect(subjectFault('credit requests', true)).toMatch(/whitespace/);
    expect(subjectFault('credit\u200b', true)).toMatch(/invisible/);
    expect(subjectFault('credit\u0000', true)).toMatch(/NUL/);
    expect(subjectFault('credit\ud800', true)).toMatch(/surrogate/);
    expect(subjectFault('$JS.API.>', true)).toMatch(/reserved/);
    expect(subjectFault('a'.repeat(255), true)).toBeUndefined();
    expect(subjectFault('a'.repeat(256), true)).toMatch(/255 bytes/);
    expect(subjectFault('é'.repeat(128), true)).toMatch(/255 bytes/);
  });

  it('matches subjects against patterns as the server delivers them', () => {
    expect(subjectMatches('a.b', 'a.b')).toBe(true);
    expect(subjectMatches('a.b', 'a.b.c')).toBe(false);
    expect(subjectMatches('a.*', 'a.b')).toBe(true);
    expect(subjectMatches('a.*', 'a.b.c')).toBe(false);
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('>', 'anything.at.all')).toBe(true);
    expect(subjectMatches('*.b', 'a.c')).toBe(false);
  });
});

describe('JetStream names', () => {
  it('refuses dots, wildcards, path separators, invisible characters and long names', () => {
    expect(nameFault('GATEHOUSE_CREDIT')).toBeUndefined();
    expect(nameFault('__proto__')).toBeUndefined();
    for (const bad of ['a.b', 'a*', 'a>', 'a/b', 'a\\b', 'a b', 'a\tb', 'a\u0000', '\udc00', ''])
      expect(nameFault(bad)).toBeDefined();
    expect(nameFault('n'.repeat(255))).toBeUndefined();
    expect(nameFault('n'.repeat(256))).toMatch(/255 bytes/);
  });

  it('never accepts a name with a character the server or a file system would misread', () => {
    fc.assert(
      fc.property(hostileText, (parts) => {
        const name = parts.join('');
        if (nameFault(name) === undefined) {
          expect(name).toMatch(/^[^\s\p{Cc}\p{Cf}.*>/\\]+$/u);
          expect(new TextEncoder().encode(name).length).toBeLessThanOrEqual(255);
          expect(name.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')).not.toMatch(
            /[\ud800-\udfff]/,
          );
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a binding as asked for', () => {
  it('fills in the stream, consumer, dead-letter subject and in-flight bound', () => {
    expect(bind({})).toEqual({
      inputSubject: 'credit.requests',
      stream: 'GATEHOUSE_CREDIT_RISK',
      consumer: 'gatehouse-credit-risk',
      outputSubject: 'credit.answers',
      deadLetterSubject: 'credit.answers.dead',
      maxAckPending: 1024,
    });
  });

  it('names the field at fault', () => {
    expect(fieldOf(() => bind({ inputSubject: 'credit..requests' }))).toBe('inputSubject');
    expect(fieldOf(() => bind({ outputSubject: 'credit.*' }))).toBe('outputSubject');
    expect(fieldOf(() => bind({ outputSubject: 'credit.requests' }))).toBe('outputSubject');
    expect(fieldOf(() => bind({ inputSubject: 'credit.>', outputSubject: 'credit.answers' }))).toBe(
      'outputSubject',
    );
    expect(fieldOf(() => bind({ deadLetterSubject: 'credit.answers' }))).toBe('deadLetterSubject');
    expect(fieldOf(() => bind({ deadLetterSubject: 'credit.requests' }))).toBe('deadLetterSubject');
    expect(
      fieldOf(() => bind({ inputSubject: 'credit.*', outputSubject: 'answers.credit' })),
    ).toBeUndefined();
    expect(
      fieldOf(() =>
        bind({ inputSubject: 'credit.*', outputSubject: 'out', deadLetterSubject: 'credit.dead' }),
      ),
    ).toBe('deadLetterSubject');
    expect(fieldOf(() => bind({ stream: 'GATEHOUSE.CREDIT' }))).toBe('stream');
    expect(fieldOf(() => bind({ consumer: 'gatehouse credit' }))).toBe('consumer');
    for (const maxAckPending of [0, -1, 65_537, 1.5])
      expect(fieldOf(() => bind({ maxAckPending }))).toBe('maxAckPending');
    expect(bind({ maxAckPending: 65_536 }).maxAckPending).toBe(65_536);
    expect(bind({ maxAckPending: 1 }).maxAckPending).toBe(1);
  });
});
