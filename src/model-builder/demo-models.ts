import {
  constantModel,
  erroringModel,
  nanModel,
  slowModel,
  wrongSignatureModel,
  type FaultyModel,
} from './faulty.js';
import { loadGermanCredit, type GermanCredit } from './german-credit.js';
import { trainLogisticRegression, type LogisticRegressionModel } from './logistic-regression.js';
import { trainMlp, type MlpModel } from './mlp.js';
import {
  trainGradientBoosting,
  treeEnsembleClassifier,
  type GradientBoostingModel,
  type TreeClassifierModel,
} from './tree-ensemble.js';

/**
 * Features that encode a protected attribute directly: `Age` (age_group is derived from it)
 * and the personal-status columns (they name the applicant's sex).
 */
export function isProtectedProxy(featureName: string): boolean {
  return featureName === 'Age' || featureName.startsWith('Personal.');
}

/**
 * Reweighing (Kamiran & Calders, 2012): weight P(group)·P(label) / P(group, label) per row, so
 * that in the weighted data the label is independent of the group. `groups` lists one or more
 * attributes per row; their combination forms the group.
 */
export function reweighingWeights(
  labels: readonly number[],
  groups: readonly (readonly string[])[],
): number[] {
  const n = labels.length;
  const key = (i: number): string => groups.map((g) => g[i] ?? '').join('\u0000');
  const count = new Map<string, number>();
  const add = (k: string): void => {
    count.set(k, (count.get(k) ?? 0) + 1);
  };
  for (let i = 0; i < n; i++) {
    add(`g:${key(i)}`);
    add(`y:${labels[i] ?? 0}`);
    add(`gy:${key(i)}:${labels[i] ?? 0}`);
  }
  return labels.map((y, i) => {
    const group = count.get(`g:${key(i)}`) ?? 0;
    const label = count.get(`y:${y}`) ?? 0;
    const both = count.get(`gy:${key(i)}:${y}`) ?? 1;
    return (group * label) / (n * both);
  });
}

export interface GermanCreditModels {
  readonly data: GermanCredit;
  /**
   * Logistic regression without Age and the personal-status columns, trained with reweighing
   * over sex × age group: meets the four-fifths rule on both sex and age_group.
   */
  readonly fair: LogisticRegressionModel;
  /**
   * The same recipe with lighter regularization (L2 3 instead of 10): the next version of
   * `fair`, as a team would retrain it. Also fair, and agrees with `fair` on most applicants.
   */
  readonly fairRetrained: LogisticRegressionModel;
  /**
   * Logistic regression on every column, trained on a historically biased sample: good
   * outcomes of female and of under-25 applicants count half. Fails the four-fifths rule.
   */
  readonly unfair: LogisticRegressionModel;
  /** One hidden layer of 16 ReLU units, all columns. */
  readonly mlp: MlpModel;
  /** 30 gradient-boosted trees of depth 3, all columns. */
  readonly trees: GradientBoostingModel;
  /** The same trees with TreeEnsembleClassifier outputs `label` and `probabilities`. */
  readonly treesClassifier: TreeClassifierModel;
  /** Failure cases with the `features` input of these models (based on `fair`). */
  readonly faulty: {
    readonly nan: FaultyModel;
    /** `fair`'s scores, about 45 ms per single-row run on an idle 2-core machine. */
    readonly slow: FaultyModel;
    /** Input `input` [N, F + 1]. */
    readonly wrongSignature: FaultyModel;
    /** Always 0.5. */
    readonly constant: FaultyModel;
    /** `fair`'s scores, but every run fails. */
    readonly erroring: FaultyModel;
    /** `fair`'s scores for single rows; batches of two or more fail. */
    readonly erroringOnBatch: FaultyModel;
  };
}

/**
 * The German credit models of Gatehouse's demo and tests. Every one takes the same input:
 * `features` float32 [N, 60], the 60 feature columns of german_credit.csv in file order (see
 * `data.featureNames`), and, except `treesClassifier`, outputs `score` float32 [N, 1], the
 * probability of good credit. Deterministic: the same data gives byte-identical models.
 */
export function buildGermanCreditModels(
  options: { readonly data?: GermanCredit; readonly path?: string } = {},
): GermanCreditModels {
  const data = options.data ?? loadGermanCredit(options.path);
  const fair = trainLogisticRegression(data, {
    name: 'german_credit_fair',
    description:
      'Logistic regression on German credit without Age and personal status, trained with reweighing over sex and age group.',
    features: data.featureNames.filter((name) => !isProtectedProxy(name)),
    sampleWeights: reweighingWeights(data.y, [data.sex, data.ageGroup]),
    l2: 10,
  });
  const fairRetrained = trainLogisticRegression(data, {
    name: 'german_credit_fair_v2',
    description:
      'Logistic regression on German credit without Age and personal status, reweighed over sex and age group, L2 3.',
    features: data.featureNames.filter((name) => !isProtectedProxy(name)),
    sampleWeights: reweighingWeights(data.y, [data.sex, data.ageGroup]),
    l2: 3,
  });
  const historicalBias = data.y.map((y, i) =>
    y === 1 && (data.sex[i] === 'female' || data.ageGroup[i] === 'under_25') ? 0.5 : 1,
  );
  const unfair = trainLogisticRegression(data, {
    name: 'german_credit_unfair',
    description:
      'Logistic regression on every German credit column, trained on a biased history in which good outcomes of female and young applicants count half.',
    sampleWeights: historicalBias,
  });
  const mlp = trainMlp(data, {
    name: 'german_credit_mlp',
    description: 'German credit: one hidden layer of 16 ReLU units, trained with Adam.',
  });
  const trees = trainGradientBoosting(data, {
    name: 'german_credit_trees',
    description: 'German credit: 30 gradient-boosted trees of depth 3 (logistic loss).',
  });
  return {
    data,
    fair,
    fairRetrained,
    unfair,
    mlp,
    trees,
    treesClassifier: treeEnsembleClassifier(trees),
    faulty: {
      nan: nanModel(fair),
      slow: slowModel(fair),
      wrongSignature: wrongSignatureModel(fair),
      constant: constantModel(fair, 0.5),
      erroring: erroringModel(fair, 'always'),
      erroringOnBatch: erroringModel(fair, 'batch'),
    },
  };
}
