/**
 * Run by fresh_process.test.ts in a fresh process: a tf op right after importing @wsss/core, before selectBackend(),
 * then selectBackend('wasm'). Prints one JSON line.
 */
import { selectBackend, tf } from '../../src/index';

const first = tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0];
const before = tf.getBackend();
const { name } = await selectBackend({ preference: 'wasm', log: null });
const after = tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0];
console.log(JSON.stringify({ first, before, name, backend: tf.getBackend(), after }));
