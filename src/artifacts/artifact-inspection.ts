import { BadInputError } from '../common/errors.js';
import { ort, SESSION_OPTIONS, signatureOf, type InferenceSession } from '../runtime/ort.js';
import type { TensorSpec } from '../runtime/tensor-spec.js';
import { checkOnnxModel, onnxRuntimeReason, type OnnxModelFacts } from './onnx-check.js';

export interface InspectedArtifact extends OnnxModelFacts {
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];
}

/**
 * Everything an upload must pass before its bytes are kept: the protobuf checks of
 * `checkOnnxModel`, then ONNX Runtime itself loading the model (graph, operators, types and
 * shapes as the runtime that will serve it sees them). The signature is read from that
 * session, so what the registry binds columns to is what inference will be given.
 */
export async function inspectArtifact(bytes: Uint8Array): Promise<InspectedArtifact> {
  const facts = checkOnnxModel(bytes);
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  } catch (error) {
    throw new BadInputError(
      'artifact',
      `ONNX Runtime cannot load the model: ${onnxRuntimeReason(error instanceof Error ? error.message : String(error))}`,
    );
  }
  try {
    const inputs = signatureOf(session.inputMetadata);
    const outputs = signatureOf(session.outputMetadata);
    if (outputs.length === 0) throw new BadInputError('artifact', 'the model has no outputs');
    return { ...facts, inputs, outputs };
  } finally {
    await session.release();
  }
}
