// AssemblyScript entry of the dense CRF's WebAssembly module (scripts/build_wasm.mjs compiles it with SIMD, and
// once more for shared memory). Memory is owned by the JavaScript side (src/wasm/); every pointer is a byte address
// it allocated.

export { buildLattice, latticeKeyBytes, latticeNeighbours, latticeWorkBytes } from './lattice_build';
export { filterChannels } from './lattice_filter';
export { nextShareItem } from './context_access';
export { blurShare } from './mean_field_blur';
export * from './mean_field_context';
export { finishShare, sliceSoftmaxShare, startShare } from './mean_field_pixels';
export { buildShare, buildTerm } from './mean_field_setup';
