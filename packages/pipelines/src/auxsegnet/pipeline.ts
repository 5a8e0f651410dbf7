import { trainedCheckpoint } from '../artefacts';
import { classLayout } from '../baseline/networks';
import { classifierCamPredictor } from '../baseline/predictors';
import { openDataset } from '../data';
import type { Pipeline, Predictor } from '../pipeline';
import { labelsFromProbabilities } from '../segment';
import { AUXSEGNET_DEFAULTS, AUXSEGNET_PRESETS, type AuxSegNetConfig } from './config';
import { trainedAuxSegNet } from './network';
import { auxSegNetProbabilities, auxSegNetStages, auxSegNetTrainStageName } from './stages';

/** The last stage's AuxSegNet of a finished run (for `wsss infer`). */
async function auxSegNetPredictor(runDir: string, config: AuxSegNetConfig): Promise<Predictor> {
  const stageName = auxSegNetTrainStageName(config.iterations.stages);
  const checkpoint = trainedCheckpoint(runDir, auxSegNetStages(config), stageName, 'last stage network');
  const data = await openDataset(config.dataset, 'eval');
  const { classValues, numClasses } = classLayout(data);
  const net = await trainedAuxSegNet(config, classValues.length, numClasses, checkpoint);
  return {
    classNames: data.classNames,
    palette: data.palette,
    async predict(image) {
      const { probabilities } = auxSegNetProbabilities(net, image, {
        ...config.evaluation,
        inputScale: config.training.inputScale,
      });
      try {
        return await labelsFromProbabilities(probabilities, image, {
          crf: config.evaluation.crf ? 'psa' : false,
        });
      } finally {
        probabilities.dispose();
      }
    },
    dispose: () => net.dispose(),
  };
}

/**
 * AuxSegNet (Xu et al., ICCV 2021): CAMs fused with saliency give the first pseudo labels; one network learns
 * classification, segmentation and saliency together, with a learned cross-task affinity that refines both
 * predictions; after each training stage its refined CAMs and saliency give new pseudo labels for the next.
 */
export const auxSegNetPipeline: Pipeline<AuxSegNetConfig> = {
  name: 'auxsegnet',
  description:
    'CAM + saliency fusion -> S x (AuxSegNet: cls + seg + saliency + cross-task affinity -> updated labels)',
  defaults: AUXSEGNET_DEFAULTS,
  presets: AUXSEGNET_PRESETS,
  stages: (config) => auxSegNetStages(config),
  predictor: auxSegNetPredictor,
  camPredictor: (runDir, config) => classifierCamPredictor(runDir, config, auxSegNetStages(config)),
};
