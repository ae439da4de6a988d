// A finding about an activation that is a layer of its own (PyTorch's nn.ReLU / F.relu) is also placed on the line
// of the layer that feeds it (LayerInfo.fedBy), naming both (src/diagnosis/detectors/related.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectFindings } from '../../src/diagnosis/detectors';
import { makeInput, only, type Spec } from './detector-input';

const linear = (name: string): Spec => ({ name, className: 'Linear', paramCount: 1056 });
const act = (name: string, className: string, activation: string, fedBy?: string): Spec => ({ name, className, activation, fedBy });

test('a dead ReLU fed by a Linear: the finding names both and is placed on the Linear line too', () => {
  const specs = [linear('fc1'), act('relu@L29', 'Activation', 'relu', 'fc1'), linear('fc2')];
  const dead = only(detectFindings(makeInput(specs, 6, (_s, l) => (l === 1 ? { deadFraction: 1 } : {}))), 'dead');
  assert.equal(dead.length, 1);
  assert.equal(dead[0].layer, 'relu@L29');
  assert.equal(dead[0].source?.line, 11);
  assert.deepEqual(
    dead[0].related?.map((r) => [r.layer, r.source?.line]),
    [['fc1', 10]],
  );
  assert.match(
    dead[0].related![0].message,
    /^fc1 \(Linear\) feeds relu@L29, where 100% of the units are dead: fc1's outputs there are ≤ 0/,
  );
});

test('a saturated tanh fed by a Linear: also on the Linear line', () => {
  const specs = [linear('proj'), act('tanh@L77', 'Activation', 'tanh', 'proj'), linear('head')];
  const sat = only(detectFindings(makeInput(specs, 6, (_s, l) => (l === 1 ? { saturatedFraction: 0.8 } : {}))), 'saturated');
  assert.deepEqual(
    sat[0].related?.map((r) => [r.layer, r.source?.line]),
    [['proj', 10]],
  );
  assert.match(sat[0].related![0].message, /^proj \(Linear\) feeds tanh@L77: 80% of its outputs are beyond ±5/);
});

test('no related place without a known feeding layer, or one without a line', () => {
  const unknown = [linear('fc1'), act('relu', 'ReLU', 'relu'), linear('fc2')];
  const lineless = [{ ...linear('fc1'), source: null }, act('relu', 'ReLU', 'relu', 'fc1'), linear('fc2')];
  const missing = [linear('fc1'), act('relu', 'ReLU', 'relu', 'gone'), linear('fc2')];
  for (const specs of [unknown, lineless, missing]) {
    const dead = only(detectFindings(makeInput(specs, 6, (_s, l) => (l === 1 ? { deadFraction: 1 } : {}))), 'dead');
    assert.equal(dead.length, 1);
    assert.equal(dead[0].related, undefined);
  }
});
