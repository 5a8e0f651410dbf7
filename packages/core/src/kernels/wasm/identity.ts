import { tf } from '../../tf';
import { runOriginalKernel } from './original_kernels';
import type { KernelArgs } from './wasm_heap_kernels';

/**
 * `Identity` for wasm as the cpu backend does it: the output shares the input's data (one more reference) instead
 * of a copy. tfjs-core clones every tensor a gradient saves through this kernel (278 copies per MobileNetV2 training
 * step); tensors are immutable, and the wasm backend's own Reshape already shares data this way.
 */
export function identity(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const backend = args.backend as { incRef?: (dataId: object) => void };
  if (x.dtype === 'string' || typeof backend.incRef !== 'function') {
    return runOriginalKernel(tf.Identity, args);
  }
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}
