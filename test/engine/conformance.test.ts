// SPDX-License-Identifier: Apache-2.0
// Every model of the ONNX backend conformance data: the engine's FP32 outputs on the fixture's own
// test_data_set_0 inputs match the stored outputs within |Δ| ≤ 1e-5 + 1e-4·|expected|; models using ops the engine
// lacks fail compile with the unsupported-op error, and exactly the expected models do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile, runSync } from '../../engine/index';
import { isQuantLensError } from '../../engine/errors';
import { compareTensors, conformanceFixtures, dataSet, load } from './helpers';

/** The conformance models the engine must refuse (sequence, string and training ops), and the op it names. */
const EXPECTED_UNSUPPORTED: Record<string, string> = {
  'simple/test_gradient_of_add': 'Gradient',
  'simple/test_gradient_of_add_and_mul': 'Gradient',
  'simple/test_sequence_model1': 'SequenceEmpty',
  'simple/test_sequence_model2': 'SequenceConstruct',
  'simple/test_sequence_model3': 'SequenceConstruct',
  'simple/test_sequence_model4': 'SequenceConstruct',
  'simple/test_sequence_model5': 'SequenceConstruct',
  'simple/test_sequence_model6': 'SplitToSequence',
  'simple/test_sequence_model7': 'SplitToSequence',
  'simple/test_sequence_model8': 'SplitToSequence',
  'simple/test_strnorm_model_monday_casesensintive_lower': 'StringNormalizer',
  'simple/test_strnorm_model_monday_casesensintive_nochangecase': 'StringNormalizer',
  'simple/test_strnorm_model_monday_casesensintive_upper': 'StringNormalizer',
  'simple/test_strnorm_model_monday_empty_output': 'StringNormalizer',
  'simple/test_strnorm_model_monday_insensintive_upper_twodim': 'StringNormalizer',
  'simple/test_strnorm_model_nostopwords_nochangecase': 'StringNormalizer',
};

const fixtures = conformanceFixtures();

test('the conformance data is present', () => {
  assert.ok(fixtures.length >= 140, `found only ${fixtures.length} conformance models`);
});

test('engine outputs match the stored outputs of every supported conformance model', async () => {
  const failures: string[] = [];
  let passed = 0;
  for (const fx of fixtures) {
    if (EXPECTED_UNSUPPORTED[fx.name]) continue;
    const model = await load(fx.model);
    const { feeds, expected } = dataSet(fx, model);
    try {
      const { outputs } = runSync(compile(model), feeds);
      const errs = Object.keys(expected).map((k) => compareTensors(outputs[k], expected[k], `${fx.name} output '${k}'`)).filter((e) => e);
      if (errs.length) failures.push(...(errs as string[])); else passed++;
    } catch (e) {
      failures.push(`${fx.name}: ${(e as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.equal(passed, fixtures.length - Object.keys(EXPECTED_UNSUPPORTED).length);
});

test('models with sequence, string or training ops fail compile with an unsupported-op error naming op, node and opset', async () => {
  const refused: Record<string, string> = {};
  for (const fx of fixtures) {
    const model = await load(fx.model);
    try {
      compile(model);
    } catch (e) {
      assert.ok(isQuantLensError(e), `${fx.name}: ${String(e)}`);
      assert.equal(e.kind, 'unsupported-op');
      const m = /^(\w+) \(domain '[^']+', opset \d+\) in node '[^']+' is not supported by the engine/.exec(e.message);
      assert.ok(m, `${fx.name}: message '${e.message}'`);
      refused[fx.name] = m[1];
    }
  }
  assert.deepEqual(refused, EXPECTED_UNSUPPORTED);
});
