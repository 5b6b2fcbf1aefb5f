import type { EvaluationEntity } from './evaluation.entity.js';
import type { AttributeFairnessModel, EvaluationModel, FigureModel } from './evaluation.model.js';
import type { EvaluationFigures } from './evaluation-compute.js';
import { FAIRNESS_FIGURES, PERFORMANCE_FIGURES, type ConfidenceInterval } from './metrics/index.js';

/** An evaluation row as GraphQL shows it: headline figures typed, the rest in `result`. */
export function evaluationView(
  row: EvaluationEntity,
  version: { model: string; version: number },
): EvaluationModel {
  const figures = row.result as (EvaluationFigures & Record<string, unknown>) | null;
  const c = figures?.classification ?? null;
  const intervals = c?.bootstrap ?? null;
  const interval = (i: ConfidenceInterval | undefined) =>
    i === undefined ? null : { lower: i.lower, upper: i.upper };
  const performance: FigureModel[] = c
    ? PERFORMANCE_FIGURES.map((name) => ({
        name,
        value: c.performance[name],
        interval: interval(intervals?.performance[name]),
      }))
    : regressionFigures(figures);
  const fairness: AttributeFairnessModel[] = (c?.fairness ?? []).map((a) => {
    const ci = intervals?.fairness.find((f) => f.attribute === a.attribute);
    return {
      attribute: a.attribute,
      figures: FAIRNESS_FIGURES.map((name) => ({
        name,
        value: a[name],
        interval: interval(ci?.[name]),
      })),
      passesFourFifths: a.passesFourFifths,
      referenceGroup: a.referenceGroup,
      groups: a.groups.map((g) => ({
        group: g.group,
        count: g.count,
        belowMinimumSize: g.belowMinimumSize,
        baseRate: g.baseRate,
        selectionRate: g.selectionRate,
        truePositiveRate: g.truePositiveRate,
        falsePositiveRate: g.falsePositiveRate,
      })),
    };
  });
  return {
    id: row.id,
    model: version.model,
    version: version.version,
    datasetId: row.datasetId,
    labelColumn: row.labelColumn,
    protectedAttributes: row.protectedAttributes,
    status: row.status,
    rowsTotal: row.rowsTotal,
    rowsDone: row.rowsDone,
    progress: row.rowsTotal === 0 ? 1 : row.rowsDone / row.rowsTotal,
    performance,
    fairness,
    result: row.result,
    resultSha256: row.resultSha256,
    policySha256: row.policySha256,
    timings: row.timings,
    error: row.error,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
  };
}

function regressionFigures(figures: EvaluationFigures | null): FigureModel[] {
  const r = figures?.regression;
  if (!r) return [];
  return [
    { name: 'rmse', value: r.rmse, interval: null },
    { name: 'mae', value: r.mae, interval: null },
    { name: 'r2', value: r.r2, interval: null },
  ];
}
