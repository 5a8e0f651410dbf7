// Math functions hoisted to module constants: global lookups are ~10x slower inside vm contexts (jest).
const { floor, max, min } = Math;

/** HSV (each in [0, 1], hue wrapping) -> RGB in [0, 1]. */
export function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const hh = (((h % 1) + 1) % 1) * 6;
  const i = floor(hh) % 6;
  const f = hh - floor(hh);
  const p = v * (1 - s);
  const q = v * (1 - s * f);
  const t = v * (1 - s * (1 - f));
  switch (i) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

/** RGB in [0, 1] -> HSV in [0, 1]. */
export function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const value = max(r, g, b);
  const d = value - min(r, g, b);
  let hue = 0;
  if (d > 0) {
    if (value === r) hue = ((g - b) / d + 6) % 6;
    else if (value === g) hue = (b - r) / d + 2;
    else hue = (r - g) / d + 4;
    hue /= 6;
  }
  return [hue, value === 0 ? 0 : d / value, value];
}
