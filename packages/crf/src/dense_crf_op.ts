import { runPortableAsync, runPortableKernel, type tf } from '@wsss/core';
import {
  DENSE_CRF,
  type DenseCrfAttrs,
  denseCrfCompute,
  registerDenseCrfKernels,
} from './kernels/dense_crf_kernel';
import { CRF_PRESETS, type CrfParams, type CrfPresetName } from './presets';

registerDenseCrfKernels();

/**
 * Dense CRF mean field as a tensor op (not differentiable): marginals [L, H, W] from unary energies [L, H, W]
 * and an RGB image [H, W, 3] (int32 or float32 holding 0..255). Dispatches to the `WsssDenseCrf` kernel of the
 * active backend (registered for cpu, wasm, webgl and tensorflow; override per backend with `tf.registerKernel`).
 * On webgpu, which reads tensors only asynchronously, use {@link denseCrfOpAsync}.
 *
 * @example
 * ```ts
 * const q = denseCrfOp(unary, image, 'psa'); // Tensor3D [21, H, W]
 * const labels = q.argMax(0);
 * ```
 */
export function denseCrfOp(
  unary: tf.Tensor3D,
  image: tf.Tensor3D,
  params: CrfParams | CrfPresetName = 'psa',
): tf.Tensor3D {
  return runPortableKernel(
    'denseCrfOp',
    DENSE_CRF,
    { unary, image },
    denseCrfAttrs('denseCrfOp', unary, image, params),
  ) as tf.Tensor3D;
}

/**
 * {@link denseCrfOp} on every backend, webgpu included: the backend's kernel where it has one, otherwise the inputs
 * are read with `data()` (asynchronously), the mean field runs in WebAssembly and Q is uploaded to the backend.
 *
 * @example
 * ```ts
 * const q = await denseCrfOpAsync(unary, image, 'psa'); // on webgpu too
 * ```
 */
export async function denseCrfOpAsync(
  unary: tf.Tensor3D,
  image: tf.Tensor3D,
  params: CrfParams | CrfPresetName = 'psa',
): Promise<tf.Tensor3D> {
  const attrs = denseCrfAttrs('denseCrfOpAsync', unary, image, params);
  return (await runPortableAsync(DENSE_CRF, denseCrfCompute, { unary, image }, attrs)) as tf.Tensor3D;
}

/** The kernel's attributes of `params`, after checking the inputs. */
function denseCrfAttrs(
  op: string,
  unary: tf.Tensor3D,
  image: tf.Tensor3D,
  params: CrfParams | CrfPresetName,
): DenseCrfAttrs {
  const p = typeof params === 'string' ? CRF_PRESETS[params] : params;
  if (!p) throw new Error(`${op}: unknown preset '${params}'`);
  if (unary.rank !== 3 || unary.dtype !== 'float32')
    throw new Error(`${op}: unary must be a float32 [L, H, W] tensor, got ${unary.dtype} [${unary.shape}]`);
  const [, h, w] = unary.shape;
  if (image.rank !== 3 || image.shape[0] !== h || image.shape[1] !== w || image.shape[2] !== 3) {
    throw new Error(`${op}: image must be [${h}, ${w}, 3] like the unary, got [${image.shape}]`);
  }
  return {
    gaussianSxy: p.gaussian?.sxy ?? 1,
    gaussianCompat: p.gaussian?.compat ?? 0,
    bilateralSxy: p.bilateral?.sxy ?? 1,
    bilateralSrgb: p.bilateral?.srgb ?? 1,
    bilateralCompat: p.bilateral?.compat ?? 0,
    iterations: p.iterations,
  };
}
