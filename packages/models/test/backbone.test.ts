import { IMAGENET_NORMALIZATION, MOBILENET_NORMALIZATION, selectBackend, tf } from '@wsss/core';
import { type Backbone, MobileNetV2, ResNet38, ResNet50 } from '@wsss/models';

describe('the Backbone contract', () => {
  beforeAll(() => selectBackend({ preference: 'wasm', log: null }));
  afterAll(() => selectBackend({ preference: 'cpu', log: null }));

  const cases: [string, () => Backbone, object, string[]][] = [
    [
      'mobilenet_v2',
      () => new MobileNetV2({ outputStride: 16, widthMultiplier: 0.35 }),
      MOBILENET_NORMALIZATION,
      ['block_3'],
    ],
    [
      'resnet50',
      () => new ResNet50({ outputStride: 16, randomInit: false }),
      IMAGENET_NORMALIZATION,
      ['layer2', 'layer4'],
    ],
    ['resnet38', () => new ResNet38({ randomInit: false }), IMAGENET_NORMALIZATION, ['b4', 'conv4', 'conv5']],
  ];

  it.each(cases)(
    '%s: name, normalisation, features of featureChannels at outputStride, named taps',
    (name, make, normalization, taps) => {
      const backbone = make();
      expect(backbone.name).toBe(name);
      expect(backbone.normalization).toEqual(normalization);
      tf.tidy(() => {
        const out = backbone.forward(tf.zeros([1, 32, 32, 3]), { training: false, taps });
        const side = Math.ceil(32 / backbone.outputStride);
        expect(out.features.shape).toEqual([1, side, side, backbone.featureChannels]);
        for (const tap of taps) expect(out.taps[tap]?.rank).toBe(4);
      });
      backbone.dispose();
    },
  );
});
