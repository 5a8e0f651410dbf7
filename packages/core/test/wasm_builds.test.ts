import { setRelaxedSimd, usesRelaxedSimd, type WasmBinaries, wasmBuild } from '@wsss/core';

// (module (import "env" "memory" (memory N))): valid modules told apart by their minimum memory N
const memoryModule = (pages: number) =>
  Buffer.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    0x02,
    0x0f,
    0x01,
    0x03,
    0x65,
    0x6e,
    0x76,
    0x06,
    0x6d,
    0x65,
    0x6d,
    0x6f,
    0x72,
    0x79,
    0x02,
    0x00,
    pages,
  ]).toString('base64');
// a binary of WebAssembly version 2, which no engine validates: stands for relaxed SIMD on an engine without it
const UNKNOWN_TO_ENGINE = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00]).toString('base64');

describe('wasmBuild', () => {
  const binaries: WasmBinaries = {
    plain: memoryModule(1),
    shared: memoryModule(2),
    relaxed: { plain: memoryModule(3), shared: memoryModule(4) },
  };
  afterEach(() => setRelaxedSimd(true));

  it('picks the relaxed-SIMD build for plain and shared memories where the engine validates it', () => {
    expect(wasmBuild(binaries, false)).toBe(binaries.relaxed?.plain);
    expect(wasmBuild(binaries, true)).toBe(binaries.relaxed?.shared);
    expect(usesRelaxedSimd(binaries)).toBe(true);
  });

  it('falls back to the plain SIMD builds when relaxed SIMD is switched off, missing or unknown to the engine', () => {
    setRelaxedSimd(false);
    expect([wasmBuild(binaries, false), wasmBuild(binaries, true)]).toEqual([
      binaries.plain,
      binaries.shared,
    ]);
    expect(usesRelaxedSimd(binaries)).toBe(false);
    setRelaxedSimd(true);
    const unknown = { ...binaries, relaxed: { plain: UNKNOWN_TO_ENGINE, shared: UNKNOWN_TO_ENGINE } };
    expect([wasmBuild(unknown, false), wasmBuild(unknown, true)]).toEqual([binaries.plain, binaries.shared]);
    expect(usesRelaxedSimd(unknown)).toBe(false);
    expect(wasmBuild({ plain: binaries.plain }, false)).toBe(binaries.plain);
    expect(usesRelaxedSimd({ plain: binaries.plain })).toBe(false);
  });

  it('has no build for a shared memory when the module has no shared build', () => {
    expect(wasmBuild({ plain: binaries.plain }, true)).toBeUndefined();
    expect(wasmBuild({ plain: binaries.plain, relaxed: { plain: memoryModule(3) } }, true)).toBeUndefined();
  });
});
