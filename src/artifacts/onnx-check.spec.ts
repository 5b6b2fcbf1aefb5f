import { describe, expect, it } from '@jest/globals';
import {
  buildModel,
  encodeModel,
  floatTensor,
  node,
  onnx,
  valueInfo,
  type GraphProto,
  type ModelProto,
} from '../model-builder/onnx-writer.js';
import { BadInputError } from '../common/errors.js';
import { inspectArtifact } from './artifact-inspection.js';
import { checkOnnxModel, onnxRuntimeReason } from './onnx-check.js';

/** y = x · w + b: input `x` float [N, 3], output `y` float [N, 1]. */
function linearGraph(): GraphProto {
  return {
    name: 'linear',
    node: [node('MatMul', ['x', 'w'], ['xw']), node('Add', ['xw', 'b'], ['y'])],
    input: [valueInfo('x', 'float32', ['N', 3])],
    output: [valueInfo('y', 'float32', ['N', 1])],
    initializer: [floatTensor('w', [3, 1], [1, 2, 3]), floatTensor('b', [1], [0.5])],
  };
}

function edited(edit: (model: ModelProto) => void): Uint8Array {
  const model = buildModel(linearGraph());
  edit(model);
  return encodeModel(model);
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BadInputError);
    expect((error as BadInputError).field).toBe('artifact');
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

async function asyncRefusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(BadInputError);
    expect((error as BadInputError).field).toBe('artifact');
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('checkOnnxModel', () => {
  it('reads the IR version and the opsets, the default domain named ai.onnx', () => {
    expect(checkOnnxModel(encodeModel(linearGraph()))).toEqual({
      irVersion: 10,
      opsets: { 'ai.onnx': 17 },
    });
    const ml = edited((m) => {
      m.opsetImport = [
        { domain: 'ai.onnx', version: 21 },
        { domain: 'ai.onnx.ml', version: 5 },
      ];
    });
    expect(checkOnnxModel(ml).opsets).toEqual({ 'ai.onnx': 21, 'ai.onnx.ml': 5 });
  });

  it('refuses empty, random and truncated bytes with a reason, not a protobuf message', () => {
    expect(refusal(() => checkOnnxModel(new Uint8Array()))).toMatch(/is empty/);
    const random = new Uint8Array(4096);
    let seed = 7;
    for (let i = 0; i < random.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      random[i] = seed >>> 24;
    }
    expect(refusal(() => checkOnnxModel(random))).toMatch(/not (an|a complete) ONNX model/);
    const bytes = encodeModel(linearGraph());
    const truncated = refusal(() => checkOnnxModel(bytes.subarray(0, bytes.length - 7)));
    expect(truncated).toMatch(/not a complete ONNX model: the file ends in the middle/);
    expect(truncated).not.toMatch(/index out of range|wire type/);
  });

  it('refuses a model without IR version or graph', () => {
    expect(refusal(() => checkOnnxModel(edited((m) => (m.irVersion = 0))))).toMatch(
      /has no IR version/,
    );
    expect(refusal(() => checkOnnxModel(edited((m) => (m.graph = null))))).toMatch(/has no graph/);
  });

  it('refuses IR versions and opsets outside what ONNX Runtime supports', () => {
    expect(refusal(() => checkOnnxModel(edited((m) => (m.irVersion = 14))))).toMatch(
      /IR version 14; .* IR versions 3 to 13/,
    );
    const tooNew = edited((m) => (m.opsetImport = [{ domain: '', version: 99 }]));
    expect(refusal(() => checkOnnxModel(tooNew))).toMatch(
      /uses ai\.onnx opset 99; .* supports ai\.onnx opsets 7 to 26/,
    );
    const tooOld = edited((m) => (m.opsetImport = [{ domain: '', version: 6 }]));
    expect(refusal(() => checkOnnxModel(tooOld))).toMatch(/ai\.onnx opset 6/);
    const ml = edited((m) => m.opsetImport.push({ domain: 'ai.onnx.ml', version: 6 }));
    expect(refusal(() => checkOnnxModel(ml))).toMatch(/ai\.onnx\.ml opset 6; .* 1 to 5/);
  });

  it('refuses other domains, duplicate imports and a missing default domain', () => {
    const custom = edited((m) => m.opsetImport.push({ domain: 'com.microsoft', version: 1 }));
    expect(refusal(() => checkOnnxModel(custom))).toMatch(
      /domain "com\.microsoft"; only ai\.onnx and ai\.onnx\.ml are accepted/,
    );
    const twice = edited((m) => m.opsetImport.push({ domain: 'ai.onnx', version: 17 }));
    expect(refusal(() => checkOnnxModel(twice))).toMatch(
      /imports operator set domain ai\.onnx twice/,
    );
    const none = edited((m) => (m.opsetImport = []));
    expect(refusal(() => checkOnnxModel(none))).toMatch(/imports no ai\.onnx operator set/);
  });

  it("accepts a domain of the model's own functions, which ONNX Runtime inlines", async () => {
    const withFunction = edited((m) => {
      m.opsetImport.push({ domain: 'local.fns', version: 1 });
      m.graph?.node?.push(node('Twice', ['y'], ['y2'], { domain: 'local.fns' }));
      m.graph?.output?.push(valueInfo('y2', 'float32', ['N', 1]));
      m.functions = [
        onnx.FunctionProto.create({
          name: 'Twice',
          domain: 'local.fns',
          input: ['a'],
          output: ['b'],
          node: [node('Add', ['a', 'a'], ['b'])],
          opsetImport: [{ domain: '', version: 17 }],
        }),
      ];
    });
    expect(checkOnnxModel(withFunction).opsets).toEqual({ 'ai.onnx': 17, 'local.fns': 1 });
    expect((await inspectArtifact(withFunction)).outputs.map((o) => o.name)).toEqual(['y', 'y2']);
  });

  it('refuses tensors kept in external files', () => {
    const external = edited((m) => {
      const w = m.graph?.initializer?.[0];
      if (!w) throw new Error('no initializer');
      w.rawData = null;
      w.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      w.externalData = [{ key: 'location', value: '../../etc/passwd' }];
    });
    expect(refusal(() => checkOnnxModel(external))).toMatch(
      /keeps tensor "w" in an external data file/,
    );
  });
});

describe('inspectArtifact', () => {
  it("reads the signature from ONNX Runtime's session", async () => {
    const inspected = await inspectArtifact(encodeModel(linearGraph()));
    expect(inspected.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 3] }]);
    expect(inspected.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [-1, 1] }]);
    expect(inspected.opsets).toEqual({ 'ai.onnx': 17 });
  });

  it("refuses a graph ONNX Runtime cannot load, with the runtime's reason and no C++ noise", async () => {
    const unknownOp = encodeModel({
      ...linearGraph(),
      node: [node('NoSuchOperator', ['x'], ['y'])],
    });
    const reason = await asyncRefusal(() => inspectArtifact(unknownOp));
    expect(reason).toMatch(
      /^artifact: ONNX Runtime cannot load the model: This is an invalid model.*No Op registered for NoSuchOperator/,
    );
    expect(reason).not.toMatch(/onnxruntime_src|\.cc:\d+|onnxruntime::/);
  });
});

describe('onnxRuntimeReason', () => {
  it('drops the source location and C++ signature', () => {
    expect(
      onnxRuntimeReason(
        '/onnxruntime_src/onnxruntime/core/graph/model.cc:202 onnxruntime::Model::Model(onnx::ModelProto&&, const onnxruntime::PathString&, const onnxruntime::logging::Logger&) Unsupported model IR version: 14, max supported IR version: 13',
      ),
    ).toBe('Unsupported model IR version: 14, max supported IR version: 13');
    expect(
      onnxRuntimeReason('[ONNXRuntimeError] : 10 : INVALID_GRAPH : This is an invalid model'),
    ).toBe('This is an invalid model');
    expect(onnxRuntimeReason('Error: This is an invalid model. No Op registered for X')).toBe(
      'This is an invalid model. No Op registered for X',
    );
    expect(onnxRuntimeReason('plain words')).toBe('plain words');
  });
});
