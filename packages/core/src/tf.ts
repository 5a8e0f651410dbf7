/**
 * The one TensorFlow.js entry point of the project.
 *
 * `@tensorflow/tfjs-core` on its own registers no gradients and no chained ops in Node; register_gradients does, so
 * that `tf.grad`, `tf.variableGrads` and `t.matMul(...)` work for every user of `@wsss/*`, whether they load us as
 * ESM or CommonJS. The cpu backend is always available as the last resort; the wasm backend is registered here (it
 * starts only when selected) so that our kernel fixes can replace its own.
 */
import './register_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { demoteAsyncBackend } from './backend/demote_async_backend';

demoteAsyncBackend('wasm');

export { tf };
