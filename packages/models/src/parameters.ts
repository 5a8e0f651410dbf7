import { type Rng, tf } from '@wsss/core';

/**
 * The trainable state of a model: named variables, created with a seeded initialiser, loadable from and savable
 * to a weights manifest. Names follow the source checkpoints (TF: `MobilenetV2/Conv/kernel`; PyTorch state_dict
 * keys for the ResNets) so that converted weights load without a name map.
 */
let nextId = 0;

export class Parameters {
  readonly variables = new Map<string, tf.Variable>();
  /** Names whose variables must not change (frozen layers); `trainable()` leaves them out. */
  readonly frozen = new Set<string>();

  /**
   * When false, random initialisers are skipped and variables start at zero: for networks whose weights are loaded
   * right after construction (generating 100M normals for ResNet-38 only to overwrite them costs seconds).
   */
  randomInit = true;

  /** Creates a variable with N(0, std) values (He-normal when std = sqrt(2 / fanIn)), or a constant. */
  create(name: string, shape: number[], init: { std: number; rng: Rng } | { value: number }): tf.Variable {
    if (this.variables.has(name)) throw new Error(`Parameters: ${name} is defined twice`);
    const size = shape.reduce((a, b) => a * b, 1);
    const initial =
      'value' in init || !this.randomInit
        ? tf.fill(shape, 'value' in init ? init.value : 0)
        : tf.tensor(init.rng.fillNormal(new Float32Array(size), 0, init.std), shape);
    const v = tf.variable(initial, true, `${name}#${nextId++}`);
    initial.dispose();
    this.variables.set(name, v);
    return v;
  }

  /**
   * A `size` x `size` convolution from `cin` to `cout` channels with bias: `<name>/kernel` He-normal
   * (std sqrt(2 / (size^2 cin))), `<name>/bias` zero.
   */
  createConvolution(name: string, size: number, cin: number, cout: number, rng: Rng): void {
    this.create(`${name}/kernel`, [size, size, cin, cout], { std: Math.sqrt(2 / (size * size * cin)), rng });
    this.create(`${name}/bias`, [cout], { value: 0 });
  }

  get(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new Error(`Parameters: no parameter named ${name}`);
    return v;
  }

  /** Variables to optimise: everything not frozen. */
  trainable(): tf.Variable[] {
    return [...this.variables].filter(([n]) => !this.frozen.has(n)).map(([, v]) => v);
  }

  /** The variables as a plain name -> tensor map (for `saveWeights`). */
  toNamedTensors(): tf.NamedTensorMap {
    return Object.fromEntries(this.variables);
  }

  /**
   * Assigns loaded tensors by name. Shapes must match; `strict` (default) also requires every parameter to be
   * present. Returns the names that were not loaded and the extra names in `tensors` that matched nothing.
   */
  load(
    tensors: tf.NamedTensorMap,
    options: { strict?: boolean } = {},
  ): { missing: string[]; unexpected: string[] } {
    const missing: string[] = [];
    for (const [name, v] of this.variables) {
      const t = tensors[name];
      if (!t) {
        missing.push(name);
        continue;
      }
      if (!tf.util.arraysEqual(t.shape, v.shape)) {
        throw new Error(
          `Parameters.load: ${name} has shape [${t.shape}] in the weights, expected [${v.shape}]`,
        );
      }
      v.assign(t.dtype === 'float32' ? t : tf.cast(t, 'float32'));
    }
    const unexpected = Object.keys(tensors).filter((n) => !this.variables.has(n));
    if ((options.strict ?? true) && missing.length) {
      throw new Error(
        `Parameters.load: ${missing.length} parameters missing from the weights, e.g. ${missing.slice(0, 3).join(', ')}`,
      );
    }
    return { missing, unexpected };
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}
