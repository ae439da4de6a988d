// The model's own output activation is not judged for saturation (src/diagnosis/detectors/saturated.ts): it saturates
// where a confident model sits (a VAE's sigmoid under binary cross-entropy), while a hidden one that does is a fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectFindings } from '../../src/diagnosis/detectors';
import { makeInput, only, type Spec } from './detector-input';

const linear = (name: string): Spec => ({ name, className: 'Linear', paramCount: 1056 });

test('a saturated sigmoid that is the model output raises nothing; the same sigmoid hidden does', () => {
  const saturating = (specs: Spec[]) =>
    only(
      detectFindings(makeInput(specs, 6, (_s, l) => (specs[l].activation === 'sigmoid' ? { saturatedFraction: 0.97 } : {}))),
      'saturated',
    );
  const output: Spec = { name: 'sigmoid@L16', className: 'Activation', activation: 'sigmoid', modelOutput: true };
  assert.deepEqual(saturating([linear('enc'), linear('dec'), output]), []);
  const hidden: Spec = { name: 'sigmoid@L16', className: 'Activation', activation: 'sigmoid' };
  assert.deepEqual(
    saturating([linear('enc'), hidden, linear('dec')]).map((f) => f.layer),
    ['sigmoid@L16'],
  );
});
