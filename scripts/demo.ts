/**
 * The main job (`pnpm demo`): the baseline pipeline on the built-in synthetic dataset with the `quick` preset, image-
 * level labels in, a trained segmentation network out, the stage table printed. Uses the ImageNet MobileNetV2 of the
 * shared data folder when it is there (../shared or $WSSS_DATA), otherwise a MobileNetV2 of width 0.35 from random
 * weights. Extra arguments go to
 * `wsss run` (e.g. `pnpm demo --set segmentation.steps=400`); running again resumes the run folder (--fresh starts
 * over).
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { enableRelaxedSimdOnNode20, main } from '@wsss/cli';
import { sharedPath } from '@wsss/core/testing';

enableRelaxedSimdOnNode20();
const args = process.argv.slice(2).filter((a) => a !== '--fresh');
const out = resolve('runs');
const name = 'demo-baseline-quick';
if (process.argv.includes('--fresh')) rmSync(resolve(out, name), { recursive: true, force: true });
const weights = sharedPath(
  'weights/mobilenet_v2_1.0_224',
  'ImageNet weights (the demo trains from random weights)',
);
const start = performance.now();
const code = await main([
  'run',
  'baseline',
  '--preset',
  'quick',
  '--out',
  out,
  '--name',
  name,
  // without the ImageNet weights every layer trains from scratch: a narrower MobileNetV2 keeps it within minutes
  ...(weights ? ['--weights', weights] : ['--set', 'backbone.widthMultiplier=0.35']),
  ...args,
]);
console.log(`wall time ${((performance.now() - start) / 60000).toFixed(1)} min`);
process.exitCode = code;
