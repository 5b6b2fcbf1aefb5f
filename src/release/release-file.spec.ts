import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseReleaseFile, ReleaseFileError, releaseJsonSchema } from './release-file.js';

const FIXTURE = join(import.meta.dirname, '../../test/fixtures/release/gatehouse.yaml');
const example = readFileSync(FIXTURE, 'utf8');

function errorOf(content: string): ReleaseFileError {
  try {
    parseReleaseFile('gatehouse.yaml', content);
  } catch (error) {
    if (error instanceof ReleaseFileError) return error;
    throw error;
  }
  throw new Error('parsed');
}

describe('the release file', () => {
  it('reads the example, with paths against its folder', () => {
    const loaded = parseReleaseFile(FIXTURE, example);
    expect(loaded.release.model.name).toBe('credit-risk');
    expect(loaded.release.candidate.mlflow).toBe('model');
    expect(loaded.pathOf('german-credit.csv')).toBe(
      join(import.meta.dirname, '../../test/fixtures/release/german-credit.csv'),
    );
    expect(loaded.lineOf(['promotion', 'justification'])).toBe(
      example.split('\n').findIndex((l) => l.includes('justification:')) + 1,
    );
  });

  it('names the line and the member of a mistake', () => {
    const typo = example.replace('labelColumn: good_credit', 'label: good_credit');
    const error = errorOf(typo);
    expect(error.line).toBe(typo.split('\n').findIndex((l) => l.includes('label:')) + 1);
    expect(error.message).toMatch(/^gatehouse\.yaml:\d+: evaluation: Unrecognized key: "label"/);

    const tier = errorOf(example.replace('riskTier: HIGH', 'riskTier: SEVERE'));
    expect(tier.line).toBe(5);
    expect(tier.reason).toMatch(/^model\.riskTier: /);
  });

  it('asks for exactly one of artifact and mlflow, and feature columns with an artifact', () => {
    expect(errorOf(example.replace('  mlflow: model\n', '')).reason).toMatch(
      /exactly one of artifact and mlflow/,
    );
    expect(
      errorOf(example.replace('  mlflow: model\n', '  mlflow: model\n  artifact: m.onnx\n')).reason,
    ).toMatch(/exactly one of artifact and mlflow/);
    expect(errorOf(example.replace('  mlflow: model\n', '  artifact: m.onnx\n')).reason).toBe(
      'candidate.featureColumns: featureColumns: required with artifact',
    );
  });

  it('refuses YAML that is not one plain document: duplicate keys, non-finite numbers', () => {
    expect(errorOf(`${example}version: 1\n`).reason).toMatch(/unique/i);
    expect(errorOf(example.replace('value: 0.02', 'value: .nan')).reason).toMatch(
      /^promotion\.rollbackCriteria\.maxErrorRate\.value: /,
    );
    expect(errorOf(example.replace('value: 0.02', 'value: .inf')).reason).toMatch(
      /^promotion\.rollbackCriteria\.maxErrorRate\.value: /,
    );
  });

  it('keeps prototype keys out of the metadata', () => {
    for (const key of ['__proto__', 'Git.Commit', 'x'.repeat(65)]) {
      const error = errorOf(example.replace('git.commit: 4b82', `${JSON.stringify(key)}: 4b82`));
      expect(error.reason).toMatch(/^candidate\.metadata\./);
    }
  });

  it('never throws anything but a ReleaseFileError, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (noise) => {
        for (const content of [
          noise,
          example.replace('credit-team', noise),
          `${example}${noise}`,
        ]) {
          try {
            parseReleaseFile('gatehouse.yaml', content);
          } catch (error) {
            if (!(error instanceof ReleaseFileError)) throw error;
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  // GATEHOUSE_WRITE_CONTRACT=1 rewrites it, as it does schema.graphql.
  it('is described by the committed JSON Schema', () => {
    const file = join(import.meta.dirname, '../../docs/gatehouse.schema.json');
    if (process.env['GATEHOUSE_WRITE_CONTRACT'] === '1')
      writeFileSync(file, `${JSON.stringify(releaseJsonSchema(), null, 2)}\n`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(releaseJsonSchema());
  });
});
