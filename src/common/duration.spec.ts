import { describe, expect, it } from '@jest/globals';
import { parseDurationSeconds } from './duration.js';

describe('parseDurationSeconds', () => {
  it.each([
    ['90', 90],
    ['90s', 90],
    ['15m', 900],
    ['1h', 3600],
    ['7d', 604800],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });
  it.each(['', '0', '1w', '-5m', '1.5h', 'h'])('refuses %p', (text) => {
    expect(parseDurationSeconds(text)).toBeUndefined();
  });
});
