/**
 * psa's neighbourhood of "radius" r (`get_indices_of_pairs`): offsets (0, 1..r-1) and every (dy, dx) with
 * 1 <= dy < r, |dx| < r, dy^2 + dx^2 < r^2, in that order. r = 5 gives 34 offsets, r = 10 gives 152. Only half
 * the plane: each undirected pair appears once.
 *
 * @example
 * ```ts
 * neighbourOffsets(5).slice(0, 6); // [[0,1],[0,2],[0,3],[0,4],[1,-4],[1,-3]]
 * ```
 */
export function neighbourOffsets(radius: number): [number, number][] {
  if (!Number.isInteger(radius) || radius < 2)
    throw new Error(`neighbourOffsets: radius must be an integer >= 2, got ${radius}`);
  const offsets: [number, number][] = [];
  for (let x = 1; x < radius; x++) offsets.push([0, x]);
  for (let y = 1; y < radius; y++) {
    for (let x = -radius + 1; x < radius; x++) if (x * x + y * y < radius * radius) offsets.push([y, x]);
  }
  return offsets;
}

/** The "from" pixels and, per offset, their "to" partners on an height x width map (row-major indices). */
export interface PairIndices {
  radius: number;
  height: number;
  width: number;
  offsets: [number, number][];
  /** Rows and columns of the "from" window: [0, height - r + 1) x [r - 1, width - r + 1). */
  fromHeight: number;
  fromWidth: number;
  /** [fromHeight * fromWidth] flat indices. */
  from: Int32Array;
  /** [offsets x from] flat indices: `to[k * from.length + n]` pairs with `from[n]`. */
  to: Int32Array;
}

/**
 * psa's pair indexing: "from" pixels are the window `[0 : h - (r-1), (r-1) : w - (r-1)]` and the partners for
 * offset (dy, dx) the same window shifted by it, so every pair lies inside the map.
 * A 56 x 56 map with r = 5 has 2496 from-pixels and 84,864 pairs.
 */
export function pairIndices(height: number, width: number, radius: number): PairIndices {
  const offsets = neighbourOffsets(radius);
  const rf = radius - 1;
  const fromHeight = height - rf;
  const fromWidth = width - 2 * rf;
  if (fromHeight < 1 || fromWidth < 1) {
    throw new Error(
      `pairIndices: a ${height} x ${width} map is too small for radius ${radius} (needs height >= ${radius}, width >= ${2 * rf + 1})`,
    );
  }
  const n = fromHeight * fromWidth;
  const from = new Int32Array(n);
  const to = new Int32Array(offsets.length * n);
  for (let y = 0, i = 0; y < fromHeight; y++) {
    for (let x = 0; x < fromWidth; x++, i++) {
      from[i] = y * width + x + rf;
      offsets.forEach(([dy, dx], k) => {
        to[k * n + i] = (y + dy) * width + x + rf + dx;
      });
    }
  }
  return { radius, height, width, offsets, fromHeight, fromWidth, from, to };
}
