import {
  type PortableCompute,
  portableKernelFunc,
  registerPortableKernel,
  SYNC_BACKENDS,
  type tf,
} from '@wsss/core';
import { DenseCrf } from '../dense_crf';

/** Kernel name of the dense CRF op; backends may register their own implementation under it. */
export const DENSE_CRF = 'WsssDenseCrf';

/** Attributes of the dense CRF kernel (a 0 compat switches a term off). */
export interface DenseCrfAttrs {
  [name: string]: number;
  gaussianSxy: number;
  gaussianCompat: number;
  bilateralSxy: number;
  bilateralSrgb: number;
  bilateralCompat: number;
  iterations: number;
}

/**
 * The portable implementation: the WebAssembly lattice kernels on one thread, on the inputs' values. Inputs: unary
 * [L, H, W] float32, image [H, W, 3] int32 (0..255). Output: Q [L, H, W].
 */
export const denseCrfCompute: PortableCompute<DenseCrfAttrs> = (inputs, attrs) => {
  const { unary, image } = inputs;
  const [labels, height, width] = unary.shape;
  const crf = new DenseCrf(width, height, labels).setUnaryEnergy(Float32Array.from(unary.values));
  if (attrs.gaussianCompat !== 0)
    crf.addPairwiseGaussian({ sxy: attrs.gaussianSxy, compat: attrs.gaussianCompat });
  if (attrs.bilateralCompat !== 0) {
    crf.addPairwiseBilateral({
      sxy: attrs.bilateralSxy,
      srgb: attrs.bilateralSrgb,
      compat: attrs.bilateralCompat,
      image: { width, height, data: Uint8Array.from(image.values) },
    });
  }
  return { shape: [labels, height, width], values: crf.inferenceSync(attrs.iterations) };
};

/** The synchronous kernel function of {@link denseCrfCompute} (reads its inputs back synchronously). */
export const denseCrfKernelFunc: tf.KernelFunc = portableKernelFunc(DENSE_CRF, denseCrfCompute);

/** Registers {@link denseCrfKernelFunc} for the backends that can read tensors synchronously (unless already registered). */
export function registerDenseCrfKernels(backends: readonly string[] = SYNC_BACKENDS): void {
  registerPortableKernel(DENSE_CRF, denseCrfKernelFunc, backends);
}
