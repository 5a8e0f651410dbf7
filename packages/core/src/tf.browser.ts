/**
 * Browser twin of tf.ts. A bundler reads tfjs-core's ESM files, so the gradients and chained ops are registered from
 * tfjs-core itself, without the `@tensorflow/tfjs` union (Layers, WebGL, the converter and tf.data stay out of the
 * page). The cpu and wasm backends as in Node; webgpu is the page's to import (`@tensorflow/tfjs-backend-webgpu`).
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { demoteAsyncBackend } from './backend/demote_async_backend';

demoteAsyncBackend('wasm');

export { tf };
