import { IMAGENET_NORMALIZATION, type Normalization, normalizeImages, type RgbImage, tf } from '@wsss/core';
import { maskAbsentClasses, normalizeCams } from './activation_maps';
import { resizeBicubic } from './resize';

/** A network that maps normalised images [B, h, w, 3] to raw class activation maps [B, h', w', C]. */
export type CamNetwork = (images: tf.Tensor4D) => tf.Tensor4D;

export interface MultiScaleOptions {
  /** Input scales. Default (1, 0.5, 1.5, 2), as psa and IRN. */
  scales?: readonly number[];
  /** Also run the horizontally flipped image and add its (unflipped) CAMs. Default true. */
  flip?: boolean;
  /** How the scaled inputs are made: PIL-exact 'bicubic' (psa, IRN; default) or tf 'bilinear'. */
  resize?: 'bicubic' | 'bilinear';
  /** `(x/255 - mean) / std` applied to the scaled image (the backbone's `normalization`). Default ImageNet. */
  normalization?: Normalization;
}

/** The image at one scale, normalised, with its horizontal flip: [2, h, w, 3] (or [1, ...] without flip). */
function scaledInput(image: RgbImage, scale: number, options: MultiScaleOptions): tf.Tensor4D {
  const w = Math.max(1, Math.round(image.width * scale));
  const h = Math.max(1, Math.round(image.height * scale));
  return tf.tidy(() => {
    let x: tf.Tensor4D;
    if ((options.resize ?? 'bicubic') === 'bicubic') {
      const r = resizeBicubic(image, w, h);
      x = tf.tensor4d(Float32Array.from(r.data), [1, h, w, 3]);
    } else {
      const full = tf.tensor4d(Float32Array.from(image.data), [1, image.height, image.width, 3]);
      x = tf.image.resizeBilinear(full, [h, w], false, true);
    }
    x = normalizeImages(x, options.normalization ?? IMAGENET_NORMALIZATION);
    return (options.flip ?? true) ? tf.concat([x, tf.reverse(x, 2)]) : x;
  });
}

/** ReLU'd CAMs of one scaled input pair, with the flipped half flipped back and added: [h', w', C]. */
function foldFlip(cams: tf.Tensor4D): tf.Tensor3D {
  const r = tf.relu(cams);
  if (r.shape[0] === 1) return r.squeeze([0]) as tf.Tensor3D;
  const [plain, flipped] = tf.split(r, 2);
  return tf.add(plain, tf.reverse(flipped, 2)).squeeze([0]) as tf.Tensor3D;
}

function checkInputs(image: RgbImage, labels: ArrayLike<number>, name: string): void {
  if (image.data.length !== image.width * image.height * 3) {
    throw new Error(`${name}: image.data has ${image.data.length} bytes, expected width*height*3`);
  }
  if (labels.length === 0) throw new Error(`${name}: labels must not be empty`);
}

/**
 * psa's multi-scale + flip CAM (digest §2.1): for each scale s (PIL bicubic to round(W·s) x round(H·s)) and its
 * flip, `ReLU(F · w)` is upsampled bilinearly (half-pixel centres, as align_corners=False) to H x W, masked to the
 * present classes and unflipped; the 8 maps are summed and each class divided by its maximum + 1e-5.
 *
 * Shape: image H x W RGB, labels [C] -> [H, W, C] (absent classes 0).
 *
 * ```ts
 * const cams = multiScaleCam(image, labels, (x) => head.activationMaps(backbone.forward(x).features));
 * ```
 */
export function multiScaleCam(
  image: RgbImage,
  labels: ArrayLike<number>,
  network: CamNetwork,
  options: MultiScaleOptions = {},
): tf.Tensor3D {
  checkInputs(image, labels, 'multiScaleCam');
  return tf.tidy(() => {
    let sum: tf.Tensor3D | undefined;
    for (const scale of options.scales ?? [1, 0.5, 1.5, 2]) {
      const cams = tf.tidy(() => {
        const raw = network(scaledInput(image, scale, options));
        const up = tf.image.resizeBilinear(
          tf.relu(raw),
          [image.height, image.width],
          false,
          true,
        ) as tf.Tensor4D;
        return foldFlip(up);
      });
      sum = sum ? (tf.add(sum, cams) as tf.Tensor3D) : cams;
    }
    return normalizeCams(maskAbsentClasses(sum!, labels));
  });
}

export interface IrnCams {
  /** [ceil(H/4), ceil(W/4), C]: the maps IRN trains its boundary network on. */
  strided: tf.Tensor3D;
  /** [H, W, C]: upsampled to the stride-16-rounded size, summed, then cropped. */
  highRes: tf.Tensor3D;
}

/**
 * IRN's multi-scale CAM (digest §2.2): per scale the image and its flip in one batch, `x[0] + flip(x[1])` of the
 * ReLU'd CAMs; `strided` sums them resized to the stride-4 size, `highRes` sums them resized to the stride-16
 * rounded-up size and crops to H x W; both restricted to present classes and max-normalised (+1e-5).
 */
export function irnMultiScaleCam(
  image: RgbImage,
  labels: ArrayLike<number>,
  network: CamNetwork,
  options: MultiScaleOptions = {},
): IrnCams {
  checkInputs(image, labels, 'irnMultiScaleCam');
  const { width: W, height: H } = image;
  const strided: [number, number] = [Math.floor((H - 1) / 4) + 1, Math.floor((W - 1) / 4) + 1];
  const up: [number, number] = [(Math.floor((H - 1) / 16) + 1) * 16, (Math.floor((W - 1) / 16) + 1) * 16];
  return tf.tidy(() => {
    let s: tf.Tensor3D | undefined;
    let h: tf.Tensor3D | undefined;
    for (const scale of options.scales ?? [1, 0.5, 1.5, 2]) {
      const folded = foldFlip(network(scaledInput(image, scale, { ...options, flip: options.flip ?? true })));
      const batch = folded.expandDims(0) as tf.Tensor4D;
      const a = tf.image.resizeBilinear(batch, strided, false, true).squeeze([0]) as tf.Tensor3D;
      const b = tf.image.resizeBilinear(batch, up, false, true).squeeze([0]) as tf.Tensor3D;
      s = s ? (tf.add(s, a) as tf.Tensor3D) : a;
      h = h ? (tf.add(h, b) as tf.Tensor3D) : b;
    }
    const cropped = tf.slice(h!, [0, 0, 0], [H, W, h!.shape[2]]);
    return {
      strided: normalizeCams(maskAbsentClasses(s!, labels)),
      highRes: normalizeCams(maskAbsentClasses(cropped, labels)),
    };
  });
}
