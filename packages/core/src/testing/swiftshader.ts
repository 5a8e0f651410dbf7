import { existsSync } from 'node:fs';

/** Debian chromium's SwiftShader Vulkan driver: a CPU WebGPU adapter for Node's `webgpu` package (correctness only). */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Points the Vulkan loader at SwiftShader when `VK_ICD_FILENAMES` is unset and Debian's chromium is installed. Call it
 * in the process before Dawn loads: in jest, from a globalSetup (test files see a copy of the environment). This
 * module imports no TensorFlow.js: a copy loaded in jest's own realm would hand the tests typed arrays of another one.
 */
export function useSwiftShaderWhenUnset(): void {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD))
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}
