/**
 * The builds' twin of register_gradients.ts: tfjs-core's gradient and chained-op registries themselves. The Node
 * build bundles them (and the tfjs-core modules they import, which register on the one global engine and registry
 * that every tfjs-core copy shares); the browser build leaves them to the page's bundler.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
