import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { isAbsolute, join, relative, resolve, sep, win32 } from 'node:path';
import { z } from 'zod';
import { textFault } from '../common/text-rules.js';
import { parseYamlFile, PolicyFileError, type ParsedYamlFile } from '../policy/policy-file.js';
import { METADATA_MAX_VALUE, type VersionMetadata } from '../registry/registry-rules.js';
import { type MlflowInputs, quote, readSignatureInputs } from './mlflow-signature.js';

/**
 * An MLflow model directory (MLflow's "Storage Format"): an `MLmodel` YAML file naming the
 * flavors the model can be loaded as, with the files each flavor's settings point to. Gatehouse
 * serves ONNX, so it takes the `onnx` flavor's `data` file (what `mlflow.onnx.save_model` and
 * `log_model` write), the feature columns of a column-based signature, and where the model came
 * from (its run) as the version's metadata. Reads files only: no MLflow server, no network.
 */

export const MLMODEL_FILE = 'MLmodel';

/** An MLflow model that cannot be used: names the file, the line where there is one, and why. */
export class MlflowModelError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(printable(`${file}${line === undefined ? '' : `:${line}`}: ${reason}`));
    this.name = 'MlflowModelError';
  }
}

export interface MlflowModel {
  /** The model directory, absolute, symbolic links resolved. */
  readonly directory: string;
  /** The `MLmodel` file read. */
  readonly mlmodelPath: string;
  /** The onnx flavor's model file, absolute, symbolic links resolved; always inside `directory`. */
  readonly onnxPath: string;
  /** Every flavor the MLmodel names, in file order (`onnx`, `python_function`…). */
  readonly flavors: readonly string[];
  /** The signature's inputs; null when the MLmodel has no signature or no inputs in it. */
  readonly inputs: MlflowInputs | null;
  /** A column-based signature's column names, in order: the version's feature columns. */
  readonly featureColumns: string[] | null;
  /** A tensor-based signature's input name, when it gives one: the ONNX input to score. */
  readonly inputName: string | null;
  /** Where the model came from, as model-version metadata (`mlflow.run_id`…). */
  readonly metadata: VersionMetadata;
}

/** Larger than any MLmodel MLflow writes, by far: a bigger file is not one. */
const MAX_MLMODEL_BYTES = 1024 * 1024;

/**
 * What of MLmodel is read. Scalars are checked as text later (`textOf`): MLflow writes them
 * with PyYAML, which quotes only what its YAML 1.1 would read as something other than a
 * string, so a run id such as `123e4567…` is written plain and must be taken as written.
 */
const scalar = z.unknown().refine((v) => v === null || typeof v !== 'object', {
  error: 'must be a single value, not a list or a map',
});
const mlmodelSchema = z.looseObject({
  artifact_path: scalar.optional(),
  run_id: scalar.optional(),
  model_uuid: scalar.optional(),
  model_id: scalar.optional(),
  mlflow_version: scalar.optional(),
  utc_time_created: scalar.optional(),
  databricks_runtime: scalar.optional(),
  flavors: z.record(z.string(), z.unknown(), {
    error: 'must be a map of flavor names to their settings',
  }),
  signature: z
    .looseObject(
      {
        inputs: z
          .unknown()
          .refine((v) => v === null || typeof v !== 'object', {
            error: 'must be the JSON text MLflow writes, not a YAML list or map',
          })
          .optional(),
      },
      { error: 'must be a map with inputs and outputs' },
    )
    .nullish(),
});
type Mlmodel = z.output<typeof mlmodelSchema>;

/** Refuses the MLmodel at the line of `path`. */
type Fail = (path: readonly (string | number)[], reason: string) => never;

/** MLmodel members kept as metadata, under the keys docs/registry.md lists. */
const METADATA_MEMBERS = [
  ['run_id', 'mlflow.run_id'],
  ['artifact_path', 'mlflow.artifact_path'],
  ['model_uuid', 'mlflow.model_uuid'],
  ['model_id', 'mlflow.model_id'],
  ['mlflow_version', 'mlflow.version'],
  ['utc_time_created', 'mlflow.utc_time_created'],
  ['databricks_runtime', 'mlflow.databricks_runtime'],
] as const;

/** Reads the MLflow model in `dir` (a path, relative to the working directory or absolute). */
export function readMlflowModel(dir: string): MlflowModel {
  const directory = modelDirectory(dir);
  const file = join(dir, MLMODEL_FILE);
  const parsed = parseMlmodel(file, readMlmodel(file));
  const fail: Fail = (path, reason) => {
    throw new MlflowModelError(file, parsed.lineOf(path), reason);
  };
  const mlmodel = parsed.value;

  const flavors = Object.keys(mlmodel.flavors);
  if (!Object.hasOwn(mlmodel.flavors, 'onnx'))
    fail(
      ['flavors'],
      flavors.length === 0
        ? 'MLmodel has no flavors: export the model with mlflow.onnx'
        : `MLmodel has flavors ${flavors.map(flavorName).join(', ')} but no onnx flavor: export the model with mlflow.onnx`,
    );
  const onnx = mlmodel.flavors['onnx'];
  if (typeof onnx !== 'object' || onnx === null || Array.isArray(onnx))
    fail(['flavors', 'onnx'], 'flavors.onnx: must be a map with the model file as data');
  const data = parsed.textOf(['flavors', 'onnx', 'data']);
  if (data === undefined)
    fail(['flavors', 'onnx', 'data'], 'flavors.onnx.data: must name the ONNX model file');
  const onnxPath = onnxFile(directory, data, (reason) =>
    fail(['flavors', 'onnx', 'data'], `flavors.onnx.data: ${reason}`),
  );

  const inputs = signatureInputs(mlmodel, parsed, fail);
  return {
    directory,
    mlmodelPath: resolve(file),
    onnxPath,
    flavors,
    inputs,
    featureColumns: inputs?.kind === 'columns' ? inputs.columns.map((c) => c.name) : null,
    inputName: inputs?.kind === 'tensor' ? inputs.name : null,
    metadata: metadataOf(parsed, fail),
  };
}

function modelDirectory(dir: string): string {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    throw new MlflowModelError(dir, undefined, 'no such directory');
  }
  if (!statSync(real).isDirectory())
    throw new MlflowModelError(
      dir,
      undefined,
      `is a file: name the MLflow model directory, the one that holds ${MLMODEL_FILE}`,
    );
  return real;
}

function readMlmodel(file: string): string {
  const missing = () =>
    new MlflowModelError(
      file,
      undefined,
      `no ${MLMODEL_FILE} file: an MLflow model directory holds one (mlflow.onnx.save_model writes it)`,
    );
  // Checked before opening, and opened without blocking: a FIFO named MLmodel would wait for
  // a writer forever.
  const unreadable = (error: unknown) =>
    (error as NodeJS.ErrnoException).code === 'ENOENT'
      ? missing()
      : new MlflowModelError(file, undefined, `cannot be read: ${(error as Error).message}`);
  let fd: number;
  try {
    if (!statSync(file).isFile()) throw new MlflowModelError(file, undefined, 'is not a file');
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw error instanceof MlflowModelError ? error : unreadable(error);
  }
  try {
    // Again on the open file, in case it was swapped since.
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new MlflowModelError(file, undefined, 'is not a file');
    if (stat.size > MAX_MLMODEL_BYTES)
      throw new MlflowModelError(
        file,
        undefined,
        `is ${stat.size} bytes, larger than any MLmodel (at most ${MAX_MLMODEL_BYTES})`,
      );
    const bytes = Buffer.alloc(stat.size);
    let read = 0;
    while (read < bytes.length) {
      const n = readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, read));
  } catch (error) {
    if (error instanceof MlflowModelError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA')
      throw new MlflowModelError(file, undefined, 'is not UTF-8 text');
    throw unreadable(error);
  } finally {
    closeSync(fd);
  }
}

function parseMlmodel(file: string, content: string): ParsedYamlFile<Mlmodel> {
  if (content.trim() === '')
    throw new MlflowModelError(file, undefined, 'is empty: an MLmodel is a YAML map');
  try {
    return parseYamlFile(file, content, mlmodelSchema);
  } catch (error) {
    if (error instanceof PolicyFileError)
      throw new MlflowModelError(error.file, error.line, error.reason);
    throw error;
  }
}

/**
 * The onnx flavor's file: inside the model directory, whatever `..`, absolute path or symbolic
 * link the MLmodel names, so importing a model directory never reads a file outside it.
 */
function onnxFile(directory: string, data: string, fail: (reason: string) => never): string {
  const fault = textFault(data);
  if (fault) fail(fault);
  if (data.trim() === '') fail('must name the ONNX model file');
  if (isAbsolute(data) || win32.isAbsolute(data))
    fail(`${quote(data)} is an absolute path; it must be relative to the model directory`);
  const inside = (path: string) => {
    const rel = relative(directory, path);
    return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
  };
  const named = resolve(directory, data);
  if (!inside(named)) fail(`${quote(data)} is outside the model directory`);
  let real: string;
  try {
    real = realpathSync(named);
  } catch {
    return fail(`${quote(data)} does not exist in the model directory`);
  }
  if (!inside(real))
    fail(
      `${quote(data)} leads through a symbolic link to ${quote(real)}, outside the model directory`,
    );
  if (!statSync(real).isFile()) fail(`${quote(data)} is not a file`);
  return real;
}

function signatureInputs(
  mlmodel: Mlmodel,
  parsed: ParsedYamlFile<Mlmodel>,
  fail: Fail,
): MlflowInputs | null {
  if (!mlmodel.signature) return null;
  const text = parsed.textOf(['signature', 'inputs']);
  if (text === undefined) return null;
  const reading = readSignatureInputs(text);
  if (!reading.ok) return fail(['signature', 'inputs'], reading.reason);
  return reading.inputs;
}

function metadataOf(parsed: ParsedYamlFile<Mlmodel>, fail: Fail): VersionMetadata {
  const metadata: Record<string, string> = {};
  const keep = (path: readonly string[], key: string) => {
    const value = parsed.textOf(path);
    if (value === undefined) return;
    const fault =
      textFault(value) ??
      (value.length > METADATA_MAX_VALUE
        ? `is longer than the ${METADATA_MAX_VALUE} characters metadata can hold`
        : undefined);
    if (fault) fail(path, `${path.join('.')}: ${fault}`);
    metadata[key] = value;
  };
  for (const [member, key] of METADATA_MEMBERS) keep([member], key);
  keep(['flavors', 'onnx', 'onnx_version'], 'mlflow.onnx_version');
  const run = metadata['mlflow.run_id'];
  const artifactPath = metadata['mlflow.artifact_path'];
  // The URI MLflow itself loads the model by (mlflow.onnx.load_model("runs:/…")).
  if (run && artifactPath) {
    const source = `runs:/${run}/${artifactPath}`;
    if (source.length <= METADATA_MAX_VALUE) metadata['mlflow.source'] = source;
  }
  return metadata;
}

function flavorName(name: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(name) ? name : quote(name);
}

/** Control characters and lone surrogates from a file, escaped before they reach a terminal. */
function printable(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
