/** Deterministic inputs shared by the CRF tests and their child-process scripts. */

/** Park-Miller generator in [0, 1). */
export function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

/** An image of two colour halves with noise and random probabilities [labels x pixels] (label-major). */
export function syntheticCase(width: number, height: number, labels: number, seed = 7) {
  const rnd = random(seed);
  const pixels = width * height;
  const data = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const x = i % width;
    const region = x < width / 2 ? 40 : 200;
    for (let c = 0; c < 3; c++) data[3 * i + c] = region + Math.floor(rnd() * 20);
  }
  const probabilities = new Float32Array(labels * pixels);
  for (let i = 0; i < pixels; i++) {
    let sum = 0;
    for (let l = 0; l < labels; l++) sum += probabilities[l * pixels + i] = rnd() ** 3;
    for (let l = 0; l < labels; l++) probabilities[l * pixels + i] /= sum;
  }
  return { image: { width, height, data }, probabilities };
}

/**
 * The largest |dQ| between a CRF whose narrow Gaussian term (sxy 0.7: its lattice outgrows its first hash table) comes
 * before its bilateral term and the same CRF with the terms swapped; 0 up to float rounding when they agree.
 */
export async function termOrderDifference(
  crf: typeof import('../src/index').DenseCrf,
  width: number,
  height: number,
  threads: number,
): Promise<number> {
  const labels = 5;
  const { image, probabilities } = syntheticCase(width, height, labels, width + height);
  const gaussian = { sxy: 0.7, compat: 3 };
  const bilateral = { sxy: 30, srgb: 13, compat: 5, image };
  const make = () => new crf(width, height, labels).setUnaryFromSoftmax(probabilities);
  const first = await make()
    .addPairwiseGaussian(gaussian)
    .addPairwiseBilateral(bilateral)
    .inference(3, { threads });
  const second = await make()
    .addPairwiseBilateral(bilateral)
    .addPairwiseGaussian(gaussian)
    .inference(3, { threads });
  let worst = 0;
  for (let i = 0; i < first.length; i++) worst = Math.max(worst, Math.abs(first[i] - second[i]));
  return worst;
}
