// Tests run on the exact cpu backend unless a test selects another one.
import { selectBackend } from '@wsss/core';

// Jest gives every test file a module registry of its own, so every file that selects wasm starts a new wasm
// backend: with threads, 9 more threads and ~100 MB that live until the jest worker exits. Tests run the wasm
// backend on one thread unless they ask; packages/core/test/wasm_threads.test.ts runs 1 and 2 threads in fresh
// processes and checks that every result is the same.
process.env.WSSS_THREADS ??= '1';

beforeAll(async () => {
  await selectBackend({ preference: 'cpu', log: null });
});
