import { tf } from '../tf';

/**
 * Inputs of one `tf.addN`: WebGPU runs addN as one shader with a storage buffer per input, and a device's default
 * limit is 8 storage buffers per shader stage (the output included), so at most 7 inputs at a time.
 */
const MAX_ADD_INPUTS = 7;

/**
 * The elementwise sum of tensors of one shape, like `tf.addN`, within WebGPU's default limits for any count: inputs
 * are added in groups of at most 7, then the group sums, and so on.
 *
 * Shape: n tensors of one shape -> that shape.
 */
export function sumTensors<T extends tf.Tensor>(tensors: readonly T[]): T {
  if (tensors.length === 0) throw new Error('sumTensors: tensors must not be empty');
  return tf.tidy(() => {
    let level: tf.Tensor[] = [...tensors];
    while (level.length > 1) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < level.length; i += MAX_ADD_INPUTS) {
        const group = level.slice(i, i + MAX_ADD_INPUTS);
        next.push(group.length === 1 ? group[0] : tf.addN(group));
      }
      level = next;
    }
    // a single input is returned as a new tensor, as addN would
    return (tensors.length === 1 ? tf.clone(level[0]) : level[0]) as T;
  });
}
