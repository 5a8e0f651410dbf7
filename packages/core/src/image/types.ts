/** An 8-bit image in row-major, interleaved (HWC) order. */
export interface RgbImage {
  width: number;
  height: number;
  /** Always 3 for decoded images (alpha dropped, grey expanded). */
  channels: 3;
  data: Uint8Array;
}

/** 8-bit pixels in row-major, interleaved order with 1 (grey), 3 (RGB) or 4 (RGBA) channels, e.g. for a PNG. */
export interface Pixels8 {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** A single-channel label map (class indices; 255 = ignore by convention). */
export interface LabelMap {
  width: number;
  height: number;
  data: Uint8Array;
}
