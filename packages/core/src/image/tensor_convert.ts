import { tf } from '../tf';
import type { LabelMap, RgbImage } from './types';

/** RGB image -> float32 tensor [H, W, 3] with values 0..255. */
export function imageToTensor(image: RgbImage): tf.Tensor3D {
  return tf.tensor3d(Float32Array.from(image.data), [image.height, image.width, 3], 'float32');
}

/** Label map -> int32 tensor [H, W]. */
export function labelMapToTensor(map: LabelMap): tf.Tensor2D {
  return tf.tensor2d(Int32Array.from(map.data), [map.height, map.width], 'int32');
}

/** Tensor [H, W, 3] (0..255, clipped and rounded) -> RGB image. */
export async function tensorToImage(t: tf.Tensor3D): Promise<RgbImage> {
  if (t.rank !== 3 || t.shape[2] !== 3) {
    throw new Error(`tensorToImage: expected a tensor of shape [H,W,3], got [${t.shape.join(',')}]`);
  }
  const values = await t.data();
  return { width: t.shape[1], height: t.shape[0], channels: 3, data: Uint8Array.from(values, clampByte) };
}

function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}
