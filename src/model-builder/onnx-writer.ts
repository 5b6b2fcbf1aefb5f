import onnxProto from 'onnx-proto';

/**
 * Helpers to assemble ONNX models by hand: tensors, value infos, nodes with attributes, graphs
 * and the ModelProto around them, encoded with the protobufjs classes of `onnx-proto`.
 *
 * Every model gets IR version 10, the default domain (ai.onnx) at opset 17 and, when a node of
 * the graph or of a subgraph lives in it, ai.onnx.ml at opset 3. Nothing time- or
 * machine-dependent is written, so the same inputs always encode to the same bytes.
 */
export const { onnx } = onnxProto;
// The message types, as `onnx.ModelProto` etc. are both values and types in onnx-proto.
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

export const IR_VERSION = 10;
export const OPSET_ONNX = 17;
export const OPSET_ONNX_ML = 3;
export const ML_DOMAIN = 'ai.onnx.ml';
export const PRODUCER_NAME = 'gatehouse-model-builder';
export const PRODUCER_VERSION = '1';
/** The symbolic batch dimension of every input and output. */
export const BATCH_DIM = 'N';

export type ElementType = 'float32' | 'int64' | 'bool';
/** A dimension: a fixed size, or a symbolic name such as `N`. */
export type Dim = number | string;

const DATA_TYPES: Record<ElementType, onnxProto.onnx.TensorProto.DataType> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};
const AttributeType = onnx.AttributeProto.AttributeType;
const encoder = new TextEncoder();

function checkSize(name: string, dims: readonly number[], length: number): void {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== length) {
    throw new Error(
      `tensor ${name}: shape [${dims.join(', ')}] needs ${size} values, got ${length}`,
    );
  }
}

/** A float32 tensor (stored little-endian in raw_data). `dims` [] is a scalar. */
export function floatTensor(
  name: string,
  dims: readonly number[],
  values: ArrayLike<number>,
): TensorProto {
  checkSize(name, dims, values.length);
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] ?? 0, true);
  return { name, dims: [...dims], dataType: DATA_TYPES.float32, rawData: raw };
}

/** An int64 tensor (stored little-endian in raw_data). `dims` [] is a scalar. */
export function int64Tensor(
  name: string,
  dims: readonly number[],
  values: ArrayLike<number | bigint>,
): TensorProto {
  checkSize(name, dims, values.length);
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setBigInt64(i * 8, BigInt(values[i] ?? 0), true);
  return { name, dims: [...dims], dataType: DATA_TYPES.int64, rawData: raw };
}

/** A bool tensor (one byte per value in raw_data). */
export function boolTensor(
  name: string,
  dims: readonly number[],
  values: ArrayLike<boolean>,
): TensorProto {
  checkSize(name, dims, values.length);
  const raw = Uint8Array.from({ length: values.length }, (_, i) => (values[i] ? 1 : 0));
  return { name, dims: [...dims], dataType: DATA_TYPES.bool, rawData: raw };
}

/** A typed tensor value info; string dims are symbolic (e.g. `['N', 59]`). */
export function valueInfo(name: string, type: ElementType, dims: readonly Dim[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DATA_TYPES[type],
        shape: {
          dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })),
        },
      },
    },
  };
}

/** Node attributes, one constructor per attribute type. */
export const attr = {
  int: (name: string, value: number): AttributeProto => ({
    name,
    type: AttributeType.INT,
    i: value,
  }),
  float: (name: string, value: number): AttributeProto => ({
    name,
    type: AttributeType.FLOAT,
    f: value,
  }),
  string: (name: string, value: string): AttributeProto => ({
    name,
    type: AttributeType.STRING,
    s: encoder.encode(value),
  }),
  tensor: (name: string, value: TensorProto): AttributeProto => ({
    name,
    type: AttributeType.TENSOR,
    t: value,
  }),
  graph: (name: string, value: GraphProto): AttributeProto => ({
    name,
    type: AttributeType.GRAPH,
    g: value,
  }),
  ints: (name: string, values: readonly number[]): AttributeProto => ({
    name,
    type: AttributeType.INTS,
    ints: [...values],
  }),
  floats: (name: string, values: ArrayLike<number>): AttributeProto => ({
    name,
    type: AttributeType.FLOATS,
    floats: Array.from(values),
  }),
  strings: (name: string, values: readonly string[]): AttributeProto => ({
    name,
    type: AttributeType.STRINGS,
    strings: values.map((v) => encoder.encode(v)),
  }),
};

export interface NodeOptions {
  /** The node's name; defaults to its first output. */
  readonly name?: string;
  /** The operator's domain: '' (ai.onnx, the default) or `ai.onnx.ml`. */
  readonly domain?: string;
  readonly attributes?: readonly AttributeProto[];
}

export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  options: NodeOptions = {},
): NodeProto {
  return {
    opType,
    input: [...inputs],
    output: [...outputs],
    name: options.name ?? outputs[0] ?? opType,
    domain: options.domain ?? '',
    attribute: [...(options.attributes ?? [])],
  };
}

/**
 * Accumulates a graph: inputs, outputs, initializers and nodes, with generated names for
 * intermediate values (`<prefix>_<k>`), so model code reads as a sequence of operations.
 */
export class GraphBuilder {
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly nodes: NodeProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(
    readonly name: string,
    private readonly docString = '',
  ) {}

  input(name: string, type: ElementType, dims: readonly Dim[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares a graph output; a node must produce a value of that name (`op` with `output`). */
  output(name: string, type: ElementType, dims: readonly Dim[]): string {
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** A float32 initializer named `name` (or a fresh variant of it); returns its name. */
  float(name: string, dims: readonly number[], values: ArrayLike<number>): string {
    const tensor = floatTensor(this.fresh(name), dims, values);
    this.initializers.push(tensor);
    return tensor.name ?? name;
  }

  /** An int64 initializer named `name` (or a fresh variant of it); returns its name. */
  int64(name: string, dims: readonly number[], values: ArrayLike<number | bigint>): string {
    const tensor = int64Tensor(this.fresh(name), dims, values);
    this.initializers.push(tensor);
    return tensor.name ?? name;
  }

  /** Adds a prepared tensor as an initializer, under its own (unused) name. */
  initializer(tensor: TensorProto): string {
    const name = this.claim(tensor.name ?? '');
    this.initializers.push(tensor);
    return name;
  }

  /**
   * Adds a node with one output and returns the output's name: `output` exactly when given (e.g.
   * a graph output), else a fresh name starting with `prefix` (default: the operator's name).
   */
  op(
    opType: string,
    inputs: readonly string[],
    options: NodeOptions & { readonly output?: string; readonly prefix?: string } = {},
  ): string {
    const output =
      options.output === undefined
        ? this.fresh(options.prefix ?? opType.toLowerCase())
        : this.claim(options.output);
    this.nodes.push(node(opType, inputs, [output], options));
    return output;
  }

  /** Adds a node with several outputs, named exactly as given. */
  opMulti(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    options: NodeOptions = {},
  ): string[] {
    const names = outputs.map((o) => this.claim(o));
    this.nodes.push(node(opType, inputs, names, options));
    return names;
  }

  /**
   * Copies the nodes and initializers of another graph into this one, under their own names
   * (which must not be taken yet); returns nothing, the caller knows the names it needs.
   */
  absorb(graph: GraphProto): void {
    for (const tensor of graph.initializer ?? []) this.initializer(tensor);
    for (const n of graph.node ?? []) {
      for (const output of n.output ?? []) this.claim(output);
      this.nodes.push(n);
    }
  }

  build(): GraphProto {
    return {
      name: this.name,
      docString: this.docString,
      input: [...this.inputs],
      output: [...this.outputs],
      initializer: [...this.initializers],
      node: [...this.nodes],
    };
  }

  /** A new unique name starting with `prefix`. */
  fresh(prefix: string): string {
    let name = prefix;
    while (this.names.has(name)) name = `${prefix}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`graph ${this.name}: name ${name} is already used`);
    this.names.add(name);
    return name;
  }
}

export interface ModelOptions {
  readonly docString?: string;
  /** Written to metadata_props, in the given key order. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly modelVersion?: number;
}

function usesDomain(graph: GraphProto, domain: string): boolean {
  return (graph.node ?? []).some(
    (n) =>
      n.domain === domain ||
      (n.attribute ?? []).some((a) => a.g != null && usesDomain(a.g, domain)),
  );
}

export function buildModel(graph: GraphProto, options: ModelOptions = {}): ModelProto {
  const opsetImport = [{ domain: '', version: OPSET_ONNX }];
  if (usesDomain(graph, ML_DOMAIN)) opsetImport.push({ domain: ML_DOMAIN, version: OPSET_ONNX_ML });
  return onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport,
    producerName: PRODUCER_NAME,
    producerVersion: PRODUCER_VERSION,
    modelVersion: options.modelVersion ?? 1,
    docString: options.docString ?? '',
    graph,
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
}

/** Serializes a model (or a graph, wrapped by `buildModel`) to ONNX bytes. */
export function encodeModel(
  model: ModelProto | GraphProto,
  options: ModelOptions = {},
): Uint8Array {
  const proto = model instanceof onnx.ModelProto ? model : buildModel(model, options);
  return new Uint8Array(onnx.ModelProto.encode(proto).finish());
}

/** Decodes ONNX bytes (for tests and inspection). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}
