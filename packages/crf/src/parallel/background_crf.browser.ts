import type { CrfResult } from '../dense_crf_inference';
import type { CrfParams, CrfPresetName } from '../presets';

const NODE_ONLY = 'BackgroundCrf: worker threads need Node.js; in a browser call crfOnScores directly';

/** Browser twin of background_crf.ts: the worker thread is Node's; `start()` says so. */
export class BackgroundCrf {
  private constructor() {}

  static async start(): Promise<BackgroundCrf> {
    throw new Error(NODE_ONLY);
  }

  crfOnScores(
    _image: { width: number; height: number; data: Uint8Array },
    _input: { labelMajor: Float32Array; classValues: readonly number[] },
    _options: { numClasses?: number; params?: CrfParams | CrfPresetName } = {},
  ): Promise<CrfResult> {
    return Promise.reject(new Error(NODE_ONLY));
  }

  async close(): Promise<void> {}
}
