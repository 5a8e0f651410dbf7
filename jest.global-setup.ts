import { useSwiftShaderWhenUnset } from './packages/core/src/testing/webgpu';

/** Runs once in jest's own process, whose environment the workers inherit: the webgpu tests' Vulkan driver. */
export default function globalSetup(): void {
  useSwiftShaderWhenUnset();
}
