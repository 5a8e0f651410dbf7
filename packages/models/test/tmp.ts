import { readFileSync } from 'node:fs';
import { selectBackend, tf } from '@wsss/core';
import { MobileNetV2 } from '@wsss/models';
const dir = '/work/shared/weights/mobilenet_v2_1.0_224';
for (const backend of ['cpu', 'wasm'] as const) {
  await selectBackend({ preference: backend, log: null });
  const net = await MobileNetV2.fromWeights(dir, { includeTop: true });
  const fx = JSON.parse(readFileSync(`${dir}/fixtures/fixtures.json`, 'utf8'));
  for (const name of ['cat', 'formula']) {
    const f = fx[name];
    const read = (k: string) => new Float32Array(readFileSync(`${dir}/fixtures/${f[k].file}`).buffer.slice(0));
    const x = tf.tensor4d(read('input'), f.input.shape);
    const t0 = performance.now();
    const out = net.forward(x, { taps: ['stem', 'block_0', 'block_2', 'block_5', 'block_12', 'block_16'] });
    const res: Record<string, number> = {};
    for (const [k, t] of Object.entries({ ...out.taps, conv_1: out.features, logits: out.logits! })) {
      const ref = read(k); const got = t.dataSync();
      let m = 0; for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ref[i] - got[i]));
      res[k] = m;
    }
    console.log(backend, name, (performance.now() - t0).toFixed(0), JSON.stringify(res));
  }
}
