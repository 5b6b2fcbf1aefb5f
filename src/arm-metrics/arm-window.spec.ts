import { describe, expect, it } from '@jest/globals';
import { addArmWindow, emptyArmWindow, groupCell } from './arm-window.js';

describe('arm window groups', () => {
  it('counts groups named like inherited members as groups, leaving Object.prototype alone', () => {
    const w = emptyArmWindow();
    for (const [attribute, group] of [
      ['sex', '__proto__'],
      ['__proto__', 'x'],
      ['constructor', 'toString'],
      ['sex', '__proto__'],
    ] as const) {
      const cell = groupCell(w.groups, attribute, group);
      cell[0] += 2;
      cell[1] += 1;
    }
    const inherited: string[] = [];
    for (const key in {}) inherited.push(key);
    expect(inherited).toEqual([]);
    expect(JSON.parse(JSON.stringify(w.groups))).toEqual(
      JSON.parse(
        '{"sex":{"__proto__":[4,2]},"__proto__":{"x":[2,1]},"constructor":{"toString":[2,1]}}',
      ),
    );
  });

  it('adds windows read back from JSON, where such names are own members', () => {
    const into = emptyArmWindow();
    const stored = {
      ...emptyArmWindow(),
      groups: JSON.parse('{"sex":{"__proto__":[3,1]}}') as never,
    };
    addArmWindow(into, stored);
    addArmWindow(into, stored);
    expect(JSON.stringify(into.groups)).toBe('{"sex":{"__proto__":[6,2]}}');
  });
});
