/** Helpers for tests of `@wsss/*` packages and of code built on them. Node only. */
export { expectNoLeaks, type NoLeakOptions, withNoLeaks } from './no_leaks';
export { sharedDataRoot, sharedPath } from './shared_data';
