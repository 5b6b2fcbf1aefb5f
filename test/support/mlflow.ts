import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { ScoringModel } from '../../src/model-builder/scoring-model.js';

/**
 * MLflow model directories for tests: an MLmodel from test/fixtures/mlflow (as
 * `mlflow.onnx.save_model` and `mlflow.sklearn.save_model` write them) with an ONNX model built
 * by the test, so no model binary is committed.
 *
 * - `column-signature`: the onnx flavor, a column-based signature of the 60 German credit
 *   feature columns (data/german_credit.csv without sex, age_group and good_credit), in order;
 * - `tensor-signature`: the onnx flavor, a tensor-based signature (`features` float32 [-1, 60]);
 * - `no-signature`: the onnx flavor, no signature;
 * - `sklearn`: flavors python_function and sklearn, no onnx.
 */
export const MLFLOW_FIXTURES = [
  'column-signature',
  'tensor-signature',
  'no-signature',
  'sklearn',
] as const;
export type MlflowFixture = (typeof MLFLOW_FIXTURES)[number];

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'mlflow');

/** The fixture's MLmodel text. */
export function mlmodelText(fixture: MlflowFixture): string {
  return readFileSync(join(FIXTURES, fixture, 'MLmodel'), 'utf8');
}

/**
 * Writes an MLflow model directory at `dir` (created if need be): the fixture's MLmodel, changed
 * by `mlmodel` if given, and `onnx` as `model.onnx`, the file the fixtures' onnx flavor names.
 */
export function writeMlflowModel(
  dir: string,
  fixture: MlflowFixture,
  files: { readonly onnx?: Uint8Array; readonly mlmodel?: (text: string) => string } = {},
): string {
  mkdirSync(dir, { recursive: true });
  if (files.mlmodel) writeFileSync(join(dir, 'MLmodel'), files.mlmodel(mlmodelText(fixture)));
  else copyFileSync(join(FIXTURES, fixture, 'MLmodel'), join(dir, 'MLmodel'));
  if (files.onnx) writeFileSync(join(dir, 'model.onnx'), files.onnx);
  return dir;
}

/**
 * A training run's MLflow export of `scoring`: the column-signature fixture with the run's
 * identity and the model's own feature columns as the signature (models that leave columns out
 * have a narrower signature than the fixture's 60), and the model as `model.onnx`.
 */
export function writeMlflowExport(
  dir: string,
  scoring: ScoringModel,
  run: { readonly runId: string; readonly modelUuid: string },
): string {
  return writeMlflowModel(dir, 'column-signature', {
    onnx: scoring.bytes,
    mlmodel: (text) => {
      const doc = parseDocument(text);
      doc.set('run_id', run.runId);
      doc.set('model_uuid', run.modelUuid);
      doc.setIn(
        ['signature', 'inputs'],
        JSON.stringify(
          scoring.featureNames.map((name) => ({ type: 'double', name, required: true })),
        ),
      );
      return doc.toString();
    },
  });
}
