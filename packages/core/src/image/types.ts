/** An 8-bit image in row-major, interleaved (HWC) order. */
export interface RgbImage {
  width: number;
  height: number;
  /** Always 3 for decoded images (alpha dropped, grey expanded). */
  channels: 3;
  data: Uint8Array;
}

/** A single-channel label map (class indices; 255 = ignore by convention). */
export interface LabelMap {
  width: number;
  height: number;
  data: Uint8Array;
}
