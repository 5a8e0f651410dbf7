import * as tf from '@tensorflow/tfjs-core';

/**
 * tfjs-backend-wasm registers itself with a higher priority than cpu, so a tf op run before `selectBackend()` made
 * the engine pick wasm, which must first load its binary asynchronously: the op threw "backend 'wasm' has not yet
 * been initialized" from inside the loader. Registered below cpu, it starts only when selected; until then ops run on
 * cpu. (Re-registering from another copy of @wsss/core is harmless: the factory is the same.)
 */
export function demoteAsyncBackend(name: string): void {
  const engine = tf.engine();
  const entry = engine.registryFactory[name];
  if (entry === undefined || entry.priority < 0 || engine.backendName === name) return;
  tf.removeBackend(name);
  tf.registerBackend(name, entry.factory, -1);
}
