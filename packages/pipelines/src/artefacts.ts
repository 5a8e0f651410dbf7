import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type LabelMap, type RgbImage, writePng } from '@wsss/core';
import type { TrainLoopResult, TrainStepInfo } from '@wsss/models';
import { stageFolder } from './pipeline';
import type { Stage, StageContext, StageResult } from './stage';

/** Any pipeline's stage context (the helpers below do not read its config). */
export type Ctx = StageContext<unknown>;

/** The stage's folder relative to the run folder (what later stages find it by). */
export function ownDir(ctx: Ctx): string {
  return relative(ctx.runDir, ctx.dir);
}

/** A training stage's progress callback and result: its checkpoint, steps and first / last epoch loss. */
export function trainingReport(ctx: Ctx, label: string) {
  return {
    onStep: (s: TrainStepInfo) =>
      ctx.progress({ label, done: s.step, total: s.totalSteps, info: { loss: s.loss } }),
    result: (r: TrainLoopResult): StageResult => ({
      outputs: { dir: ownDir(ctx), checkpoint: 'checkpoint' },
      values: {
        steps: r.steps,
        'first epoch loss': r.epochLosses[0] ?? Number.NaN,
        'last epoch loss': r.epochLosses[r.epochLosses.length - 1] ?? Number.NaN,
      },
    }),
  };
}

/** The run folder's stage folder of `name` (stages find their predecessors' artefacts through it). */
export function stageDir(ctx: Ctx, name: string): string {
  const dir = ctx.previous[name]?.outputs?.dir;
  if (!dir) throw new Error(`stage ${name} has not run before this one`);
  return join(ctx.runDir, dir);
}

/** The image and label maps side by side (maps in the dataset's palette): `overlays/<id>.png` of the stage. */
export async function writeOverlay(
  ctx: Ctx,
  id: string,
  image: RgbImage,
  maps: readonly (LabelMap | undefined)[],
  palette: Uint8Array,
): Promise<void> {
  const { width, height } = image;
  const panels = [image.data, ...maps.flatMap((map) => (map ? [colour(map, palette)] : []))];
  const out = new Uint8Array(panels.length * width * height * 3);
  for (let y = 0; y < height; y++) {
    panels.forEach((panel, k) => {
      out.set(
        panel.subarray(y * width * 3, (y + 1) * width * 3),
        (y * panels.length * width + k * width) * 3,
      );
    });
  }
  await writePng(join(ctx.dir, 'overlays', `${id}.png`), {
    width: panels.length * width,
    height,
    channels: 3,
    data: out,
  });
}

function colour(map: LabelMap, palette: Uint8Array): Uint8Array {
  const out = new Uint8Array(map.data.length * 3);
  map.data.forEach((v, i) => {
    out.set(palette.subarray(3 * v, 3 * v + 3), 3 * i);
  });
  return out;
}

/** The checkpoint folder that stage `stageName` of a run trained, or an error saying it has not been trained yet. */
export function trainedCheckpoint(
  runDir: string,
  stages: readonly Pick<Stage, 'name'>[],
  stageName: string,
  what: string,
): string {
  const index = stages.findIndex((s) => s.name === stageName);
  if (index < 0) throw new Error(`no stage named ${stageName}`);
  const checkpoint = join(runDir, stageFolder(index, stages[index]), 'checkpoint');
  if (!existsSync(join(checkpoint, 'model.json'))) {
    throw new Error(`${runDir}: the ${what} has not been trained yet (no ${checkpoint})`);
  }
  return checkpoint;
}
