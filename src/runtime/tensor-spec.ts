/** One tensor of a model's signature as ONNX Runtime reads it; `-1`/a name for free dims. */
export interface TensorSpec {
  readonly name: string;
  /** ONNX element type in KServe v2 spelling: FP32, FP64, INT32, INT64, BOOL, … */
  readonly datatype: string;
  /** Fixed sizes, or -1 for a dimension the model leaves free (batch, say). */
  readonly shape: number[];
}
