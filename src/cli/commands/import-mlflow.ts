/**
 * `gatehouse import mlflow DIR --model NAME`: an MLflow model's ONNX flavor uploaded and
 * registered as a version of a registered model, its signature's columns as the version's
 * feature columns and its run in the version's metadata. Importing the same model again finds
 * the version it made.
 */
import { readFileSync } from 'node:fs';
import {
  ImportModelVersionsDocument,
  ReleaseRegisterVersionDocument,
  type Task,
} from '../../client/generated/graphql.js';
import { ProblemError } from '../../client/problem.js';
import { readMlflowModel } from '../../mlflow/mlflow-model.js';
import { sha256Hex } from '../../policy/policy-file.js';
import { uploadArtifact } from '../../release/release-run.js';
import { EXIT } from '../exit.js';
import { connect, finish, runVerb, type RemoteOptions } from '../remote/remote.js';

export interface ImportMlflowOptions extends RemoteOptions {
  readonly model: string;
  readonly task: string;
  readonly featureColumns?: string;
  readonly description?: string;
}

const TASKS: readonly Task[] = ['BINARY_CLASSIFICATION', 'REGRESSION'];

export function importMlflow(dir: string, options: ImportMlflowOptions): Promise<void> {
  return runVerb(options, async () => {
    const task = options.task.toUpperCase() as Task;
    if (!TASKS.includes(task))
      throw new ProblemError({
        code: 'BAD_USER_INPUT',
        message: `--task: must be binary_classification or regression, not ${JSON.stringify(options.task)}`,
      });
    const mlflow = readMlflowModel(dir);
    const featureColumns =
      options.featureColumns?.split(',').map((c) => c.trim()) ?? mlflow.featureColumns;
    if (!featureColumns)
      throw new ProblemError({
        code: 'BAD_USER_INPUT',
        message: `--feature-columns: ${dir} has no column-based signature, so the columns must be named`,
      });
    const bytes = readFileSync(mlflow.onnxPath);
    const sha256 = sha256Hex(bytes);
    const client = await connect(options);
    const { model } = await client.run(ImportModelVersionsDocument, { model: options.model });
    if (!model)
      throw new ProblemError({
        code: 'NOT_FOUND',
        message: `model ${options.model} does not exist: register it first (or release with gatehouse release apply)`,
      });
    let version = model.versions.find((v) => v.artifactSha256 === sha256);
    const existed = version !== undefined;
    if (!version) {
      await uploadArtifact(client, bytes, sha256);
      version = (
        await client.run(ReleaseRegisterVersionDocument, {
          input: {
            model: model.name,
            artifactSha256: sha256,
            task,
            featureColumns,
            inputName: mlflow.inputName,
            description: options.description ?? null,
            metadata: mlflow.metadata,
          },
        })
      ).registerModelVersion;
    }
    finish(
      options,
      EXIT.ok,
      { model: model.name, existed, version, metadata: mlflow.metadata },
      `${existed ? 'Already registered' : 'Registered'}: ${model.name}@${version.version} (artifact ${sha256}, ${version.featureColumns.length} feature columns)`,
    );
  });
}
