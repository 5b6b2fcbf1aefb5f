import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { textFault } from '../common/text-rules.js';
import { loadGermanCredit, trainLogisticRegression } from '../model-builder/index.js';
import { checkColumns, checkMetadata } from '../registry/registry-rules.js';
import { mlmodelText, writeMlflowModel, type MlflowFixture } from '../../test/support/mlflow.js';
import { MlflowModelError, readMlflowModel } from './mlflow-model.js';

const data = loadGermanCredit();
let onnx: Uint8Array;
let root: string;
let count = 0;

beforeAll(() => {
  onnx = trainLogisticRegression(data, { name: 'german_credit_mlflow' }).bytes;
  root = realpathSync(mkdtempSync(join(tmpdir(), 'gatehouse-mlflow-')));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A new model directory from a fixture, its MLmodel changed by `edit` if given. */
function model(fixture: MlflowFixture, edit?: (text: string) => string): string {
  return writeMlflowModel(join(root, `m${++count}`), fixture, {
    onnx,
    ...(edit ? { mlmodel: edit } : {}),
  });
}

/** The MLmodel of the column-signature fixture with its signature inputs replaced. */
function withInputs(json: string): (text: string) => string {
  return (text) =>
    text.replace(/^ {2}inputs: '(?:[^']|'')*'\n/m, `  inputs: ${JSON.stringify(json)}\n`);
}

function refusal(dir: string): MlflowModelError {
  try {
    readMlflowModel(dir);
  } catch (error) {
    if (error instanceof MlflowModelError) return error;
    throw error;
  }
  throw new Error(`${dir} was read`);
}

/** The 1-based line of the first line of `text` that contains `part`. */
function lineOf(text: string, part: string): number {
  return text.split('\n').findIndex((l) => l.includes(part)) + 1;
}

describe('readMlflowModel', () => {
  describe('the fixtures', () => {
    it('reads an onnx flavor with a column-based signature: the German credit columns in order', () => {
      const dir = model('column-signature');
      const read = readMlflowModel(dir);
      expect(read.featureColumns).toEqual(data.featureNames);
      expect(read.featureColumns).toHaveLength(60);
      expect(read.inputName).toBeNull();
      expect(read.inputs).toMatchObject({ kind: 'columns' });
      expect(read.inputs?.kind === 'columns' && read.inputs.columns[0]).toEqual({
        name: 'Duration',
        type: 'double',
        required: true,
      });
      expect(read.flavors).toEqual(['onnx', 'python_function']);
      expect(read.directory).toBe(dir);
      expect(read.mlmodelPath).toBe(join(dir, 'MLmodel'));
      expect(read.onnxPath).toBe(join(dir, 'model.onnx'));
      expect(new Uint8Array(readFileSync(read.onnxPath))).toEqual(onnx);
      expect(read.metadata).toEqual({
        'mlflow.run_id': '8c9f0e3b1c2d4e5f8a7b6c5d4e3f2a1b',
        'mlflow.artifact_path': 'model',
        'mlflow.source': 'runs:/8c9f0e3b1c2d4e5f8a7b6c5d4e3f2a1b/model',
        'mlflow.model_uuid': '3f2b8c1d9e7a4b6c8d0e1f2a3b4c5d6e',
        'mlflow.version': '2.14.3',
        'mlflow.utc_time_created': '2024-07-02 09:14:27.518463',
        'mlflow.onnx_version': '1.16.1',
      });
    });

    it('gives what registerModelVersion accepts: its metadata and feature column rules', () => {
      const read = readMlflowModel(model('column-signature'));
      expect(checkMetadata(read.metadata)).toEqual(read.metadata);
      expect(checkColumns('featureColumns', read.featureColumns ?? [], false)).toEqual(
        read.featureColumns,
      );
    });

    it('reads a tensor-based signature: no columns, the input name', () => {
      const read = readMlflowModel(model('tensor-signature'));
      expect(read.featureColumns).toBeNull();
      expect(read.inputName).toBe('features');
      expect(read.inputs).toEqual({
        kind: 'tensor',
        name: 'features',
        dtype: 'float32',
        shape: [-1, 60],
      });
      expect(read.metadata).toMatchObject({
        'mlflow.artifact_path': 'credit_model',
        'mlflow.source': 'runs:/1d2c3b4a59687f6e5d4c3b2a19080706/credit_model',
      });
    });

    it('reads a model without a signature', () => {
      const read = readMlflowModel(model('no-signature'));
      expect(read).toMatchObject({ inputs: null, featureColumns: null, inputName: null });
      expect(read.metadata).toMatchObject({
        'mlflow.version': '2.9.2',
        'mlflow.utc_time_created': '2023-12-11 16:45:09.771302',
      });
    });

    it('refuses a model without an onnx flavor, naming the flavors it has', () => {
      const dir = model('sklearn');
      const error = refusal(dir);
      expect(error.message).toBe(
        `${join(dir, 'MLmodel')}:${lineOf(mlmodelText('sklearn'), 'python_function:')}: MLmodel has flavors python_function, sklearn but no onnx flavor: export the model with mlflow.onnx`,
      );
      expect(error.file).toBe(join(dir, 'MLmodel'));
    });
  });

  describe('what MLflow writes that YAML reads otherwise', () => {
    it('keeps a plain run id that reads as a number, and versions as written', () => {
      const read = readMlflowModel(
        model('column-signature', (t) =>
          t
            .replace('run_id: 8c9f0e3b1c2d4e5f8a7b6c5d4e3f2a1b', 'run_id: 1234e5678')
            .replace('onnx_version: 1.16.1', 'onnx_version: 1.10'),
        ),
      );
      expect(read.metadata['mlflow.run_id']).toBe('1234e5678');
      expect(read.metadata['mlflow.source']).toBe('runs:/1234e5678/model');
      expect(read.metadata['mlflow.onnx_version']).toBe('1.10');
    });

    it('leaves out what the MLmodel does not hold, and keeps MLflow 3 model ids', () => {
      const read = readMlflowModel(
        model('no-signature', (t) =>
          t
            .replace('artifact_path: model\n', '')
            .replace('run_id:', 'model_id: m-4c1f0e9d8b7a4c2e9f1d3b5a7c9e0f12\nrun_id:'),
        ),
      );
      expect(read.metadata['mlflow.artifact_path']).toBeUndefined();
      expect(read.metadata['mlflow.source']).toBeUndefined();
      expect(read.metadata['mlflow.model_id']).toBe('m-4c1f0e9d8b7a4c2e9f1d3b5a7c9e0f12');
    });

    it('reads a signature with inputs: null as none', () => {
      const read = readMlflowModel(
        model('column-signature', (t) =>
          t.replace(/^ {2}inputs: '(?:[^']|'')*'\n/m, '  inputs: null\n'),
        ),
      );
      expect(read.inputs).toBeNull();
      expect(read.featureColumns).toBeNull();
    });
  });

  describe('the directory and the MLmodel file', () => {
    it('refuses a directory that does not exist, and a file named instead', () => {
      expect(refusal(join(root, 'nowhere')).message).toBe(
        `${join(root, 'nowhere')}: no such directory`,
      );
      const dir = model('column-signature');
      expect(refusal(join(dir, 'MLmodel')).message).toMatch(
        /is a file: name the MLflow model directory/,
      );
    });

    it('refuses a directory without an MLmodel file', () => {
      const dir = join(root, 'empty');
      mkdirSync(dir);
      expect(refusal(dir).message).toBe(
        `${join(dir, 'MLmodel')}: no MLmodel file: an MLflow model directory holds one (mlflow.onnx.save_model writes it)`,
      );
    });

    it('refuses an MLmodel that is a directory or a FIFO, without waiting on it', () => {
      const dir = join(root, 'odd');
      mkdirSync(join(dir, 'MLmodel'), { recursive: true });
      expect(refusal(dir).reason).toBe('is not a file');
      const fifo = join(root, 'fifo');
      mkdirSync(fifo);
      execFileSync('mkfifo', [join(fifo, 'MLmodel')]);
      expect(refusal(fifo).reason).toBe('is not a file');
    });

    it.each([
      ['empty', '', /is empty/],
      ['not YAML', 'flavors:\n  onnx: [unclosed\n', /MLmodel:\d+: /],
      ['a list', '- onnx\n- sklearn\n', /expected object/],
      ['without flavors', 'run_id: abc\n', /flavors: must be a map of flavor names/],
      ['with flavors as a list', 'flavors:\n- onnx\n', /flavors: must be a map of flavor names/],
      [
        'with no flavors',
        'flavors: {}\n',
        /MLmodel has no flavors: export the model with mlflow.onnx/,
      ],
      ['with a duplicate key', 'flavors: {}\nflavors: {}\n', /unique/],
      [
        'with a __proto__ key',
        'flavors:\n  __proto__: {data: x}\n',
        /__proto__: is not a usable key/,
      ],
      ['with an alias to nothing', 'flavors: *nothing\n', /alias/i],
      [
        'with aliases that expand without bound',
        'a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\nflavors: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
        /alias/i,
      ],
      [
        'with signature inputs as YAML',
        'flavors: {}\nsignature:\n  inputs:\n  - {name: a, type: double}\n',
        /signature\.inputs: must be the JSON text MLflow writes, not a YAML list or map/,
      ],
      [
        'with a run id that is a map',
        'run_id: {a: b}\nflavors: {}\n',
        /run_id: must be a single value/,
      ],
    ])('refuses an MLmodel %s', (_, text, reason) => {
      const dir = model('column-signature', () => text);
      const error = refusal(dir);
      expect(error.file).toBe(join(dir, 'MLmodel'));
      expect(error.message).toMatch(reason);
    });

    it('names the line of a mistake in the file', () => {
      const text =
        'artifact_path: model\nflavors:\n  onnx:\n    data: model.onnx\n  sklearn: a: b\nrun_id: x\n';
      expect(refusal(model('column-signature', () => text)).line).toBe(5);
    });

    it('refuses bytes that are not UTF-8', () => {
      const dir = model('column-signature');
      writeFileSync(join(dir, 'MLmodel'), Buffer.from([0x66, 0x6c, 0xff, 0xfe, 0x0a]));
      expect(refusal(dir).reason).toBe('is not UTF-8 text');
    });
  });

  describe('the onnx flavor’s model file', () => {
    const data = (path: string) => (t: string) =>
      t.replace(
        '  onnx:\n    code: null\n    data: model.onnx',
        `  onnx:\n    code: null\n    data: ${JSON.stringify(path)}`,
      );

    it('refuses an onnx flavor without data, at its line', () => {
      const text = mlmodelText('no-signature').replace(
        '    data: model.onnx\n    onnx_version',
        '    onnx_version',
      );
      const error = refusal(model('no-signature', () => text));
      expect(error.reason).toBe('flavors.onnx.data: must name the ONNX model file');
      expect(error.line).toBe(lineOf(text, '    code: null'));
    });

    it('refuses a model file that is not there, at the line of data', () => {
      const dir = model('column-signature', data('missing.onnx'));
      const error = refusal(dir);
      expect(error.reason).toBe(
        'flavors.onnx.data: "missing.onnx" does not exist in the model directory',
      );
      expect(error.line).toBe(lineOf(mlmodelText('column-signature'), 'data: model.onnx'));
    });

    it('refuses a path out of the directory, even to a file that exists', () => {
      writeFileSync(join(root, 'outside.onnx'), onnx);
      for (const path of ['../outside.onnx', 'sub/../../outside.onnx', '..'])
        expect(refusal(model('column-signature', data(path))).reason).toBe(
          `flavors.onnx.data: ${JSON.stringify(path)} is outside the model directory`,
        );
    });

    it('refuses an absolute path, even into the directory itself', () => {
      const dir = join(root, 'absolute');
      writeMlflowModel(dir, 'column-signature', { onnx, mlmodel: data(join(dir, 'model.onnx')) });
      expect(refusal(dir).reason).toMatch(
        /is an absolute path; it must be relative to the model directory$/,
      );
      expect(refusal(model('column-signature', data('C:\\models\\model.onnx'))).reason).toMatch(
        /absolute/,
      );
    });

    it('refuses a symbolic link out of the directory, in the file or a folder on its way', () => {
      writeFileSync(join(root, 'outside.onnx'), onnx);
      const linked = model('column-signature', data('linked.onnx'));
      symlinkSync(join(root, 'outside.onnx'), join(linked, 'linked.onnx'));
      expect(refusal(linked).reason).toBe(
        `flavors.onnx.data: "linked.onnx" leads through a symbolic link to ${JSON.stringify(join(root, 'outside.onnx'))}, outside the model directory`,
      );
      const folder = model('column-signature', data('weights/outside.onnx'));
      symlinkSync(root, join(folder, 'weights'));
      expect(refusal(folder).reason).toMatch(
        /leads through a symbolic link to .*, outside the model directory$/,
      );
    });

    it('follows a symbolic link that stays inside, and a directory that is one', () => {
      const dir = model('column-signature', data('current.onnx'));
      mkdirSync(join(dir, 'v1'));
      writeFileSync(join(dir, 'v1', 'model.onnx'), onnx);
      symlinkSync(join('v1', 'model.onnx'), join(dir, 'current.onnx'));
      expect(readMlflowModel(dir).onnxPath).toBe(join(dir, 'v1', 'model.onnx'));
      const link = join(root, 'link-to-model');
      symlinkSync(dir, link);
      expect(readMlflowModel(link)).toMatchObject({
        directory: dir,
        onnxPath: join(dir, 'v1', 'model.onnx'),
      });
    });

    it('refuses data that names a directory or the model directory itself', () => {
      const dir = model('column-signature', data('weights'));
      mkdirSync(join(dir, 'weights'));
      expect(refusal(dir).reason).toBe('flavors.onnx.data: "weights" is not a file');
      expect(refusal(model('column-signature', data('.'))).reason).toBe(
        'flavors.onnx.data: "." is not a file',
      );
    });

    it('refuses data that is no path', () => {
      expect(refusal(model('column-signature', data('a\u0000b'))).reason).toMatch(/NUL/);
      expect(refusal(model('column-signature', data('  '))).reason).toBe(
        'flavors.onnx.data: must name the ONNX model file',
      );
      expect(
        refusal(
          model('column-signature', (t) =>
            t.replace(
              '    data: model.onnx\n    onnx_version',
              '    data: [a, b]\n    onnx_version',
            ),
          ),
        ).reason,
      ).toBe('flavors.onnx.data: must name the ONNX model file');
    });
  });

  describe('the signature', () => {
    const column = (name: unknown, type: unknown = 'double') => ({ name, type, required: true });
    const refused = (inputs: unknown) =>
      refusal(
        model(
          'column-signature',
          withInputs(typeof inputs === 'string' ? inputs : JSON.stringify(inputs)),
        ),
      );

    it('names the line of the inputs that cannot be used', () => {
      const error = refused('[{"name": "a", "type": "double"');
      expect(error.reason).toMatch(/^signature\.inputs: is not JSON: /);
      expect(error.line).toBe(lineOf(mlmodelText('column-signature'), '  inputs:'));
    });

    it.each([
      [
        'a JSON object',
        { name: 'a' },
        'signature.inputs: must be a JSON list of column or tensor specs',
      ],
      ['an empty list', [], 'signature.inputs: lists no inputs'],
      [
        'a spec that is a string',
        ['a'],
        'signature.inputs[0]: must be a JSON object: a column or tensor spec',
      ],
      [
        'a column without a name',
        [column('a'), { type: 'double' }],
        'signature.inputs[1]: has no name: Gatehouse binds each input column to a dataset column by its name',
      ],
      ['a name that is a number', [column(7)], 'signature.inputs[0].name: must be a string'],
      [
        'a column listed twice',
        [column('Duration'), column('Amount'), column('Duration')],
        'signature.inputs[2]: column "Duration" is listed twice (first at signature.inputs[0])',
      ],
      [
        'a blank name',
        [column('a'), column('   ')],
        'signature.inputs[1]: column "   ": must be a column name of 1 to 256 characters',
      ],
      [
        'a name of 257 characters',
        [column('x'.repeat(257))],
        `signature.inputs[0]: column "${'x'.repeat(80)}…": must be a column name of 1 to 256 characters`,
      ],
      [
        'a name with NUL',
        [column('a\u0000b')],
        'signature.inputs[0].name: contains NUL (U+0000), which no text may hold here',
      ],
      [
        'a name with an unpaired surrogate',
        [column('a\ud800')],
        'signature.inputs[0].name: contains an unpaired UTF-16 surrogate, which is not Unicode text',
      ],
      [
        'a column without a type',
        [{ name: 'a' }],
        'signature.inputs[0].type: column "a" has no type',
      ],
      [
        'a type MLflow does not have',
        [column('a', 'decimal')],
        'signature.inputs[0].type: column "a" has type "decimal", which is not an MLflow column type (boolean, integer, long, float, double, string, binary, datetime)',
      ],
      [
        'a string column',
        [column('a'), column('purpose', 'string')],
        'signature.inputs[1].type: column "purpose" is string: Gatehouse feeds the model a float matrix, so every column must be numeric (integer, long, float, double)',
      ],
      ['a boolean column', [column('foreign', 'boolean')], /column "foreign" is boolean: /],
      [
        'an array column',
        [{ name: 'a', type: 'array', items: { type: 'double' } }],
        /column "a" is array: /,
      ],
      [
        'required that is not a boolean',
        [{ name: 'a', type: 'double', required: 'yes' }],
        'signature.inputs[0].required: column "a": must be true or false',
      ],
      [
        'tensor and column specs together',
        [column('a'), { type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 1] } }],
        'signature.inputs: mixes 1 tensor specs with 1 column specs; a signature is one or the other',
      ],
      [
        'two tensors',
        [
          { type: 'tensor', name: 'a', 'tensor-spec': { dtype: 'float32', shape: [-1, 3] } },
          { type: 'tensor', name: 'b', 'tensor-spec': { dtype: 'float32', shape: [-1, 2] } },
        ],
        'signature.inputs: has 2 tensor inputs; Gatehouse scores a model with one input, a float matrix [N, F]',
      ],
      [
        'a tensor without its spec',
        [{ type: 'tensor', name: 'x' }],
        'signature.inputs[0]["tensor-spec"]: must be an object with dtype and shape',
      ],
      [
        'a tensor with a dtype that is no name',
        [{ type: 'tensor', 'tensor-spec': { dtype: 'float 32', shape: [-1, 3] } }],
        'signature.inputs[0]["tensor-spec"].dtype: must be a NumPy dtype name such as float32',
      ],
      [
        'a tensor with a shape that is no shape',
        [{ type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 2.5] } }],
        'signature.inputs[0]["tensor-spec"].shape: must be a list of dimensions, each a size or -1 for a free one',
      ],
    ])('refuses %s', (_, inputs, reason) => {
      const error = refused(inputs);
      if (typeof reason === 'string') expect(error.reason).toBe(reason);
      else expect(error.reason).toMatch(reason);
    });

    it('takes an unnamed tensor, with no input name', () => {
      const read = readMlflowModel(
        model(
          'column-signature',
          withInputs(
            JSON.stringify([
              { type: 'tensor', 'tensor-spec': { dtype: 'float64', shape: [-1, 4] } },
            ]),
          ),
        ),
      );
      expect(read.inputs).toEqual({ kind: 'tensor', name: null, dtype: 'float64', shape: [-1, 4] });
      expect(read.inputName).toBeNull();
    });

    it('takes columns without required, as MLflow wrote them before it had one', () => {
      const read = readMlflowModel(
        model(
          'column-signature',
          withInputs(
            JSON.stringify([
              { name: 'b', type: 'long' },
              { name: 'a', type: 'float', required: false },
            ]),
          ),
        ),
      );
      expect(read.inputs).toEqual({
        kind: 'columns',
        columns: [
          { name: 'b', type: 'long', required: true },
          { name: 'a', type: 'float', required: false },
        ],
      });
      expect(read.featureColumns).toEqual(['b', 'a']);
    });
  });

  describe('hostile input', () => {
    /** Messages reach a terminal: no control character, no lone surrogate. */
    const printable = (error: MlflowModelError) => {
      expect(error.message).not.toMatch(/[\u0000-\u001f\u007f]/);
      expect(textFault(error.message)).toBeUndefined();
    };

    function outcome(dir: string): MlflowModelError | undefined {
      try {
        readMlflowModel(dir);
        return undefined;
      } catch (error) {
        if (error instanceof MlflowModelError) {
          printable(error);
          return error;
        }
        throw error;
      }
    }

    it('never throws anything but an MlflowModelError, whatever the signature inputs', () => {
      const dir = model('column-signature');
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ unit: 'binary', maxLength: 200 }),
            fc.json({ maxDepth: 4 }),
            fc.jsonValue().map((v) => JSON.stringify(v)),
          ),
          (inputs) => {
            writeFileSync(
              join(dir, 'MLmodel'),
              withInputs(inputs)(mlmodelText('column-signature')),
            );
            outcome(dir);
          },
        ),
        { numRuns: 400 },
      );
    });

    it('reads column names exactly when registerModelVersion would take them', () => {
      const dir = model('column-signature');
      const name = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 12 }),
        fc.constantFrom('Duration', 'a\u0000', '\udc00x', ' ', 'x'.repeat(257), '😀'),
      );
      fc.assert(
        fc.property(fc.array(name, { minLength: 1, maxLength: 6 }), (names) => {
          const inputs = JSON.stringify(names.map((n) => column(n)));
          writeFileSync(join(dir, 'MLmodel'), withInputs(inputs)(mlmodelText('column-signature')));
          const error = outcome(dir);
          const acceptable =
            names.every((n) => textFault(n) === undefined && n.trim() !== '' && n.length <= 256) &&
            new Set(names).size === names.length;
          if (acceptable) expect(readMlflowModel(dir).featureColumns).toEqual(names);
          else expect(error?.reason).toMatch(/^signature\.inputs\[\d+\]/);
        }),
        { numRuns: 400 },
      );
      function column(name: string) {
        return { name, type: 'double', required: true };
      }
    });

    it('never throws anything but an MlflowModelError, whatever the MLmodel holds', () => {
      const dir = model('column-signature');
      const text = mlmodelText('column-signature');
      fc.assert(
        fc.property(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.nat({ max: text.length }),
          (noise, at) => {
            for (const content of [noise, `${text.slice(0, at)}${noise}${text.slice(at)}`]) {
              writeFileSync(join(dir, 'MLmodel'), content);
              outcome(dir);
            }
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
