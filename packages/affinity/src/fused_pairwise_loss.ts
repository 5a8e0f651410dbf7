import { tf, WasmArena } from '@wsss/core';
import type { Divergence } from './pair_divergence';
import { pairSetMasks } from './pair_sets';
import { PAIRWISE_AFFINITY_WASM } from './wasm/pairwise_affinity_wasm';

interface PairwiseExports {
  pairwiseAffinityLoss(...args: number[]): number;
}

let arena: WasmArena<PairwiseExports> | undefined;

export interface FusedPairwiseSettings {
  dilations: number[];
  margin: number;
  divergence: Divergence;
  ignoreIndex: number;
  clip: number;
  /** 0 none (SA), 1 max, 2 min, 3 mean. */
  connection: 0 | 1 | 2 | 3;
  confidence?: ArrayLike<number>;
}

/** Pair counts per dilation: fg, bg, negative. */
function pairCounts(
  labels: ArrayLike<number>,
  shape: [number, number, number],
  dilations: number[],
  ignoreIndex: number,
): Float32Array {
  const counts = new Float32Array(dilations.length * 3);
  const sum = (mask: Float32Array) => mask.reduce((total, v) => total + v, 0);
  dilations.forEach((d, di) => {
    const masks = pairSetMasks(labels, shape, d, ignoreIndex);
    counts.set([sum(masks.fg), sum(masks.bg), sum(masks.negative)], di * 3);
  });
  return counts;
}

/**
 * The SA / AA loss of {@link pairwiseAffinityLoss} computed with its gradient in one WebAssembly SIMD pass over the
 * pairs (assembly/pairwise_affinity.ts), as a custom-gradient op: the probabilities are read back, so it suits
 * backends whose data lives in CPU memory (cpu, wasm).
 */
export function fusedPairwiseAffinityLoss(
  probabilities: tf.Tensor4D,
  labels: ArrayLike<number>,
  settings: FusedPairwiseSettings,
): tf.Scalar {
  const [b, h, w, c] = probabilities.shape;
  const { dilations, margin, divergence, ignoreIndex, clip, connection, confidence } = settings;
  const counts = pairCounts(labels, [b, h, w], dilations, ignoreIndex);
  const op = tf.customGrad(((x: tf.Tensor) => {
    const values = x.dataSync();
    const pixels = b * h * w;
    const stride = Math.ceil(c / 4) * 4;
    const hi = divergence === 'binary' ? 1 - clip : 1;
    const pad = divergence === 'binary' ? 0.5 : 1;
    arena ??= new WasmArena<PairwiseExports>({ plain: PAIRWISE_AFFINITY_WASM });
    arena.reset();
    const cells = pixels * stride;
    const at = {
      p: arena.alloc(cells * 4),
      logP: arena.alloc(cells * 4),
      log1mP: arena.alloc(cells * 4),
      own: arena.alloc(pixels * 4),
      neighbourConst: arena.alloc(pixels * 4),
      labels: arena.put(Int32Array.from(labels)),
      confidence: confidence ? arena.put(Float32Array.from(confidence)) : 0,
      dilations: arena.put(Int32Array.from(dilations)),
      counts: arena.put(counts),
      grad: arena.alloc(cells * 4),
    };
    const p = arena.f32(at.p, cells);
    const logP = arena.f32(at.logP, cells);
    const log1mP = arena.f32(at.log1mP, cells);
    const own = arena.f32(at.own, pixels);
    const neighbourConst = arena.f32(at.neighbourConst, pixels);
    arena.f32(at.grad, cells).fill(0);
    const { log, min, max } = Math;
    for (let i = 0; i < pixels; i++) {
      let entropy = 0;
      let sumLog1m = 0;
      for (let k = 0; k < stride; k++) {
        const o = i * stride + k;
        const v = k < c ? min(hi, max(clip, values[i * c + k])) : pad;
        p[o] = v;
        logP[o] = log(v);
        log1mP[o] = divergence === 'binary' ? log(1 - v) : 0;
        if (k < c) {
          entropy += divergence === 'binary' ? v * logP[o] + (1 - v) * log1mP[o] : v * logP[o];
          sumLog1m += log1mP[o];
        }
      }
      own[i] = divergence === 'binary' ? sumLog1m : entropy;
      neighbourConst[i] = entropy;
    }
    const loss = arena.exports.pairwiseAffinityLoss(
      b,
      h,
      w,
      stride,
      at.p,
      at.logP,
      at.log1mP,
      at.own,
      at.neighbourConst,
      at.labels,
      at.confidence,
      connection,
      divergence === 'binary' ? 1 : 0,
      margin,
      ignoreIndex,
      at.dilations,
      dilations.length,
      at.counts,
      at.grad,
    );
    const g = arena.f32(at.grad, cells);
    const grad = new Float32Array(pixels * c);
    for (let i = 0; i < pixels; i++) {
      for (let k = 0; k < c; k++) {
        const v = values[i * c + k];
        grad[i * c + k] = v >= clip && v <= hi ? g[i * stride + k] : 0; // clipByValue passes the gradient inside the range
      }
    }
    return {
      value: tf.scalar(loss),
      gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor4d(grad, [b, h, w, c])),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(probabilities) as tf.Scalar;
}
