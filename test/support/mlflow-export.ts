import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScoringModel } from '../../src/model-builder/scoring-model.js';

/**
 * A model directory as `mlflow.onnx.log_model` leaves it (MLflow's "Storage Format"): the
 * ONNX file, and an `MLmodel` naming the onnx and python_function flavors, the run, and a
 * column-based signature of the model's feature columns. What a training job hands a pipeline.
 */
export function writeMlflowModel(
  dir: string,
  scoring: ScoringModel,
  run: { readonly runId: string; readonly modelUuid: string },
): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), scoring.bytes);
  const inputs = JSON.stringify(
    scoring.featureNames.map((name) => ({ type: 'double', name, required: true })),
  );
  const outputs = JSON.stringify([
    { type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 1] }, name: 'score' },
  ]);
  writeFileSync(
    join(dir, 'MLmodel'),
    [
      'artifact_path: model',
      'flavors:',
      '  onnx:',
      '    code: null',
      '    data: model.onnx',
      '    onnx_version: 1.16.1',
      '    providers:',
      '    - CPUExecutionProvider',
      '  python_function:',
      '    data: model.onnx',
      '    env:',
      '      conda: conda.yaml',
      '      virtualenv: python_env.yaml',
      '    loader_module: mlflow.onnx',
      '    python_version: 3.11.7',
      'mlflow_version: 2.14.1',
      `model_uuid: ${run.modelUuid}`,
      `run_id: ${run.runId}`,
      'signature:',
      `  inputs: '${inputs}'`,
      `  outputs: '${outputs}'`,
      '  params: null',
      "utc_time_created: '2026-12-01 09:30:12.345678'",
      '',
    ].join('\n'),
  );
  return dir;
}
