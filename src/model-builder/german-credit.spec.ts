import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGermanCredit } from './german-credit.js';

describe('loadGermanCredit', () => {
  const data = loadGermanCredit();

  it('reads 1,000 rows of 60 numeric features from the repository copy', () => {
    expect(data.X).toHaveLength(1000);
    expect(data.featureNames).toHaveLength(60);
    expect(data.featureNames.slice(0, 3)).toEqual([
      'Duration',
      'Amount',
      'InstallmentRatePercentage',
    ]);
    expect(data.featureNames).not.toContain('sex');
    expect(data.featureNames).not.toContain('good_credit');
    expect(data.X.every((row) => row.length === 60 && row.every(Number.isFinite))).toBe(true);
    // First row: 6 months, 1169 DM, installment rate 4, ..., age 67.
    expect(Array.from(data.X[0]!.subarray(0, 5))).toEqual([6, 1169, 4, 4, 67]);
  });

  it('has the label base rates of data/README.md', () => {
    const good = (group: string[], value: string): [number, number] => {
      const rows = data.y.filter((_, i) => group[i] === value);
      return [rows.filter((y) => y === 1).length, rows.length];
    };
    expect(good(data.sex, 'female')).toEqual([201, 310]);
    expect(good(data.sex, 'male')).toEqual([499, 690]);
    expect(good(data.ageGroup, 'under_25')).toEqual([88, 149]);
    expect(good(data.ageGroup, '25_and_over')).toEqual([612, 851]);
  });

  it('refuses a malformed file, naming the line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'german-credit-'));
    const path = join(dir, 'bad.csv');
    writeFileSync(
      path,
      '"a","sex","age_group","good_credit"\n1,"male","under_25",1\nx,"male","under_25",0\n',
    );
    expect(() => loadGermanCredit(path)).toThrow(`${path}:3: a is not a number: x`);
    writeFileSync(path, '"a","sex","age_group","good_credit"\n1,"male",1\n');
    expect(() => loadGermanCredit(path)).toThrow('3 fields, expected 4');
    writeFileSync(path, '"a","sex","good_credit"\n1,"male",1\n');
    expect(() => loadGermanCredit(path)).toThrow('no column age_group');
  });
});
