/**
 * The PASCAL VOC colour map (the `bitget` construction of the VOC devkit): 256 RGB triples, index 0 black,
 * 1 (128,0,0), ..., 255 (224,224,192) which VOC uses for the "void" border.
 */
export function vocPalette(): Uint8Array {
  const palette = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    let r = 0;
    let g = 0;
    let b = 0;
    let c = i;
    for (let j = 0; j < 8; j++) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
      c >>= 3;
    }
    palette.set([r, g, b], i * 3);
  }
  return palette;
}
