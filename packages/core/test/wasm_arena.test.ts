import { WasmArena } from '@wsss/core';

// (module (import "env" "memory" (memory 1))): a module whose only part is the memory it is given
const MEMORY_ONLY = Buffer.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65,
  0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x01,
]).toString('base64');

describe('WasmArena', () => {
  it('hands out aligned buffers from 16, keeps reserved bytes out of every allocation and grows its memory', () => {
    const plain = new WasmArena({ plain: MEMORY_ONLY });
    expect(plain.alloc(5)).toBe(16);
    expect(plain.alloc(5)).toBe(32);
    const reserved = new WasmArena({ plain: MEMORY_ONLY }, 8);
    const first = reserved.alloc(4);
    expect(first).toBe(32); // bytes 16..23 reserved, rounded up to 16
    reserved.i32(16, 2).set([7, 9]);
    reserved.reset();
    expect(reserved.alloc(100)).toBe(first);
    const big = reserved.alloc(3 * 2 ** 20);
    expect(reserved.memory.buffer.byteLength).toBeGreaterThanOrEqual(big + 3 * 2 ** 20);
    expect(Array.from(reserved.i32(16, 2))).toEqual([7, 9]);
    const at = reserved.put(new Float32Array([1.5, 2.5]));
    expect(Array.from(reserved.f32(at, 2))).toEqual([1.5, 2.5]);
  });
});
