import { describe, expect, it } from '@jest/globals';
import * as builder from './index.js';

describe('model-builder public API', () => {
  it('exports the builders and the ONNX helpers', () => {
    for (const name of [
      'loadGermanCredit',
      'trainLogisticRegression',
      'trainMlp',
      'trainGradientBoosting',
      'treeEnsembleClassifier',
      'nanModel',
      'slowModel',
      'wrongSignatureModel',
      'constantModel',
      'erroringModel',
      'buildGermanCreditModels',
      'fitStandardizer',
      'encodeModel',
      'GraphBuilder',
      'mulberry32',
      'selectionRates',
    ]) {
      expect(typeof (builder as Record<string, unknown>)[name]).toBe('function');
    }
    expect(builder.FEATURES_INPUT).toBe('features');
    expect(builder.SCORE_OUTPUT).toBe('score');
    expect(builder.PRODUCER_NAME).toBe('gatehouse-model-builder');
  });
});
