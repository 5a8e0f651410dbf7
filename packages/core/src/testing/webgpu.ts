import { selectBackend } from '../backend/select_backend';
import { useSwiftShaderWhenUnset } from './swiftshader';

/**
 * Switches the tests of a file to the webgpu backend: Node's `webgpu` package (Dawn) on whatever Vulkan driver is
 * configured, SwiftShader's when `VK_ICD_FILENAMES` is unset and Debian's chromium is installed. Returns false, after
 * saying why on stderr, where no adapter starts, so that the caller skips its tests.
 */
export async function startWebGpuForTests(): Promise<boolean> {
  useSwiftShaderWhenUnset();
  try {
    await selectBackend({ preference: 'webgpu', log: null });
    return true;
  } catch (err) {
    process.stderr.write(`[wsss] skipping the webgpu tests: ${(err as Error).message}\n`);
    return false;
  }
}
