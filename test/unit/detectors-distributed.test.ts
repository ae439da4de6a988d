// bn-per-device-batch: BatchNorm under DistributedDataParallel with a per-device batch below 16 and no SyncBatchNorm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectFindings } from '../../src/diagnosis/detectors';
import { dense, makeInput, only, type Spec } from './detector-input';

const SPECS: Spec[] = [
  { name: 'conv', className: 'Conv2D', paramCount: 448, outputShape: [null, 8, 8, 16] },
  { name: 'bn', className: 'BatchNormalization', isNorm: true, paramCount: 32 },
  dense('out', 'linear', 17),
];

test('bn-per-device-batch: raised on each BatchNorm of a distributed run with fewer than 16 examples per device', () => {
  const f = only(
    detectFindings(makeInput(SPECS, 5, undefined, { batchSize: 4, distributed: { worldSize: 8, syncBatchNorm: [] } })),
    'bn-per-device-batch',
  );
  assert.deepEqual(
    f.map((x) => [x.layer, x.severity, x.step, x.source?.line]),
    [['bn', 'warning', 0, 11]],
  );
  assert.match(f[0].message, /each of the 8 processes normalizes its own batch/);
  assert.match(f[0].message, /from 4 examples, not the 32/);
  assert.match(f[0].message, /GroupNorm's does not/);
  assert.match(f[0].fix ?? '', /nn\.SyncBatchNorm\.convert_sync_batchnorm\(model\)/);
  assert.deepEqual(f[0].refactor, { action: 'swap', to: 'groupNorm' });
  const one = only(
    detectFindings(makeInput(SPECS, 5, undefined, { batchSize: 1, distributed: { worldSize: 2, syncBatchNorm: [] } })),
    'bn-per-device-batch',
  );
  assert.equal(one[0].severity, 'error');
});

test('bn-per-device-batch: not for one process, 16+ per device, SyncBatchNorm, or a BatchNorm frozen in eval mode', () => {
  const none = (extra: Parameters<typeof makeInput>[3], perturb?: Parameters<typeof makeInput>[2]) =>
    assert.deepEqual(only(detectFindings(makeInput(SPECS, 5, perturb, extra)), 'bn-per-device-batch'), []);
  none({ batchSize: 4 });
  none({ batchSize: 4, distributed: { worldSize: 1, syncBatchNorm: [] } });
  none({ batchSize: 16, distributed: { worldSize: 8, syncBatchNorm: [] } });
  none({ batchSize: 4, distributed: { worldSize: 8, syncBatchNorm: ['bn'] } });
  // eval mode: no moving-statistics gap is measured, the layer normalizes with its moving averages
  none({ batchSize: 4, distributed: { worldSize: 8, syncBatchNorm: [] } }, (_s, l) =>
    l === 1 ? { movingMeanGap: NaN, movingVarGap: NaN } : {},
  );
});
