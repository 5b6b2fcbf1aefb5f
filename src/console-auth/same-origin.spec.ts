import { describe, expect, it } from '@jest/globals';
import { consoleReturnPath, isSameOrigin } from './same-origin.js';

describe('consoleReturnPath', () => {
  it('keeps a path of the console, with its query and fragment', () => {
    expect(consoleReturnPath('/console/models?tab=2#top')).toBe('/console/models?tab=2#top');
    expect(consoleReturnPath('/console')).toBe('/console');
    expect(consoleReturnPath(undefined)).toBe('/console/');
  });

  it.each([
    'https://evil.example/console/',
    '//evil.example/console/',
    '/\\evil.example/console/',
    '\\\\evil.example',
    'console/models',
    '/console/../v1/ledger/events',
    '/consoles',
    '/graphql',
    '/console/\nx',
    'javascript:alert(1)',
  ])('refuses %j', (returnTo) => {
    expect(consoleReturnPath(returnTo)).toBeUndefined();
  });
});

describe('isSameOrigin', () => {
  it('compares with the public origin when there is one', () => {
    expect(isSameOrigin('https://g.example', 'https://g.example', 'other:1')).toBe(true);
    expect(isSameOrigin('https://evil.example', 'https://g.example', 'evil.example')).toBe(false);
    expect(isSameOrigin('http://g.example', 'https://g.example', 'g.example')).toBe(false);
  });

  it('compares with the Host header otherwise', () => {
    expect(isSameOrigin('http://127.0.0.1:3000', undefined, '127.0.0.1:3000')).toBe(true);
    expect(isSameOrigin('http://127.0.0.1:3001', undefined, '127.0.0.1:3000')).toBe(false);
  });

  it('refuses a missing, opaque or malformed Origin', () => {
    expect(isSameOrigin(undefined, undefined, 'h')).toBe(false);
    expect(isSameOrigin('null', undefined, 'h')).toBe(false);
    expect(isSameOrigin('http://h/path', undefined, 'h')).toBe(false);
  });
});
