/**
 * Editor-speed benchmark: parsing + indexing a 2,000-line model file (what a hover costs on a cache miss)
 * and a hover lookup on the cached index. Target: both well under 50 ms.
 */
import { layerCallAt, parseModelSource } from '../../src/analysis/layerCalls';
import { lintSource } from '../../src/analysis/lint';
import { bigModelFile } from './bigModelFile';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function benchAnalysis(): Promise<{ lines: number; parseMs: number; lintMs: number; hoverLookupMs: number }> {
  const src = bigModelFile();
  for (let i = 0; i < 10; i++) parseModelSource(src, 'warm.ts');
  const parse: number[] = [];
  const lint: number[] = [];
  const lookup: number[] = [];
  for (let i = 0; i < 15; i++) {
    let t = performance.now();
    const parsed = parseModelSource(src, 'big.ts');
    parse.push(performance.now() - t);
    t = performance.now();
    lintSource(src, 'big.ts', { parsed });
    lint.push(performance.now() - t);
    t = performance.now();
    for (let k = 0; k < 100; k++) layerCallAt(parsed.calls, Math.floor((k / 100) * src.length));
    lookup.push((performance.now() - t) / 100);
  }
  return { lines: src.split('\n').length, parseMs: median(parse), lintMs: median(lint), hoverLookupMs: median(lookup) };
}

if (require.main === module) void benchAnalysis().then((r) => console.log(JSON.stringify(r)));
