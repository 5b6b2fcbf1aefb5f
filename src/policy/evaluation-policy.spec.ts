import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { DRIFT_MONITORING_DEFAULTS, evaluationPolicySchema } from './evaluation-policy.js';
import { parsePolicyFile, PolicyFileError } from './policy-file.js';

const shipped = readFileSync(new URL('../../policies/evaluation.yaml', import.meta.url), 'utf8');

describe('policies/evaluation.yaml', () => {
  it('loads the shipped file: the four-fifths rule, groups of at least 30, 95 % intervals', () => {
    const { value } = parsePolicyFile('evaluation.yaml', shipped, evaluationPolicySchema);
    expect(value).toEqual({
      version: 1,
      fairness: { minGroupSize: 30, disparateImpactThreshold: 0.8 },
      bootstrap: { defaultResamples: 200, confidenceLevel: 0.95 },
      drift: {
        bins: 10,
        monitoring: {
          psiThreshold: 0.2,
          windowSeconds: 3600,
          minRows: 500,
          maxRows: 20_000,
          intervalSeconds: 60,
        },
      },
    });
  });

  it('gives a file written before drift monitoring existed the default monitoring', () => {
    const older = shipped.replace(/\n  # Monitoring[\s\S]*$/, '\n');
    expect(older).not.toMatch(/monitoring:/);
    const { value } = parsePolicyFile('evaluation.yaml', older, evaluationPolicySchema);
    expect(value.drift.monitoring).toEqual(DRIFT_MONITORING_DEFAULTS);
  });

  it('refuses a drift window whose minimum exceeds its maximum', () => {
    const broken = shipped.replace('maxRows: 20000', 'maxRows: 100');
    expect(() => parsePolicyFile('evaluation.yaml', broken, evaluationPolicySchema)).toThrow(
      /drift\.monitoring\.minRows/,
    );
  });

  it('names the line of a value out of range', () => {
    const broken = shipped.replace(
      'disparateImpactThreshold: 0.8',
      'disparateImpactThreshold: 1.5',
    );
    const line = broken.split('\n').findIndex((l) => l.includes('1.5')) + 1;
    expect(() => parsePolicyFile('evaluation.yaml', broken, evaluationPolicySchema)).toThrow(
      PolicyFileError,
    );
    try {
      parsePolicyFile('evaluation.yaml', broken, evaluationPolicySchema);
    } catch (error) {
      expect((error as PolicyFileError).line).toBe(line);
      expect((error as PolicyFileError).message).toMatch(/fairness\.disparateImpactThreshold/);
    }
  });
});
