import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rrmPseudoLabels, rrmPseudoLabelsWithoutBackground } from '@wsss/cam';

const here = dirname(fileURLToPath(import.meta.url));

interface Case {
  seed: number;
  width: number;
  height: number;
  numClasses: number;
  cams: number[];
  crfLow: number[];
  crfHigh: number[];
  labels: number[];
}

const fixtures = JSON.parse(readFileSync(join(here, 'fixtures/rrm_label_cases.json'), 'utf8')) as {
  cases: Case[];
};

describe('rrmPseudoLabels (parity item 15)', () => {
  it.each(fixtures.cases.map((c) => [c.seed, c] as const))(
    'equals a NumPy port of RRM compute_seg_label exactly (case %i)',
    (_, c) => {
      const labels = rrmPseudoLabels({
        width: c.width,
        height: c.height,
        numClasses: c.numClasses,
        cams: Float32Array.from(c.cams),
        crfLow: Float32Array.from(c.crfLow),
        crfHigh: Float32Array.from(c.crfHigh),
      });
      expect(Array.from(labels)).toEqual(c.labels);
    },
  );

  it('applies the 60th percentile, the background 0.8 and the CRF 0.8 rules on a hand-made 1x6 image', () => {
    // channels: 0 background, 1 a class. CAM class 1 on pixels 0-3 with values 0.2, 0.5, 0.9, 0.95 (> 0.1 all):
    // sorted [0.2, 0.5, 0.9, 0.95], index floor(0.6 * 4) = 2 -> threshold 0.9: only pixel 3 (> 0.9) is sure.
    // Pixels 4, 5 are CAM background: 0.85 (> 0.8, sure) and 0.5 (unsure).
    const cams = Float32Array.from([0, 0, 0, 0, 0.85, 0.5, 0.2, 0.5, 0.9, 0.95, 0, 0]);
    const crfLow = Float32Array.from([0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.1, 0.1]);
    // the high-power CRF: background at pixel 4 (0.95) and 5 (0.7 < 0.8: unsure)
    const crfHigh = Float32Array.from([0.1, 0.1, 0.1, 0.1, 0.95, 0.7, 0.9, 0.9, 0.9, 0.9, 0.05, 0.3]);
    const labels = rrmPseudoLabels({ width: 6, height: 1, numClasses: 2, cams, crfLow, crfHigh });
    expect(Array.from(labels)).toEqual([255, 255, 255, 1, 0, 255]);
    // a lower percentile makes more of the class sure: index floor(0.25 * 4) = 1 -> threshold 0.5
    expect(
      Array.from(
        rrmPseudoLabels(
          { width: 6, height: 1, numClasses: 2, cams, crfLow, crfHigh },
          { camPercentile: 0.25 },
        ),
      ),
    ).toEqual([255, 255, 1, 1, 0, 255]);
  });

  it('gives a class without CAM values above the floor no sure pixel (the reference crashes there)', () => {
    const cams = Float32Array.from([0.9, 0.9, 0.05, 0.05]);
    const crfLow = Float32Array.from([0.1, 0.1, 0.9, 0.9]);
    const labels = rrmPseudoLabels({ width: 2, height: 1, numClasses: 2, cams, crfLow, crfHigh: crfLow });
    expect(Array.from(labels)).toEqual([255, 255]);
  });

  it('compares with the thresholds in float32, as numpy does with float32 arrays', () => {
    // background scores of exactly float32(0.8) and the next float32 up: only the second is above 0.8 in float32
    const at = Math.fround(0.8);
    const above = at + 2 ** -24;
    const cams = Float32Array.from([at, above, 0, 0]);
    const crf = Float32Array.from([0.9, 0.9, 0.1, 0.1]);
    const labels = rrmPseudoLabels({ width: 2, height: 1, numClasses: 2, cams, crfLow: crf, crfHigh: crf });
    expect(Array.from(labels)).toEqual([255, 0]);
  });

  it('names inputs of the wrong length', () => {
    const ok = new Float32Array(8);
    expect(() =>
      rrmPseudoLabels({
        width: 2,
        height: 2,
        numClasses: 2,
        cams: ok,
        crfLow: new Float32Array(6),
        crfHigh: ok,
      }),
    ).toThrow(/crfLow must be \[numClasses x H x W\] = 2 x 2 x 2 label-major, got 6 values/);
  });
});

describe('rrmPseudoLabelsWithoutBackground', () => {
  // two real classes (0 and 1, e.g. CamVid's sky and building), no background channel. CAM argmax regions: class 0
  // on pixels 0-2, 6 (tie, lower channel) and 7; class 1 on pixels 3-5.
  // class 0's region values > 0.1: 0.95, 0.9, 0.3, 0.2 -> sorted index floor(0.6 * 4) = 2 -> threshold 0.9: pixel 0.
  // class 1's: 0.5, 0.6, 0.95 -> index floor(0.6 * 3) = 1 -> threshold 0.6: pixel 5.
  const cams = Float32Array.from([0.95, 0.9, 0.3, 0, 0, 0, 0.05, 0.2, 0, 0.1, 0.1, 0.5, 0.6, 0.95, 0.05, 0]);
  const crf0 = [0.9, 0.85, 0.6, 0.2, 0.1, 0.05, 0.5, 0.7];
  const crf = Float32Array.from([...crf0, ...crf0.map((q) => 1 - q)]);
  const inputs = { width: 8, height: 1, numClasses: 2, cams, crf };

  it("takes the CRF's label where the CAM percentile rule and the CRF's marginal are sure", () => {
    expect(Array.from(rrmPseudoLabelsWithoutBackground(inputs))).toEqual([
      0, 255, 255, 255, 255, 1, 255, 255,
    ]);
  });

  it('follows camPercentile, crfSure and ignoreIndex', () => {
    // percentile 0: thresholds 0.2 (class 0: pixels 0-2 sure) and 0.5 (class 1: pixels 4, 5); pixel 2's CRF
    // marginal 0.6 < 0.8 stays unsure
    expect(Array.from(rrmPseudoLabelsWithoutBackground(inputs, { camPercentile: 0 }))).toEqual([
      0, 0, 255, 255, 1, 1, 255, 255,
    ]);
    // pixel 0's marginal 0.9 < 0.94, pixel 5's 0.95 is not
    expect(Array.from(rrmPseudoLabelsWithoutBackground(inputs, { crfSure: 0.94, ignoreIndex: 11 }))).toEqual([
      11, 11, 11, 11, 11, 1, 11, 11,
    ]);
  });

  it('gives a class the CRF does not predict no sure pixel', () => {
    // the CRF says class 1 everywhere: class 0's sure pixel 0 is not used, class 1 keeps pixel 5
    const allOne = Float32Array.from([...new Array(8).fill(0.1), ...new Array(8).fill(0.9)]);
    expect(Array.from(rrmPseudoLabelsWithoutBackground({ ...inputs, crf: allOne }))).toEqual([
      255, 255, 255, 255, 255, 1, 255, 255,
    ]);
  });

  it('names inputs of the wrong length', () => {
    expect(() => rrmPseudoLabelsWithoutBackground({ ...inputs, crf: new Float32Array(3) })).toThrow(
      /rrmPseudoLabelsWithoutBackground: crf must be \[numClasses x H x W\] = 2 x 1 x 8 label-major, got 3 values/,
    );
  });
});
