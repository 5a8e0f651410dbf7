// AssemblyScript: the SA / AA pairwise affinity loss (AA/LR paper eqs. 1-12) and its gradient in one pass, compiled
// to WebAssembly SIMD by scripts/build_wasm.mjs. Pixel-major buffers with `stride` (a multiple of 4) floats per
// pixel; padding lanes hold 1 (categorical) or 0.5 (binary) so that they add nothing.

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/**
 * Loss and gradient. `p` [N x stride] clipped probabilities, `logP` and `log1mP` their logs (log(1 - p) for the
 * binary divergence), `own` [N] the per-pixel constant (categorical: -sum p log p; binary: sum log(1 - p)),
 * `neighbourConst` [N] (binary: sum q log q + (1 - q) log(1 - q)), `labels` [N] i32, `confidence` [N] or 0,
 * `counts` [dilations x 3] f32 pair counts (fg, bg, negative). Adds dL/dp into `grad` [N x stride].
 * connection: 0 none (SA), 1 max, 2 min, 3 mean. divergence: 0 categorical KL(F_i || F_j), 1 binary summed.
 */
export function pairwiseAffinityLoss(
  batch: i32, height: i32, width: i32, stride: i32,
  p: usize, logP: usize, log1mP: usize, own: usize, neighbourConst: usize,
  labels: usize, confidence: usize, connection: i32, divergence: i32, margin: f32, ignoreIndex: i32,
  dilations: usize, dilationCount: i32, counts: usize, grad: usize,
): f32 {
  const rowBytes = <usize>stride << 2;
  let loss: f32 = 0;
  for (let di = 0; di < dilationCount; di++) {
    const d = load<i32>(dilations + (<usize>di << 2));
    const fgCount = max<f32>(load<f32>(counts + (<usize>(di * 3) << 2)), 1);
    const bgCount = max<f32>(load<f32>(counts + (<usize>(di * 3 + 1) << 2)), 1);
    const negCount = max<f32>(load<f32>(counts + (<usize>(di * 3 + 2) << 2)), 1);
    for (let n = 0; n < batch; n++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const i = (n * height + y) * width + x;
          const li = load<i32>(labels + (<usize>i << 2));
          if (li == ignoreIndex) continue;
          for (let dy = -d; dy <= d; dy += d) {
            const yy = y + dy;
            if (yy < 0 || yy >= height) continue;
            for (let dx = -d; dx <= d; dx += d) {
              const xx = x + dx;
              if ((dy == 0 && dx == 0) || xx < 0 || xx >= width) continue;
              const j = (n * height + yy) * width + xx;
              const lj = load<i32>(labels + (<usize>j << 2));
              if (lj == ignoreIndex) continue;
              let omega: f32 = 1;
              if (connection != 0) {
                const vi = load<f32>(confidence + (<usize>i << 2));
                const vj = load<f32>(confidence + (<usize>j << 2));
                omega = connection == 1 ? max<f32>(vi, vj) : connection == 2 ? min<f32>(vi, vj) : 0.5 * (vi + vj);
              }
              const pi = p + <usize>i * rowBytes;
              const pj = p + <usize>j * rowBytes;
              // W = own_i - <p_i, log p_j> (categorical) or H_j - <logit_i, q_j> - own_i (binary)
              let dot = f32x4.splat(0);
              for (let k: usize = 0; k < rowBytes; k += 16) {
                const a = divergence == 0 ? v128.load(pi + k) : f32x4.sub(v128.load(logP + <usize>i * rowBytes + k), v128.load(log1mP + <usize>i * rowBytes + k));
                const b = divergence == 0 ? v128.load(logP + <usize>j * rowBytes + k) : v128.load(pj + k);
                dot = f32x4.add(dot, f32x4.mul(a, b));
              }
              const ownI = load<f32>(own + (<usize>i << 2));
              const w = divergence == 0 ? ownI - hsum(dot) : load<f32>(neighbourConst + (<usize>j << 2)) - hsum(dot) - ownI;
              let coef: f32 = 0;
              if (li != lj) {
                const hinge = omega * margin - w;
                if (hinge > 0) {
                  loss += (2 * hinge) / negCount;
                  coef = -2 / negCount;
                }
              } else if (li == 0) {
                loss += (omega * w) / bgCount;
                coef = omega / bgCount;
              } else {
                loss += (omega * w) / fgCount;
                coef = omega / fgCount;
              }
              if (coef == 0) continue;
              const c = f32x4.splat(coef);
              const gi = grad + <usize>i * rowBytes;
              const gj = grad + <usize>j * rowBytes;
              for (let k: usize = 0; k < rowBytes; k += 16) {
                const pik = v128.load(pi + k);
                const pjk = v128.load(pj + k);
                if (divergence == 0) {
                  // dW/dp_i = log p_i + 1 - log p_j ; dW/dp_j = -p_i / p_j
                  const lpi = v128.load(logP + <usize>i * rowBytes + k);
                  const lpj = v128.load(logP + <usize>j * rowBytes + k);
                  v128.store(gi + k, f32x4.add(v128.load(gi + k), f32x4.mul(c, f32x4.add(f32x4.sub(lpi, lpj), f32x4.splat(1)))));
                  v128.store(gj + k, f32x4.sub(v128.load(gj + k), f32x4.mul(c, f32x4.div(pik, pjk))));
                } else {
                  // dW/dq_j = logit_j - logit_i ; dW/dq_i = -q_j / q_i + (1 - q_j) / (1 - q_i)
                  const logitI = f32x4.sub(v128.load(logP + <usize>i * rowBytes + k), v128.load(log1mP + <usize>i * rowBytes + k));
                  const logitJ = f32x4.sub(v128.load(logP + <usize>j * rowBytes + k), v128.load(log1mP + <usize>j * rowBytes + k));
                  v128.store(gj + k, f32x4.add(v128.load(gj + k), f32x4.mul(c, f32x4.sub(logitJ, logitI))));
                  const one = f32x4.splat(1);
                  const di2 = f32x4.sub(f32x4.div(f32x4.sub(one, pjk), f32x4.sub(one, pik)), f32x4.div(pjk, pik));
                  v128.store(gi + k, f32x4.add(v128.load(gi + k), f32x4.mul(c, di2)));
                }
              }
            }
          }
        }
      }
    }
  }
  return loss;
}
