/**
 * The one TensorFlow.js entry point of the project.
 *
 * `@tensorflow/tfjs-core` on its own registers no gradients and no chained ops in Node (its gradient registry is
 * ESM-only). The `@tensorflow/tfjs` union package registers both on the *same* tfjs-core instance, so importing it
 * here for its side effects makes `tf.grad`, `tf.variableGrads` and `t.matMul(...)` work for every user of
 * `@wsss/*`, whether they load us as ESM or CommonJS. The cpu backend is always available as the last resort; the
 * wasm backend is registered here (it starts only when selected) so that our kernel fixes can replace its own.
 */
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

demoteAsyncBackend('wasm');

/**
 * tfjs-backend-wasm registers itself with a higher priority than cpu, so a tf op run before `selectBackend()` made
 * the engine pick wasm, which must first load its binary asynchronously: the op threw "backend 'wasm' has not yet
 * been initialized" from inside the loader. Registered below cpu, it starts only when selected; until then ops run on
 * cpu. (Re-registering from another copy of @wsss/core is harmless: the factory is the same.)
 */
function demoteAsyncBackend(name: string): void {
  const engine = tf.engine();
  const entry = engine.registryFactory[name];
  if (entry === undefined || entry.priority < 0 || engine.backendName === name) return;
  tf.removeBackend(name);
  tf.registerBackend(name, entry.factory, -1);
}

export { tf };
