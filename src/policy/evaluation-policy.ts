import { z } from 'zod';

/**
 * How the live version's served traffic is compared with its evaluation's drift baseline
 * (src/drift). Absent from an older file: these defaults apply.
 */
export const DRIFT_MONITORING_DEFAULTS = {
  psiThreshold: 0.2,
  windowSeconds: 3600,
  minRows: 500,
  maxRows: 20_000,
  intervalSeconds: 60,
};

const driftMonitoringSchema = z
  .strictObject({
    /** PSI above this, for the score or any feature, opens a drift episode (drift.alert). */
    psiThreshold: z.number().gt(0).max(10),
    /** The sliding window of served traffic, ending now. */
    windowSeconds: z
      .int()
      .min(1)
      .max(30 * 86_400),
    /** Fewer predictions than this in the window: no judgement (PSI of a handful is noise). */
    minRows: z.int().min(1).max(1_000_000),
    /** The most recent this many predictions of the window are used. */
    maxRows: z.int().min(1).max(1_000_000),
    /** How often each replica checks; 0 turns the periodic check off. */
    intervalSeconds: z.int().min(0).max(86_400),
  })
  .refine((m) => m.minRows <= m.maxRows, {
    error: 'minRows must not exceed maxRows',
    path: ['minRows'],
  });

/** policies/evaluation.yaml: the rules evaluations are computed under. */
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
    monitoring: driftMonitoringSchema.default(DRIFT_MONITORING_DEFAULTS),
  }),
});

export type EvaluationPolicy = z.infer<typeof evaluationPolicySchema>;
