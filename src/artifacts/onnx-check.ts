import onnxProto from 'onnx-proto';
import { BadInputError } from '../common/errors.js';

const { onnx } = onnxProto;
type IGraphProto = onnxProto.onnx.IGraphProto;
type INodeProto = onnxProto.onnx.INodeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type ISparseTensorProto = onnxProto.onnx.ISparseTensorProto;
type IOperatorSetIdProto = onnxProto.onnx.IOperatorSetIdProto;

export const DEFAULT_DOMAIN = 'ai.onnx';
export const ML_DOMAIN = 'ai.onnx.ml';

export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

/**
 * What the bundled ONNX Runtime (onnxruntime-node 1.30) loads, as its own load errors state:
 * "Unsupported model IR version: 14, max supported IR version: 13"; "Current official support
 * for domain ai.onnx is till opset 26"; "… ai.onnx.ml is till opset 5". Below opset 7 it only
 * warns that support is not guaranteed (its versioning policy goes back to opset 7), so older
 * models are refused here rather than served on legacy luck. IR versions before 3 have no
 * opset imports at all. Update these when onnxruntime-node is upgraded.
 */
export const SUPPORTED = {
  irVersion: { min: 3, max: 13 },
  opsets: {
    [DEFAULT_DOMAIN]: { min: 7, max: 26 },
    [ML_DOMAIN]: { min: 1, max: 5 },
  } as Readonly<Record<string, VersionRange>>,
} as const;

/** What was learned from the protobuf itself, before ONNX Runtime sees it. */
export interface OnnxModelFacts {
  readonly irVersion: number;
  /** Operator set per domain, the default domain named `ai.onnx`: `{"ai.onnx": 17, …}`. */
  readonly opsets: Record<string, number>;
}

const FIELD = 'artifact';

function refuse(reason: string): never {
  throw new BadInputError(FIELD, reason);
}

/**
 * Decodes the bytes as an ONNX ModelProto and checks what ONNX Runtime would otherwise refuse
 * with a C++ stack or, worse, accept on the strength of undefined behaviour: the IR version,
 * a graph, the operator sets it imports, and no tensor stored outside the file (an upload is
 * one self-contained file; external data would make ONNX Runtime open paths named by it).
 * Every refusal is a BadInputError on field `artifact` with a reason a person can act on.
 */
export function checkOnnxModel(bytes: Uint8Array): OnnxModelFacts {
  if (bytes.length === 0) refuse('is empty: send the bytes of an ONNX model');
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    refuse(decodeFailureReason(error));
  }

  const irVersion = toNumber(model.irVersion);
  if (irVersion <= 0)
    refuse('is not an ONNX model: it has no IR version (the file is not an ONNX ModelProto)');
  const ir = SUPPORTED.irVersion;
  if (irVersion < ir.min || irVersion > ir.max)
    refuse(
      `uses ONNX IR version ${irVersion}; the ONNX Runtime of this service reads IR versions ${ir.min} to ${ir.max}`,
    );
  if (!model.graph) refuse('is not a usable ONNX model: it has no graph');

  const localFunctionDomains = new Set(
    model.functions.map((f) => f.domain ?? '').filter((d) => d !== ''),
  );
  const opsets = checkOpsets(model.opsetImport, localFunctionDomains, 'the model');
  for (const fn of model.functions) {
    checkOpsets(fn.opsetImport ?? [], localFunctionDomains, `function ${fn.name ?? '(unnamed)'}`);
  }

  const external = firstExternalTensor(model.graph, model.functions);
  if (external !== undefined)
    refuse(
      `keeps tensor ${JSON.stringify(external)} in an external data file; upload a self-contained model (save it without external data)`,
    );
  return { irVersion, opsets };
}

/**
 * The default domain at an opset ONNX Runtime supports, ai.onnx.ml within its range, and no
 * other domain: custom operators would need code this service does not load. The one
 * exception is a domain whose functions the model defines itself (exporters such as PyTorch's
 * put local functions in a domain of their own); ONNX Runtime inlines those.
 */
function checkOpsets(
  imports: readonly IOperatorSetIdProto[],
  localFunctionDomains: ReadonlySet<string>,
  where: string,
): Record<string, number> {
  const opsets: Record<string, number> = {};
  for (const entry of imports) {
    const raw = entry.domain ?? '';
    const domain = raw === '' ? DEFAULT_DOMAIN : raw;
    const version = toNumber(entry.version ?? 0);
    if (Object.hasOwn(opsets, domain))
      refuse(`${where} imports operator set domain ${domain} twice`);
    if (localFunctionDomains.has(domain)) {
      opsets[domain] = version;
      continue;
    }
    const range = SUPPORTED.opsets[domain];
    if (range === undefined)
      refuse(
        `${where} imports operator set domain ${JSON.stringify(domain)}; only ${DEFAULT_DOMAIN} and ${ML_DOMAIN} are accepted (custom operators cannot run here)`,
      );
    if (!Number.isInteger(version) || version < range.min || version > range.max)
      refuse(
        `${where} uses ${domain} opset ${version}; the ONNX Runtime of this service supports ${domain} opsets ${range.min} to ${range.max}`,
      );
    opsets[domain] = version;
  }
  if (!Object.hasOwn(opsets, DEFAULT_DOMAIN) && where === 'the model')
    refuse(`the model imports no ${DEFAULT_DOMAIN} operator set (opset_import is missing)`);
  return opsets;
}

/** The name of the first tensor, anywhere in the model, whose data lives in another file. */
function firstExternalTensor(
  graph: IGraphProto,
  functions: readonly { node?: INodeProto[] | null }[],
): string | undefined {
  const isExternal = (t: ITensorProto | null | undefined): boolean =>
    t !== null &&
    t !== undefined &&
    (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL ||
      (t.externalData?.length ?? 0) > 0);
  const sparseExternal = (s: ISparseTensorProto | null | undefined): ITensorProto | undefined =>
    [s?.values, s?.indices].find(isExternal) ?? undefined;

  const inNodes = (nodes: readonly INodeProto[] | null | undefined): string | undefined => {
    for (const node of nodes ?? []) {
      for (const a of node.attribute ?? []) {
        const tensor = [a.t, ...(a.tensors ?? [])].find(isExternal);
        if (tensor) return tensor.name ?? a.name ?? '(unnamed)';
        const sparse = [a.sparseTensor, ...(a.sparseTensors ?? [])]
          .map(sparseExternal)
          .find((t) => t !== undefined);
        if (sparse) return sparse.name ?? a.name ?? '(unnamed)';
        for (const sub of [a.g, ...(a.graphs ?? [])]) {
          const found = sub ? inGraph(sub) : undefined;
          if (found !== undefined) return found;
        }
      }
    }
    return undefined;
  };
  const inGraph = (g: IGraphProto): string | undefined => {
    const tensor = (g.initializer ?? []).find(isExternal);
    if (tensor) return tensor.name ?? '(unnamed)';
    const sparse = (g.sparseInitializer ?? []).map(sparseExternal).find((t) => t !== undefined);
    if (sparse) return sparse.name ?? '(unnamed)';
    return inNodes(g.node);
  };
  return inGraph(graph) ?? functions.map((f) => inNodes(f.node)).find((n) => n !== undefined);
}

/**
 * protobufjs says "index out of range: 812 + 4096 > 1500" for a file that stops in the middle
 * of a field and "invalid wire type 6 at offset 3" for bytes that are not protobuf at all:
 * neither means anything to the person uploading.
 */
function decodeFailureReason(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/index out of range/i.test(message))
    return 'is not a complete ONNX model: the file ends in the middle of its data (truncated upload, or not an ONNX file)';
  return 'is not an ONNX model: the bytes do not decode as an ONNX ModelProto';
}

/** int64 fields decode as Long objects (protobufjs with the long package) or numbers. */
function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'object' && value !== null && 'toNumber' in value) {
    const toNumber = (value as { toNumber: () => number }).toNumber;
    return toNumber.call(value);
  }
  return 0;
}

/**
 * ONNX Runtime's load errors start with the C++ source location and signature
 * ("/onnxruntime_src/…/model.cc:202 onnxruntime::Model::Model(…) Unsupported model IR
 * version…"): the part after them is the reason.
 */
export function onnxRuntimeReason(message: string): string {
  let text = message.trim();
  const location = /^\S+\.(?:cc|h|cpp|hpp):\d+\s+/.exec(text);
  if (location) {
    text = text.slice(location[0].length);
    const open = text.indexOf('(');
    if (open >= 0) {
      let depth = 0;
      for (let i = open; i < text.length; i++) {
        if (text[i] === '(') depth++;
        else if (text[i] === ')' && --depth === 0) {
          text = text.slice(i + 1).replace(/^\s*const\b/, '');
          break;
        }
      }
    }
  }
  text = text
    .replace(/^\s*\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/, '')
    .replace(/^\s*Error:\s*/, '')
    .trim();
  return text === '' ? 'no reason given' : text;
}
