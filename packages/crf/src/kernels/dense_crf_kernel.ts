import {
  makeKernelOutput,
  readKernelInput,
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
 * The portable implementation: reads the inputs back (synchronously) and runs the WebAssembly lattice kernels on
 * one thread. Inputs: unary [L, H, W] float32, image [H, W, 3] int32 (0..255). Output: Q [L, H, W].
 */
export function denseCrfKernelFunc(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { unary, image } = args.inputs as { unary: tf.TensorInfo; image: tf.TensorInfo };
  const attrs = args.attrs as unknown as DenseCrfAttrs;
  const [labels, height, width] = unary.shape;
  const crf = new DenseCrf(width, height, labels).setUnaryEnergy(
    Float32Array.from(readKernelInput(args.backend, unary)),
  );
  if (attrs.gaussianCompat !== 0)
    crf.addPairwiseGaussian({ sxy: attrs.gaussianSxy, compat: attrs.gaussianCompat });
  if (attrs.bilateralCompat !== 0) {
    const data = Uint8Array.from(readKernelInput(args.backend, image));
    crf.addPairwiseBilateral({
      sxy: attrs.bilateralSxy,
      srgb: attrs.bilateralSrgb,
      compat: attrs.bilateralCompat,
      image: { width, height, data },
    });
  }
  return makeKernelOutput(
    args.backend,
    [labels, height, width],
    crf.inferenceSync(attrs.iterations),
    DENSE_CRF,
  );
}

/** Registers {@link denseCrfKernelFunc} for the backends that can read tensors synchronously (unless already registered). */
export function registerDenseCrfKernels(backends: readonly string[] = SYNC_BACKENDS): void {
  registerPortableKernel(DENSE_CRF, denseCrfKernelFunc as unknown as tf.KernelFunc, backends);
}
