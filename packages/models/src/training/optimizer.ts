import { adamUpdate, sgdMomentumUpdate, tf } from '@wsss/core';

export interface ParamGroup {
  variables: tf.Variable[];
  /** Multiplies the base learning rate (psa/RRM: 10 for new heads, 1 for the backbone). Default 1. */
  lrMultiplier?: number;
  /** L2 weight decay of this group (added to the gradient, as torch's SGD). Default: the optimizer's. */
  weightDecay?: number;
}

export interface OptimizerOptions {
  kind: 'sgd' | 'adam';
  learningRate: number;
  /** SGD momentum. Default 0.9. */
  momentum?: number;
  /** Default 0. */
  weightDecay?: number;
  /** Poly decay `lr_t = lr_0 (1 - t/maxSteps)^power` when `maxSteps` is set (psa, RRM, AuxSegNet: power 0.9). */
  maxSteps?: number;
  polyPower?: number;
  /** Adam betas and epsilon. Defaults 0.9, 0.999, 1e-8. */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * SGD with momentum or Adam over parameter groups with learning-rate multipliers, L2 weight decay and the poly
 * schedule of the WSSS references. Unlike `tf.train` optimisers its learning rate can change every step and its
 * whole state (step, moment buffers) can be saved in a checkpoint and restored, so a resumed run continues exactly.
 *
 * SGD: `v ← μ v + (g + λ w)`, `w ← w - lr v`. Adam: the usual bias-corrected moments on `g + λ w`.
 */
export class Optimizer {
  step = 0;
  private readonly slots = new Map<tf.Variable, tf.Variable[]>();

  constructor(
    readonly groups: ParamGroup[],
    readonly options: OptimizerOptions,
  ) {
    if (!(options.learningRate > 0))
      throw new Error(`Optimizer: learningRate must be > 0, got ${options.learningRate}`);
    const seen = new Set<tf.Variable>();
    for (const g of groups) {
      for (const v of g.variables) {
        if (seen.has(v)) throw new Error(`Optimizer: variable ${v.name} is in two parameter groups`);
        seen.add(v);
      }
    }
  }

  /** Learning rate of the base group at the current step. */
  learningRate(): number {
    const { learningRate, maxSteps, polyPower = 0.9 } = this.options;
    if (!maxSteps) return learningRate;
    return learningRate * Math.max(0, 1 - this.step / maxSteps) ** polyPower;
  }

  /** All optimised variables. */
  variables(): tf.Variable[] {
    return this.groups.flatMap((g) => g.variables);
  }

  /** Computes `loss()` and its gradients, applies one update and returns the loss value. */
  minimize(loss: () => tf.Scalar): number {
    const { value, grads } = tf.variableGrads(loss, this.variables());
    try {
      this.apply(grads);
      return value.dataSync()[0];
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
    }
  }

  /**
   * Applies one update from gradients keyed by variable name: one fused kernel per variable (`sgdMomentumUpdate`,
   * `adamUpdate` of @wsss/core; WebAssembly SIMD on wasm, a loop on cpu, tf ops elsewhere).
   */
  apply(grads: tf.NamedTensorMap): void {
    const lr = this.learningRate();
    const o = this.options;
    for (const group of this.groups) {
      const learningRate = lr * (group.lrMultiplier ?? 1);
      const weightDecay = group.weightDecay ?? o.weightDecay ?? 0;
      for (const v of group.variables) {
        const g = grads[v.name];
        if (!g) continue;
        if (o.kind === 'sgd') {
          const [velocity] = this.slotsOf(v, 1);
          const next = sgdMomentumUpdate(v, velocity, g, {
            learningRate,
            momentum: o.momentum ?? 0.9,
            weightDecay,
          });
          assignAndDispose([v, velocity], [next.weight, next.velocity]);
        } else {
          const [m, s] = this.slotsOf(v, 2);
          const next = adamUpdate(v, m, s, g, {
            learningRate,
            beta1: o.beta1 ?? 0.9,
            beta2: o.beta2 ?? 0.999,
            epsilon: o.epsilon ?? 1e-8,
            weightDecay,
            step: this.step + 1,
          });
          assignAndDispose([v, m, s], [next.weight, next.m, next.s]);
        }
      }
    }
    this.step++;
  }

  private slotsOf(v: tf.Variable, count: number): tf.Variable[] {
    let slots = this.slots.get(v);
    if (!slots) {
      slots = Array.from({ length: count }, () => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
      this.slots.set(v, slots);
    }
    return slots;
  }

  /** The optimiser state as named tensors (`<variable>/slot<k>`), for checkpoints; names come from `nameOf`. */
  state(nameOf: (v: tf.Variable) => string): tf.NamedTensorMap {
    const out: tf.NamedTensorMap = {};
    for (const [v, slots] of this.slots) {
      for (let k = 0; k < slots.length; k++) out[`optimizer/${nameOf(v)}/slot${k}`] = slots[k];
    }
    return out;
  }

  /** Restores the state saved by `state()`; `step` comes from the checkpoint's metadata. */
  restore(tensors: tf.NamedTensorMap, step: number, nameOf: (v: tf.Variable) => string): void {
    this.step = step;
    const count = this.options.kind === 'sgd' ? 1 : 2;
    for (const v of this.variables()) {
      const saved = Array.from({ length: count }, (_, k) => tensors[`optimizer/${nameOf(v)}/slot${k}`]);
      if (saved.some((t) => !t)) continue;
      const slots = this.slotsOf(v, count);
      for (let k = 0; k < count; k++) slots[k].assign(saved[k]);
    }
  }

  dispose(): void {
    for (const slots of this.slots.values()) tf.dispose(slots);
    this.slots.clear();
  }
}

/** `targets[i].assign(values[i])`, then the values are disposed (assign keeps its own reference to the data). */
function assignAndDispose(targets: tf.Variable[], values: tf.Tensor[]): void {
  targets.forEach((t, i) => {
    t.assign(values[i]);
  });
  tf.dispose(values);
}
