/**
 * Run by wasm_threads.test.ts in a fresh process (WSSS_THREADS sets the threads, WSSS_RELAXED_SIMD the build): the wasm backend's hot training
 * ops (convolution and depthwise convolution forward and both gradients, strides 1/2, dilation 2, 'same'/'valid';
 * a pointwise convolution with bias and ReLU6 fused and its gradients; batched matmul) on seeded inputs, and the CPU time / wall time of repeated matmuls. Prints one JSON line; the
 * process must exit by itself.
 */
import { biasActivationBackprop, convBiasActivation, selectBackend, tf } from '../../src/index';
import { setMinimumSplitWork } from '../../src/kernels/wasm/wasm_heap_kernels';

const selected = await selectBackend({ preference: 'wasm', log: null });
// every call of our kernels splits its work between the threads, however small
setMinimumSplitWork(0);
const outputs: Record<string, number[]> = {};
const seed = { next: 1 };
const normal = (shape: number[]) => tf.randomNormal(shape, 0, 1, 'float32', seed.next++);

const x = normal([2, 19, 17, 24]) as tf.Tensor4D;
// large inputs: whole blocks and register tiles of our kernels
const large = normal([2, 36, 34, 64]) as tf.Tensor4D;
// an RGB image large enough for 3 partial sums of the patch filter gradient (2048 output positions each)
const rgb = normal([2, 100, 84, 3]) as tf.Tensor4D;
// fewer pixels than output channels: the products split their column strips
const deep = normal([2, 3, 4, 64]) as tf.Tensor4D;
const cases: [string, tf.Tensor4D, (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D, tf.Tensor4D?][] = [
  ['conv 3x3 s1 same', normal([3, 3, 24, 32]) as tf.Tensor4D, (a, w) => tf.conv2d(a, w, 1, 'same')],
  ['conv 3x3 s2 valid', normal([3, 3, 24, 32]) as tf.Tensor4D, (a, w) => tf.conv2d(a, w, 2, 'valid')],
  [
    'conv 3x3 d2 same',
    normal([3, 3, 24, 32]) as tf.Tensor4D,
    (a, w) => tf.conv2d(a, w, 1, 'same', 'NHWC', 2),
  ],
  ['conv 1x1', normal([1, 1, 24, 48]) as tf.Tensor4D, (a, w) => tf.conv2d(a, w, 1, 'same')],
  ['depthwise s1 same', normal([3, 3, 24, 1]) as tf.Tensor4D, (a, w) => tf.depthwiseConv2d(a, w, 1, 'same')],
  ['depthwise s2 same', normal([3, 3, 24, 1]) as tf.Tensor4D, (a, w) => tf.depthwiseConv2d(a, w, 2, 'same')],
  [
    'depthwise d2 valid',
    normal([3, 3, 24, 1]) as tf.Tensor4D,
    (a, w) => tf.depthwiseConv2d(a, w, 1, 'valid', 'NHWC', 2),
  ],
  ['large conv 1x1', normal([1, 1, 64, 72]) as tf.Tensor4D, (a, w) => tf.conv2d(a, w, 1, 'same'), large],
  ['deep conv 1x1', normal([1, 1, 64, 96]) as tf.Tensor4D, (a, w) => tf.conv2d(a, w, 1, 'same'), deep],
  ['large conv 3x3 s2', normal([3, 3, 64, 40]) as tf.Tensor4D, (a, w) => tf.conv2d(a, w, 2, 'same'), large],
  // few input channels: patches (im2col of 64 positions) times the filter; the threads split the positions
  ['RGB stem 3x3 s2', normal([3, 3, 3, 32]) as tf.Tensor4D, (a, w) => tf.conv2d(a, w, 2, 'same'), rgb],
  [
    'large depthwise',
    normal([3, 3, 64, 1]) as tf.Tensor4D,
    (a, w) => tf.depthwiseConv2d(a, w, 1, 'same'),
    large,
  ],
  [
    'large fused 1x1 + bias + relu6',
    normal([1, 1, 64, 72]) as tf.Tensor4D,
    (a, w) => convBiasActivation(a, w, tf.linspace(-1, 3, 72) as tf.Tensor1D, { activation: 'relu6' }),
    large,
  ],
  [
    'large depthwise relu6',
    normal([3, 3, 64, 1]) as tf.Tensor4D,
    (a, w) => tf.relu6(tf.mul(tf.depthwiseConv2d(a, w, 2, 'same'), 3)) as tf.Tensor4D,
    large,
  ],
];
for (const [name, w, op, input] of cases) {
  const at = input ?? x;
  const dy = tf.tidy(() => normal(op(at, w).shape));
  const [y, dx, dw] = tf.tidy(() => {
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(op(a as tf.Tensor4D, b as tf.Tensor4D), dy)),
    );
    return [op(at, w), ...grads([at, w])];
  });
  outputs[`${name}: y`] = Array.from(await y.data());
  outputs[`${name}: dx`] = Array.from(await dx.data());
  outputs[`${name}: dw`] = Array.from(await dw.data());
  tf.dispose([y, dx, dw, dy, w]);
}
const a = normal([3, 200, 96]);
const b = normal([3, 96, 150]);
const product = tf.matMul(a, b);
outputs['batched matmul'] = Array.from(await product.data());
const columns = tf.sum(large, [0, 1, 2]);
outputs['bias gradient (column sums)'] = Array.from(await columns.data());
const fusedBackprop = biasActivationBackprop(large, tf.relu6(tf.reverse(large, 2)), 'relu6');
outputs['bias + relu6 gradient: dz'] = Array.from(await fusedBackprop.dz.data());
outputs['bias + relu6 gradient: dbias'] = Array.from(await fusedBackprop.dbias.data());
tf.dispose([fusedBackprop.dz, fusedBackprop.dbias]);
const softmaxGradient = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.softmax(t), tf.reverse(large, 2))))(large);
outputs['softmax gradient'] = Array.from(await softmaxGradient.data());
softmaxGradient.dispose();
const sum = tf.add(large, tf.reverse(large, 1));
outputs.add = Array.from(await sum.data());
sum.dispose();
tf.dispose([product, x, large, rgb, columns]);

// two threads keep two cores busy: CPU time beyond wall time (over ~0.5 s of products, so that a moment of other
// load on the machine does not decide it)
const big = normal([1024, 1024]);
const start = performance.now();
const cpu = process.cpuUsage();
for (let i = 0; i < 10; i++) tf.tidy(() => tf.matMul(big, big)).dispose();
const used = process.cpuUsage(cpu);
const wall = performance.now() - start;
tf.dispose([a, b, big]);

console.log(
  JSON.stringify({
    threads: selected.threads,
    xnnpackThreads: selected.xnnpackThreads,
    threadsNote: selected.threadsNote ?? null,
    relaxedSimd: selected.relaxedSimd,
    cpuOverWall: (used.user + used.system) / 1000 / wall,
    tensors: tf.memory().numTensors,
    outputs,
  }),
);
