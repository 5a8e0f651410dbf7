/**
 * IAL's confident-region mining: the next round's affinity labels keep only pixels whose propagated score clears
 * its class's threshold. Each pixel takes its argmax class c over `scores` [channels x N] (channel 0 the
 * background) and keeps it when `scores[c] >= thresholds[c]`; otherwise it is `ignoreIndex`.
 * `thresholds` is one value for every class or one per channel; `classValues` maps channels to label values.
 *
 * Shape: scores [channels x N] -> labels [N].
 *
 * @example
 * ```ts
 * const labels = confidentRegions(propagated, 21, { thresholds: [0.5, ...Array(20).fill(0.3)] });
 * ```
 */
export function confidentRegions(
  scores: Float32Array,
  channels: number,
  options: { thresholds: number | readonly number[]; classValues?: readonly number[]; ignoreIndex?: number },
): Uint8Array {
  const { thresholds, classValues, ignoreIndex = 255 } = options;
  if (!Number.isInteger(channels) || channels < 1 || scores.length % channels !== 0) {
    throw new Error(
      `confidentRegions: scores must be [channels x N] with channels = ${channels}, got ${scores.length} values`,
    );
  }
  const limits = typeof thresholds === 'number' ? new Array(channels).fill(thresholds) : thresholds;
  if (limits.length !== channels)
    throw new Error(
      `confidentRegions: thresholds must have one value per channel (${channels}), got ${limits.length}`,
    );
  if (classValues && classValues.length !== channels) {
    throw new Error(
      `confidentRegions: classValues must have one value per channel (${channels}), got ${classValues.length}`,
    );
  }
  const pixels = scores.length / channels;
  const out = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    let best = 0;
    for (let c = 1; c < channels; c++) if (scores[c * pixels + i] > scores[best * pixels + i]) best = c;
    out[i] =
      scores[best * pixels + i] >= limits[best] ? (classValues ? classValues[best] : best) : ignoreIndex;
  }
  return out;
}
