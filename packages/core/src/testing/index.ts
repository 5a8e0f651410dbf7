/** Helpers for tests of `@wsss/*` packages and of code built on them. Node only. */

export { expectGradientsMatch, type GradientCheckOptions } from './gradient_check';
export { expectNoLeaks, type NoLeakOptions, withNoLeaks } from './no_leaks';
export { relativeError } from './relative_error';
export { sharedDataRoot, sharedPath } from './shared_data';
export { useSwiftShaderWhenUnset } from './swiftshader';
export { startWebGpuForTests } from './webgpu';
