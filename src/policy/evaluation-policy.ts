import { z } from 'zod';

/** policies/evaluation.yaml: the rules evaluations are computed under (DESIGN §8). */
export const evaluationPolicySchema = z.strictObject({
  version: z.literal(1),
  fairness: z.strictObject({
    minGroupSize: z.int().min(1).max(1_000_000),
    disparateImpactThreshold: z.number().gt(0).max(1),
  }),
  bootstrap: z.strictObject({
    defaultResamples: z.int().min(10).max(10_000),
    confidenceLevel: z.number().gt(0.5).lt(1),
  }),
  drift: z.strictObject({
    bins: z.int().min(2).max(100),
  }),
});

export type EvaluationPolicy = z.infer<typeof evaluationPolicySchema>;
