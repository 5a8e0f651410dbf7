import type { PairIndices } from './neighbourhood';

/** Pair masks [offsets x from] (1 where the pair belongs to the set). */
export interface AffinityLabels {
  bgPositive: Uint8Array;
  fgPositive: Uint8Array;
  negative: Uint8Array;
}

/**
 * psa's affinity labels (`extract_aff_lab_func`) for one label map [height x width] (0 background, 1..C classes,
 * `ignoreIndex` unknown): for every (from, to) pair, `bgPositive` = both 0 (not masked by validity, as the
 * reference), `fgPositive` = same foreground class, `negative` = different classes, both labelled.
 */
export function affinityLabels(
  labelMap: ArrayLike<number>,
  pairs: PairIndices,
  ignoreIndex = 255,
): AffinityLabels {
  if (labelMap.length !== pairs.height * pairs.width) {
    throw new Error(
      `affinityLabels: labelMap must hold height x width = ${pairs.height} x ${pairs.width} values, got ${labelMap.length}`,
    );
  }
  const n = pairs.from.length;
  const size = pairs.to.length;
  const out: AffinityLabels = {
    bgPositive: new Uint8Array(size),
    fgPositive: new Uint8Array(size),
    negative: new Uint8Array(size),
  };
  for (let e = 0; e < size; e++) {
    const a = labelMap[pairs.from[e % n]];
    const b = labelMap[pairs.to[e]];
    const valid = a !== ignoreIndex && b !== ignoreIndex;
    if (a === 0 && b === 0) out.bgPositive[e] = 1;
    else if (valid && a === b) out.fgPositive[e] = 1;
    else if (valid) out.negative[e] = 1;
  }
  return out;
}

/**
 * psa's label map for affinity training from two CRF label maps (section 3.2): the foreground of the weak-background
 * map (alpha 4), background where even the strong-background map (alpha 32) says background, the rest ignored.
 */
export function combineLowHighLabels(
  lowAlpha: ArrayLike<number>,
  highAlpha: ArrayLike<number>,
  ignoreIndex = 255,
): Uint8Array {
  if (lowAlpha.length !== highAlpha.length) {
    throw new Error(
      `combineLowHighLabels: lowAlpha and highAlpha must have the same size, got ${lowAlpha.length} and ${highAlpha.length}`,
    );
  }
  return Uint8Array.from(lowAlpha, (l, i) => (highAlpha[i] === 0 ? 0 : l === 0 ? ignoreIndex : l));
}
