import { Progress, type ProgressOptions } from '@wsss/core';
import type { StageProgress } from '@wsss/pipelines';

/**
 * Draws a pipeline's progress: one bar per stage label (a redrawn bar with ETA on a terminal, a plain line at most
 * every few seconds otherwise), started anew when the label changes.
 */
export function progressPrinter(
  stream: NonNullable<ProgressOptions['stream']>,
): (update: StageProgress) => void {
  let current: { key: string; bar: Progress } | undefined;
  return (update) => {
    const key = `${update.stage}/${update.label}`;
    if (current?.key !== key) {
      current?.bar.done();
      current = {
        key,
        bar: new Progress(
          update.total,
          { label: `${update.stage}: ${update.label}`, stream },
          update.done - 1,
        ),
      };
    }
    current.bar.tick(update.info ?? {});
    if (update.done >= update.total) {
      current.bar.done();
      current = undefined;
    }
  };
}
