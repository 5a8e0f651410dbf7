/**
 * Unary energies for {@link DenseCrf.setUnaryEnergy}, as pydensecrf.utils computes them. Every array is
 * label-major: `[labels x pixels]`, pixel index `y * width + x`.
 */

function checkFinite(values: ArrayLike<number>, name: string, fn: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]))
      throw new Error(`${fn}: ${name}[${i}] is ${values[i]}; expected finite numbers`);
  }
}

/**
 * `U = -log(clip(p, clip, 1))` without renormalisation (pydensecrf's `unary_from_softmax`). With `scale` (0, 1],
 * p is first mixed with the uniform distribution: `scale p + (1 - scale) / labels`.
 *
 * Shape: probabilities [labels x pixels] -> [labels x pixels].
 *
 * @example
 * ```ts
 * unaryFromSoftmax(new Float32Array([0.2, 0.8, 0]), 3); // [1.609438, 0.223144, 11.512925]
 * ```
 */
export function unaryFromSoftmax(
  probabilities: Float32Array | ArrayLike<number>,
  labels: number,
  options: { scale?: number; clip?: number } = {},
): Float32Array {
  const { scale, clip = 1e-5 } = options;
  if (!Number.isInteger(labels) || labels < 1)
    throw new Error(`unaryFromSoftmax: labels must be a positive integer, got ${labels}`);
  if (probabilities.length === 0 || probabilities.length % labels !== 0) {
    throw new Error(
      `unaryFromSoftmax: probabilities must hold labels x pixels values (labels = ${labels}), got ${probabilities.length}`,
    );
  }
  if (scale !== undefined && !(scale > 0 && scale <= 1))
    throw new Error(`unaryFromSoftmax: scale must be in (0, 1], got ${scale}`);
  checkFinite(probabilities, 'probabilities', 'unaryFromSoftmax');
  const out = new Float32Array(probabilities.length);
  const uniform = scale === undefined ? 0 : (1 - scale) / labels;
  const s = scale ?? 1;
  for (let i = 0; i < out.length; i++) {
    const p = s * probabilities[i] + uniform;
    out[i] = -Math.log(Math.min(1, Math.max(clip, p)));
  }
  return out;
}

/**
 * Unary from a hard label map (pydensecrf's `unary_from_labels`): `-log(gtProb)` at the pixel's label and
 * `-log((1 - gtProb) / (labels - 1))` elsewhere. With `zeroUnsure` (pydensecrf's default) label 0 means "unsure"
 * (uniform energy) and labels 1..L map to channels 0..L-1; IRN uses `zeroUnsure: false` with gtProb 0.7.
 *
 * Shape: labelMap [pixels] -> [labels x pixels].
 */
export function unaryFromLabels(
  labelMap: ArrayLike<number>,
  labels: number,
  options: { gtProb: number; zeroUnsure?: boolean },
): Float32Array {
  const { gtProb, zeroUnsure = true } = options;
  if (!Number.isInteger(labels) || labels < 2)
    throw new Error(`unaryFromLabels: labels must be an integer >= 2, got ${labels}`);
  if (!(gtProb > 0 && gtProb < 1))
    throw new Error(`unaryFromLabels: gtProb must be in (0, 1), got ${gtProb}`);
  const pixels = labelMap.length;
  const negative = -Math.log((1 - gtProb) / (labels - 1));
  const positive = -Math.log(gtProb);
  const unsure = -Math.log(1 / labels);
  const out = new Float32Array(labels * pixels).fill(negative);
  for (let i = 0; i < pixels; i++) {
    const value = labelMap[i];
    const channel = zeroUnsure ? value - 1 : value;
    if (zeroUnsure && value === 0) {
      for (let l = 0; l < labels; l++) out[l * pixels + i] = unsure;
    } else if (Number.isInteger(channel) && channel >= 0 && channel < labels) {
      out[channel * pixels + i] = positive;
    } else {
      const range = zeroUnsure ? `0 (unsure) or 1..${labels}` : `0..${labels - 1}`;
      throw new Error(`unaryFromLabels: labelMap[${i}] = ${value} is not a label; expected ${range}`);
    }
  }
  return out;
}

/**
 * AuxSegNet's 2-label saliency unary (`crf_for_sal`): for a saliency s in [0, 1],
 * `U_bg = -log(1 - s + 1e-8) / (1.05 sigmoid(1 - s))`, `U_fg = -log(s + 1e-8) / (1.05 sigmoid(s))`.
 *
 * Shape: saliency [pixels] -> [2 x pixels] (background first).
 */
export function saliencyUnary(saliency: ArrayLike<number>): Float32Array {
  const pixels = saliency.length;
  const out = new Float32Array(2 * pixels);
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  for (let i = 0; i < pixels; i++) {
    const s = saliency[i];
    if (!(s >= 0 && s <= 1))
      throw new Error(`saliencyUnary: saliency[${i}] = ${s}; expected values in [0, 1]`);
    out[i] = -Math.log(1 - s + 1e-8) / (1.05 * sigmoid(1 - s));
    out[pixels + i] = -Math.log(s + 1e-8) / (1.05 * sigmoid(s));
  }
  return out;
}
