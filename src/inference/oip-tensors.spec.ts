import { describe, expect, it } from '@jest/globals';
import { BadInputError } from '../common/errors.js';
import {
  checkTensors,
  NonFiniteOutputError,
  presentOutputs,
  readEnvelope,
  type ModelSignature,
  type RawTensor,
} from './oip-tensors.js';

const credit: ModelSignature = {
  inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 3] }],
  outputs: [
    { name: 'score', datatype: 'FP32', shape: [-1, 1] },
    { name: 'label', datatype: 'INT64', shape: [-1] },
  ],
};

function check(body: unknown, signature: ModelSignature = credit, maxRows = 4) {
  return checkTensors(readEnvelope(body), signature, maxRows);
}

function refusal(body: unknown, signature: ModelSignature = credit, maxRows = 4): BadInputError {
  try {
    check(body, signature, maxRows);
  } catch (error) {
    if (error instanceof BadInputError) return error;
    throw error;
  }
  throw new Error('the request was accepted');
}

const features = (data: unknown, shape: unknown = [1, 3], datatype = 'FP32') => ({
  inputs: [{ name: 'features', datatype, shape, data }],
});

describe('readEnvelope', () => {
  it('reads the id and the routing key parameter', () => {
    const e = readEnvelope({ id: 'r1', parameters: { routing_key: 'cust-9' }, inputs: [{}] });
    expect(e.id).toBe('r1');
    expect(e.routingKey).toBe('cust-9');
  });

  it.each([
    [null, 'body'],
    [[], 'body'],
    [{}, 'inputs'],
    [{ inputs: [] }, 'inputs'],
    [{ inputs: [{}], id: 5 }, 'id'],
    [{ inputs: [{}], id: 'x'.repeat(257) }, 'id'],
    [{ inputs: [{}], parameters: [] }, 'parameters'],
    [{ inputs: [{}], parameters: { routing_key: 3 } }, 'parameters.routing_key'],
    [{ inputs: [{}], outputs: {} }, 'outputs'],
  ])('refuses %j naming %s', (body, field) => {
    expect(() => readEnvelope(body)).toThrow(BadInputError);
    try {
      readEnvelope(body);
    } catch (error) {
      expect((error as BadInputError).field).toBe(field);
    }
  });
});

describe('checkTensors', () => {
  it('accepts flat row-major data and fills a Float32Array', () => {
    const r = check(features([1, 2, 3, 4, 5, 6], [2, 3]));
    expect(r.rows).toBe(2);
    const [input] = r.inputs;
    expect(input?.data).toEqual(new Float32Array([1, 2, 3, 4, 5, 6]));
    expect(input?.values).toEqual([1, 2, 3, 4, 5, 6]);
    expect(input?.shape).toEqual([2, 3]);
    expect(r.outputs).toBeUndefined();
  });

  it('accepts nested data that follows the shape', () => {
    const r = check(
      features(
        [
          [1, 2, 3],
          [4, 5, 6.5],
        ],
        [2, 3],
      ),
    );
    expect(r.inputs[0]?.values).toEqual([1, 2, 3, 4, 5, 6.5]);
    expect(Array.from(r.inputs[0]?.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6.5]);
  });

  it('fills each datatype with its own typed array', () => {
    const sig = (datatype: string): ModelSignature => ({
      inputs: [{ name: 'x', datatype, shape: [-1, 2] }],
      outputs: [],
    });
    const one = (datatype: string, data: unknown[]) =>
      check({ inputs: [{ name: 'x', datatype, shape: [1, 2], data }] }, sig(datatype)).inputs[0]
        ?.data;
    expect(one('FP64', [0.1, 2])).toEqual(new Float64Array([0.1, 2]));
    expect(one('INT32', [-5, 7])).toEqual(new Int32Array([-5, 7]));
    expect(one('INT64', [-5, 2 ** 40])).toEqual(new BigInt64Array([-5n, 2n ** 40n]));
    expect(one('BOOL', [true, false])).toEqual(new Uint8Array([1, 0]));
  });

  it.each([
    [
      'an unknown input',
      { inputs: [{ name: 'feature', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] },
      'inputs[0].name',
      /unknown input "feature".*"features"/,
    ],
    [
      'a wrong datatype',
      features([1, 2, 3], [1, 3], 'FP64'),
      'inputs[0].datatype',
      /"features" is FP32, got FP64/,
    ],
    [
      'a wrong width in the shape',
      features([1, 2], [1, 2]),
      'inputs[0].shape',
      /expected 3 values per row, got 2/,
    ],
    [
      'a wrong rank',
      features([1, 2, 3], [3]),
      'inputs[0].shape',
      /shape \[N, 3\] \(rank 2\), got \[3\]/,
    ],
    [
      'a data length that does not fit the shape',
      features([1, 2, 3, 4], [2, 3]),
      'inputs[0].data',
      /expected 6 values \(3 values per row\), got 4/,
    ],
    [
      'a short nested row',
      features(
        [
          [1, 2, 3],
          [4, 5],
        ],
        [2, 3],
      ),
      'inputs[0].data[1]',
      /expected 3 values per row, got 2/,
    ],
    [
      'a non-numeric value',
      features([1, 'two', 3]),
      'inputs[0].data',
      /"features" value 1 \(row 0, column 1\) must be a finite number within the float32 range, got the string "two"/,
    ],
    [
      'a null value',
      features([1, null, 3]),
      'inputs[0].data',
      /must be a finite number within the float32 range, got null/,
    ],
    [
      'too many rows',
      features(new Array(15).fill(0), [5, 3]),
      'inputs[0].shape',
      /too many rows for input "features": 5, at most 4 per request/,
    ],
    ['zero rows', features([], [0, 3]), 'inputs[0].shape', /at least one row/],
    [
      'a negative dimension',
      features([1, 2, 3], [-1, 3]),
      'inputs[0].shape',
      /non-negative integers/,
    ],
    [
      'a missing datatype',
      { inputs: [{ name: 'features', shape: [1, 3], data: [1, 2, 3] }] },
      'inputs[0].datatype',
      /needs a datatype \(FP32\)/,
    ],
    ['data that is not an array', features('1,2,3'), 'inputs[0].data', /as an array/],
    [
      'a value that parsed to Infinity (1e400)',
      features([1, Number.POSITIVE_INFINITY, 3]),
      'inputs[0].data',
      /value 1 \(row 0, column 1\) must be a finite number within the float32 range, got number Infinity/,
    ],
    [
      'a finite value beyond float32',
      features([1, 2, -3.5e38]),
      'inputs[0].data',
      /value 2 \(row 0, column 2\) must be a finite number within the float32 range, got number -3\.5e\+38/,
    ],
    [
      'an input given twice',
      { inputs: [features([1, 2, 3]).inputs[0], features([1, 2, 3]).inputs[0]] },
      'inputs[1].name',
      /given twice/,
    ],
    [
      'an unknown output',
      { ...features([1, 2, 3]), outputs: [{ name: 'prob' }] },
      'outputs[0].name',
      /unknown output "prob"/,
    ],
  ])('refuses %s', (_what, body, field, message) => {
    const error = refusal(body);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('refuses non-integers, out-of-range integers and non-booleans by datatype', () => {
    const sig = (datatype: string): ModelSignature => ({
      inputs: [{ name: 'x', datatype, shape: [-1, 1] }],
      outputs: [],
    });
    const body = (datatype: string, v: unknown) => ({
      inputs: [{ name: 'x', datatype, shape: [1, 1], data: [v] }],
    });
    expect(refusal(body('INT32', 1.5), sig('INT32')).message).toMatch(/32-bit integer/);
    expect(refusal(body('INT32', 2 ** 31), sig('INT32')).message).toMatch(/32-bit integer/);
    expect(refusal(body('INT64', 2 ** 60), sig('INT64')).message).toMatch(/2\^53/);
    expect(refusal(body('BOOL', 1), sig('BOOL')).message).toMatch(/true or false/);
  });

  it('refuses a datatype JSON cannot carry', () => {
    const sig: ModelSignature = {
      inputs: [{ name: 's', datatype: 'BYTES', shape: [-1] }],
      outputs: [],
    };
    const error = refusal(
      { inputs: [{ name: 's', datatype: 'BYTES', shape: [1], data: ['a'] }] },
      sig,
    );
    expect(error.message).toMatch(/cannot carry/);
  });

  it('names a missing input and checks that inputs agree on rows', () => {
    const two: ModelSignature = {
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [-1, 1] },
        { name: 'b', datatype: 'FP32', shape: [-1, 1] },
      ],
      outputs: [],
    };
    const a = { name: 'a', datatype: 'FP32', shape: [2, 1], data: [1, 2] };
    expect(refusal({ inputs: [a] }, two).message).toMatch(/missing input "b"/);
    const b = { name: 'b', datatype: 'FP32', shape: [1, 1], data: [1] };
    const error = refusal({ inputs: [a, b] }, two);
    expect(error.field).toBe('inputs[1].shape');
    expect(error.message).toMatch(/has 1 rows, the inputs before it have 2/);
  });

  it('keeps the outputs asked for, in order, once each', () => {
    const r = check({
      ...features([1, 2, 3]),
      outputs: [{ name: 'label' }, { name: 'score' }, { name: 'label' }],
    });
    expect(r.outputs).toEqual(['label', 'score']);
  });
});

describe('presentOutputs', () => {
  const raw = new Map<string, RawTensor>([
    ['score', { datatype: 'FP32', shape: [2, 1], data: new Float32Array([0.25, 0.75]) }],
    ['label', { datatype: 'INT64', shape: [2], data: new BigInt64Array([0n, 1n]) }],
    ['flag', { datatype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) }],
  ]);

  it('gives every output in the model order, data flat and JSON-ready', () => {
    const specs = [...credit.outputs, { name: 'flag', datatype: 'BOOL', shape: [-1] }];
    expect(presentOutputs(raw, specs, undefined)).toEqual([
      { name: 'score', datatype: 'FP32', shape: [2, 1], data: [0.25, 0.75] },
      { name: 'label', datatype: 'INT64', shape: [2], data: [0, 1] },
      { name: 'flag', datatype: 'BOOL', shape: [2], data: [true, false] },
    ]);
  });

  it('gives only the outputs asked for', () => {
    expect(presentOutputs(raw, credit.outputs, ['label']).map((o) => o.name)).toEqual(['label']);
  });

  it('refuses NaN and infinities, naming the output and position', () => {
    const nan = new Map<string, RawTensor>([
      ['score', { datatype: 'FP32', shape: [2, 1], data: new Float32Array([0.5, Number.NaN]) }],
    ]);
    expect(() => presentOutputs(nan, credit.outputs, ['score'])).toThrow(NonFiniteOutputError);
    expect(() => presentOutputs(nan, credit.outputs, ['score'])).toThrow(
      'output "score" value 1 is NaN',
    );
  });
});
