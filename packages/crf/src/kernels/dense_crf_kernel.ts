import { tf } from '@wsss/core';
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

interface SyncBackend {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo?(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
  makeOutput?(
    shape: number[],
    dtype: 'float32',
    memoryOffset: undefined,
    values: Float32Array,
  ): tf.TensorInfo;
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
  const backend = args.backend as SyncBackend;
  const [labels, height, width] = unary.shape;
  const crf = new DenseCrf(width, height, labels).setUnaryEnergy(
    Float32Array.from(backend.readSync(unary.dataId)),
  );
  if (attrs.gaussianCompat !== 0)
    crf.addPairwiseGaussian({ sxy: attrs.gaussianSxy, compat: attrs.gaussianCompat });
  if (attrs.bilateralCompat !== 0) {
    const data = Uint8Array.from(backend.readSync(image.dataId));
    crf.addPairwiseBilateral({
      sxy: attrs.bilateralSxy,
      srgb: attrs.bilateralSrgb,
      compat: attrs.bilateralCompat,
      image: { width, height, data },
    });
  }
  const q = crf.inferenceSync(attrs.iterations);
  if (backend.makeTensorInfo) return backend.makeTensorInfo([labels, height, width], 'float32', q);
  if (backend.makeOutput) return backend.makeOutput([labels, height, width], 'float32', undefined, q);
  throw new Error(
    `${DENSE_CRF}: this backend can neither makeTensorInfo nor makeOutput; register a kernel for it`,
  );
}

/** Registers {@link denseCrfKernelFunc} for the backends that can read tensors synchronously (unless already registered). */
export function registerDenseCrfKernels(
  backends: readonly string[] = ['cpu', 'wasm', 'webgl', 'webgpu', 'tensorflow'],
): void {
  for (const backendName of backends) {
    if (!tf.getKernel(DENSE_CRF, backendName)) {
      tf.registerKernel({
        kernelName: DENSE_CRF,
        backendName,
        kernelFunc: denseCrfKernelFunc as unknown as tf.KernelFunc,
      });
    }
  }
}
