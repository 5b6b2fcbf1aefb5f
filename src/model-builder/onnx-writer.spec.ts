import { describe, expect, it } from '@jest/globals';
import { createSession, ort } from '../../test/support/onnx-scoring.js';
import {
  attr,
  BATCH_DIM,
  decodeModel,
  encodeModel,
  floatTensor,
  GraphBuilder,
  int64Tensor,
  IR_VERSION,
  ML_DOMAIN,
  onnx,
  PRODUCER_NAME,
} from './onnx-writer.js';

/** y = Reshape(2 · x · w + b, [-1]) then LabelEncoder (ML) mapping 0 → 10 when `ml`. */
function smallGraph(ml: boolean): GraphBuilder {
  const g = new GraphBuilder('small', 'a test graph');
  const x = g.input('x', 'float32', [BATCH_DIM, 3]);
  g.output('y', 'float32', [BATCH_DIM]);
  const w = g.float('w', [3, 1], [1, 2, 3]);
  const b = g.float('b', [1], [0.5]);
  const gemm = g.op('Gemm', [x, w, b], {
    attributes: [attr.float('alpha', 2), attr.int('transB', 0)],
  });
  const shape = g.op('Constant', [], {
    prefix: 'shape',
    attributes: [attr.tensor('value', int64Tensor('shape_value', [1], [-1]))],
  });
  if (!ml) {
    g.op('Reshape', [gemm, shape], { output: 'y' });
    return g;
  }
  const flat = g.op('Reshape', [gemm, shape]);
  g.op('LabelEncoder', [flat], {
    output: 'y',
    domain: ML_DOMAIN,
    attributes: [
      attr.floats('keys_floats', [0.5]),
      attr.floats('values_floats', [10]),
      attr.float('default_float', -1),
    ],
  });
  return g;
}

describe('onnx-writer', () => {
  it('writes a model ONNX Runtime runs, with a symbolic batch dimension', async () => {
    const bytes = encodeModel(smallGraph(false).build());
    const session = await createSession(bytes);
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    expect(session.inputMetadata[0]).toMatchObject({ name: 'x', type: 'float32', shape: ['N', 3] });
    const x = new ort.Tensor('float32', Float32Array.from([1, 0, 0, 0, 1, 1]), [2, 3]);
    const { y } = await session.run({ x });
    expect(y?.dims).toEqual([2]);
    expect(Array.from(y?.data as Float32Array)).toEqual([2 * 1 + 0.5, 2 * 5 + 0.5]);
  });

  it('fills in IR version, producer and the opsets the graph needs', () => {
    const plain = decodeModel(encodeModel(smallGraph(false).build()));
    expect(Number(plain.irVersion)).toBe(IR_VERSION);
    expect(plain.producerName).toBe(PRODUCER_NAME);
    expect(plain.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    const ml = decodeModel(encodeModel(smallGraph(true).build()));
    expect(ml.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([
      ['', 17],
      [ML_DOMAIN, 3],
    ]);
  });

  it('encodes ai.onnx.ml nodes with float attributes that ONNX Runtime honours', async () => {
    const session = await createSession(encodeModel(smallGraph(true).build()));
    // Gemm gives 2·0 + 0.5 = 0.5 (mapped to 10) and 2·1 + 0.5 = 2.5 (unmapped: -1).
    const x = new ort.Tensor('float32', Float32Array.from([0, 0, 0, 1, 0, 0]), [2, 3]);
    const { y } = await session.run({ x });
    expect(Array.from(y?.data as Float32Array)).toEqual([10, -1]);
  });

  it('round-trips every attribute type and the metadata', () => {
    const g = new GraphBuilder('attrs');
    g.input('x', 'float32', [BATCH_DIM, 1]);
    g.output('x', 'float32', [BATCH_DIM, 1]);
    const inner = new GraphBuilder('inner').build();
    g.opMulti('Custom', ['x'], ['unused'], {
      attributes: [
        attr.int('i', 3),
        attr.float('f', 0.25),
        attr.string('s', 'BRANCH_LEQ'),
        attr.ints('is', [1, 2]),
        attr.floats('fs', [0.5, 1.5]),
        attr.strings('ss', ['a', 'b']),
        attr.tensor('t', floatTensor('t', [2], [1, 2])),
        attr.graph('g', inner),
      ],
    });
    const model = decodeModel(
      encodeModel(g.build(), { docString: 'doc', metadata: { b: '2', a: '1' } }),
    );
    const [a1, a2, a3, a4, a5, a6, a7, a8] = model.graph!.node![0]!.attribute!;
    const text = (bytes: Uint8Array | null | undefined): string => new TextDecoder().decode(bytes);
    expect(Number(a1!.i)).toBe(3);
    expect(a2!.f).toBe(0.25);
    expect(text(a3!.s)).toBe('BRANCH_LEQ');
    expect(a4!.ints!.map(Number)).toEqual([1, 2]);
    expect(a5!.floats).toEqual([0.5, 1.5]);
    expect(a6!.strings!.map(text)).toEqual(['a', 'b']);
    expect(a7!.t!.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(a8!.g!.name).toBe('inner');
    expect(a8!.type).toBe(onnx.AttributeProto.AttributeType.GRAPH);
    expect(model.docString).toBe('doc');
    expect(model.metadataProps.map((p) => [p.key, p.value])).toEqual([
      ['b', '2'],
      ['a', '1'],
    ]);
  });

  it('stores tensors little-endian in raw_data and checks their size', () => {
    const f = floatTensor('f', [2], [1, -2]);
    expect(Array.from(new Float32Array(new Uint8Array(f.rawData!).buffer))).toEqual([1, -2]);
    const i = int64Tensor('i', [2], [3, -4]);
    expect(Array.from(new BigInt64Array(new Uint8Array(i.rawData!).buffer))).toEqual([3n, -4n]);
    expect(() => floatTensor('bad', [2, 2], [1, 2, 3])).toThrow('needs 4 values, got 3');
  });

  it('refuses a name used twice and encodes deterministically', () => {
    const g = new GraphBuilder('dup');
    g.input('x', 'float32', [1]);
    expect(() => g.op('Relu', ['x'], { output: 'x' })).toThrow('name x is already used');
    expect(g.float('w', [1], [1])).toBe('w');
    expect(g.float('w', [1], [2])).toBe('w_1');
    expect(encodeModel(smallGraph(true).build())).toEqual(encodeModel(smallGraph(true).build()));
  });
});
