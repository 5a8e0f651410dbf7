/**
 * Run by crf.test.ts in a fresh process (tsx, sources through the root tsconfig's paths): prints, as JSON, the term
 * order differences of {@link termOrderDifference} for each `width x height` argument on `threads` threads.
 * Usage: tsx term_order_child.ts <threads> <width>x<height>...
 */
import { DenseCrf } from '../src/index';
import { termOrderDifference } from './crf_cases';

const [threads, ...sizes] = process.argv.slice(2);
const differences: number[] = [];
for (const size of sizes) {
  const [width, height] = size.split('x').map(Number);
  differences.push(await termOrderDifference(DenseCrf, width, height, Number(threads)));
}
console.log(JSON.stringify(differences));
process.exit(0);
