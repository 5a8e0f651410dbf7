import { useSwiftShaderWhenUnset } from './packages/core/src/testing/swiftshader';

/** Runs once in jest's own process, whose environment the workers inherit: the webgpu tests' Vulkan driver. */
export default function globalSetup(): void {
  useSwiftShaderWhenUnset();
}
