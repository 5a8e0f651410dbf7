/**
 * Registers tfjs-core's gradients and chained ops (`tf.grad`, `tf.variableGrads`, `t.matMul(...)`). tfjs-core's own
 * registry is ESM with extensionless imports, which Node cannot load from the sources, so here (tests, tsx) the
 * `@tensorflow/tfjs` union (a development dependency) registers them on the same tfjs-core instance. The published
 * builds use register_gradients.build.ts instead (tsup.base.ts): the Node build bundles tfjs-core's registry, a
 * browser bundler reads it as it is, and no user installs the union (Layers, WebGL, the converter, tf.data).
 */
import '@tensorflow/tfjs';
