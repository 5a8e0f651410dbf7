import { existsSync } from 'node:fs';
import { selectBackend } from '../backend/select_backend';

/** Debian chromium's SwiftShader Vulkan driver: a CPU WebGPU adapter for Node's `webgpu` package (correctness only). */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Points the Vulkan loader at SwiftShader when `VK_ICD_FILENAMES` is unset and Debian's chromium is installed. Call it
 * in the process before Dawn loads (a jest globalSetup: test files see a copy of the environment).
 */
export function useSwiftShaderWhenUnset(): void {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD))
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}

/**
 * Switches the tests of a file to the webgpu backend: Node's `webgpu` package (Dawn) on whatever Vulkan driver is
 * configured, SwiftShader's when `VK_ICD_FILENAMES` is unset and Debian's chromium is installed. Returns false, after
 * saying why on stderr, where no adapter starts, so that the caller skips its tests.
 */
export async function startWebGpuForTests(): Promise<boolean> {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD))
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  try {
    await selectBackend({ preference: 'webgpu', log: null });
    return true;
  } catch (err) {
    process.stderr.write(`[wsss] skipping the webgpu tests: ${(err as Error).message}\n`);
    return false;
  }
}
