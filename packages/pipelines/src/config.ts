/**
 * Pipeline configs: a typed object of defaults per pipeline, presets that override parts of it, a JSON file and
 * `key.path=value` overrides on top. Every key must exist in the defaults (an unknown key is an error naming it and
 * the known ones), and every value must have the default's type.
 */

/** A config value: what JSON can hold. */
export type ConfigValue = string | number | boolean | null | ConfigValue[] | { [key: string]: ConfigValue };
export type ConfigObject = { [key: string]: ConfigValue };

/** A deep partial of a config, for presets and files. */
export type ConfigOverrides<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : ConfigOverrides<T[K]>) : T[K];
};

function isObject(value: unknown): value is ConfigObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function kind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/**
 * `base` with `overrides` merged in, key by key (objects recursively, arrays and scalars replaced). `where` names the
 * source in errors (a preset, a file, `--set`).
 */
export function mergeConfig<T extends object>(base: T, overrides: unknown, where: string, path = ''): T {
  if (!isObject(overrides))
    throw new Error(`${where}: ${path || 'the config'} must be an object, got ${kind(overrides)}`);
  // a deep copy: the result shares nothing with `base` (defaults stay untouched when a caller edits a config)
  const out = structuredClone(base) as ConfigObject;
  for (const [key, value] of Object.entries(overrides)) {
    const at = path ? `${path}.${key}` : key;
    if (!(key in out)) {
      throw new Error(
        `${where}: unknown key '${at}'; known keys${path ? ` of ${path}` : ''}: ${Object.keys(out).join(', ')}`,
      );
    }
    const current = out[key];
    if (isObject(current)) {
      out[key] = mergeConfig(current, value, where, at) as ConfigObject;
      continue;
    }
    // null marks "optional, none": any value of a scalar type may replace it
    if (current !== null && value !== null && kind(current) !== kind(value)) {
      throw new Error(
        `${where}: '${at}' must be a ${kind(current)}, got ${kind(value)} ${JSON.stringify(value)}`,
      );
    }
    out[key] = value as ConfigValue;
  }
  return out as T;
}

/**
 * Parses one `key.path=value` override against the defaults: the value is read as the default's type (numbers,
 * booleans, JSON arrays; strings as written; `null` for optional values).
 */
export function parseOverride(assignment: string, defaults: object): ConfigObject {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new Error(`--set: expected key.path=value, got '${assignment}'`);
  const path = assignment.slice(0, eq).trim().split('.');
  const text = assignment.slice(eq + 1).trim();
  let node: unknown = defaults;
  for (const [i, key] of path.entries()) {
    if (!isObject(node) || !(key in node)) {
      const known = isObject(node) ? Object.keys(node).join(', ') : '(none: not an object)';
      throw new Error(`--set: unknown key '${path.slice(0, i + 1).join('.')}'; known keys here: ${known}`);
    }
    node = node[key];
  }
  let value: ConfigValue;
  if (text === 'null') value = null;
  else if (typeof node === 'number') {
    value = Number(text);
    if (text === '' || !Number.isFinite(value))
      throw new Error(`--set: '${path.join('.')}' must be a number, got '${text}'`);
  } else if (typeof node === 'boolean') {
    if (text !== 'true' && text !== 'false')
      throw new Error(`--set: '${path.join('.')}' must be true or false, got '${text}'`);
    value = text === 'true';
  } else if (Array.isArray(node) || isObject(node)) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(
        `--set: '${path.join('.')}' must be JSON (${Array.isArray(node) ? 'an array' : 'an object'}), got '${text}'`,
      );
    }
  } else if (node === null) {
    const n = Number(text);
    value =
      text !== '' && Number.isFinite(n) ? n : text === 'true' || text === 'false' ? text === 'true' : text;
  } else value = text;
  const out: ConfigObject = {};
  let cursor = out;
  path.slice(0, -1).forEach((key) => {
    cursor[key] = {};
    cursor = cursor[key] as ConfigObject;
  });
  cursor[path[path.length - 1]] = value;
  return out;
}

/** Where a resolved config came from, in order of precedence (later wins). */
export interface ConfigSources {
  /** Preset name (its overrides apply first). */
  preset?: string;
  /** Overrides read from a JSON config file. */
  file?: { path: string; contents: unknown };
  /** `key.path=value` assignments (the CLI's `--set`). */
  sets?: readonly string[];
}

/**
 * The config of a run: the defaults, then the preset's overrides, then the file's, then each `--set`.
 *
 * ```ts
 * const config = resolveConfig(BASELINE_DEFAULTS, BASELINE_PRESETS, { preset: 'smoke', sets: ['classifier.steps=20'] });
 * ```
 */
export function resolveConfig<T extends object>(
  defaults: T,
  presets: Record<string, ConfigOverrides<T>>,
  sources: ConfigSources = {},
): T {
  let config = defaults;
  if (sources.preset !== undefined) {
    const preset = presets[sources.preset];
    if (!preset) {
      throw new Error(
        `unknown preset '${sources.preset}'; expected one of ${Object.keys(presets).join(', ')}`,
      );
    }
    config = mergeConfig(config, preset, `preset '${sources.preset}'`);
  }
  if (sources.file) config = mergeConfig(config, sources.file.contents, sources.file.path);
  for (const assignment of sources.sets ?? [])
    config = mergeConfig(config, parseOverride(assignment, defaults), `--set ${assignment}`);
  return config;
}
