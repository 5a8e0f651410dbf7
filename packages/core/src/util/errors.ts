/** Throws an Error whose message names the argument and what was expected. */
export function fail(argName: string, expected: string, got: string): never {
  throw new Error(`${argName}: expected ${expected}, got ${got}`);
}

/** Checks a condition about an argument; on failure throws `"<argName>: expected <expected>, got <got>"`. */
export function check(
  condition: boolean,
  argName: string,
  expected: string,
  got: () => string,
): asserts condition {
  if (!condition) fail(argName, expected, got());
}

/** `[1, 2, 3]` -> `"[1,2,3]"`, for error messages about shapes. */
export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
