import { ConfusionMatrix } from '@wsss/core';
import { sharedPath } from '@wsss/core/testing';
import {
  BASELINE_DEFAULTS,
  BASELINE_PRESETS,
  confusionFromJson,
  openDataset,
  parseOverride,
  resolveConfig,
  segmentationScores,
} from '@wsss/pipelines';

describe('configs', () => {
  it('apply the preset, then the file, then each --set, in that order', () => {
    const config = resolveConfig(BASELINE_DEFAULTS, BASELINE_PRESETS, {
      preset: 'smoke',
      file: { path: 'run.json', contents: { classifier: { steps: 7, learningRate: 0.5 } } },
      sets: ['classifier.steps=9', 'cams.scales=[1,2]', 'backbone.weights=/w', 'evaluation.crf=true'],
    });
    expect(config.classifier.steps).toBe(9);
    expect(config.classifier.learningRate).toBe(0.5);
    expect(config.classifier.batchSize).toBe(4); // smoke
    expect(config.cams.scales).toEqual([1, 2]);
    expect(config.backbone.weights).toBe('/w');
    expect(config.evaluation.crf).toBe(true);
    expect(config.segmentation.outputStride).toBe(BASELINE_DEFAULTS.segmentation.outputStride);
    // the defaults are not changed, nor shared: editing a resolved config leaves them alone
    expect(BASELINE_DEFAULTS.classifier.steps).toBe(160);
    config.pseudoLabels.alpha = 99; // a section no source overrides
    config.dataset.trainSize = 1;
    expect(BASELINE_DEFAULTS.pseudoLabels.alpha).toBe(4);
    expect(BASELINE_DEFAULTS.dataset.trainSize).toBe(160);
  });

  it('refuse unknown keys, presets and wrongly typed values, naming them', () => {
    const resolve = (sources: Parameters<typeof resolveConfig>[2]) =>
      resolveConfig(BASELINE_DEFAULTS, BASELINE_PRESETS, sources);
    expect(() => resolve({ sets: ['classifier.stepz=3'] })).toThrow(
      /unknown key 'classifier.stepz'; known keys here: steps, batchSize/,
    );
    expect(() => resolve({ preset: 'fast' })).toThrow(
      /unknown preset 'fast'; expected one of smoke, quick, paper/,
    );
    expect(() => resolve({ sets: ['classifier.steps=many'] })).toThrow(
      /'classifier.steps' must be a number, got 'many'/,
    );
    expect(() => resolve({ sets: ['evaluation.crf=yes'] })).toThrow(/must be true or false/);
    expect(() => resolve({ sets: ['steps'] })).toThrow(/expected key.path=value/);
    expect(() => resolve({ file: { path: 'my.json', contents: { cams: { scale: [1] } } } })).toThrow(
      /my.json: unknown key 'cams.scale'; known keys of cams: scales, flip/,
    );
    expect(() => resolve({ file: { path: 'my.json', contents: { cams: { flip: 'no' } } } })).toThrow(
      /my.json: 'cams.flip' must be a boolean, got string "no"/,
    );
    expect(parseOverride('dataset.root=/data/voc', BASELINE_DEFAULTS)).toEqual({
      dataset: { root: '/data/voc' },
    });
  });
});

describe('segmentation scores', () => {
  it('give IoU, precision and recall per class by hand, with and without background', () => {
    // ground truth / prediction over 8 pixels, 3 classes; one prediction is 255 (an ignored pseudo-label pixel)
    const gt = [0, 0, 0, 1, 1, 2, 2, 2];
    const pred = [0, 0, 1, 1, 255, 2, 2, 0];
    const cm = new ConfusionMatrix(3).update(gt, pred);
    const s = segmentationScores(cm, ['background', 'cat', 'dog'], 0);
    // background: TP 2, FP 1 (dog->bg), FN 1 -> IoU 2/4; cat: TP 1, FP 1, FN 1 (missed) -> 1/3; dog: TP 2, FN 1 -> 2/3
    expect(s.classes.map((c) => c.iou)).toEqual([0.5, 1 / 3, 2 / 3]);
    expect(s.classes.map((c) => c.precision)).toEqual([2 / 3, 1 / 2, 1]);
    expect(s.classes.map((c) => c.recall)).toEqual([2 / 3, 1 / 2, 2 / 3]);
    expect(s.mIoU).toBeCloseTo((0.5 + 1 / 3 + 2 / 3) / 3, 10);
    expect(s.mIoUWithoutBackground).toBeCloseTo((1 / 3 + 2 / 3) / 2, 10);
    expect(s.pixelAccuracy).toBeCloseTo(5 / 8, 10);
    // the stored confusion matrix merges like the original (shards)
    const merged = confusionFromJson(s.confusion).merge(confusionFromJson(s.confusion));
    expect(segmentationScores(merged, ['b', 'c', 'd'], 0).mIoU).toBeCloseTo(s.mIoU, 10);
    expect(segmentationScores(cm, ['sky', 'road', 'car'], null).mIoUWithoutBackground).toBeNull();
  });
});

describe('datasets of a run', () => {
  const camvid = sharedPath('data/camvid', 'CamVid crops in a pipeline');
  (camvid ? it : it.skip)(
    "open CamVid crops ('camvid-crops'): half resolution, crops of imageSize",
    async () => {
      const base = {
        ...BASELINE_DEFAULTS.dataset,
        name: 'camvid-crops' as const,
        root: camvid!,
        imageSize: 120,
      };
      const val = await openDataset({ ...base, evalSplit: 'val', evalSize: 0 }, 'eval');
      expect(val.ids).toHaveLength(404);
      const train = await openDataset({ ...base, trainSplit: 'train', trainSize: 50 }, 'train');
      expect(train.ids).toHaveLength(50);
      expect((await train.get(0)).image.width).toBe(120);
    },
  );

  it('name a dataset they do not know, and a missing root', async () => {
    await expect(
      openDataset({ ...BASELINE_DEFAULTS.dataset, name: 'kitti' as never, root: '/x' }, 'train'),
    ).rejects.toThrow(/expected synthetic, voc, camvid or camvid-crops, got 'kitti'/);
    await expect(openDataset({ ...BASELINE_DEFAULTS.dataset, name: 'voc' }, 'train')).rejects.toThrow(
      /dataset.root must name its folder/,
    );
  });
});
