/**
 * The one config resolver. A user config is a partial JSON object; the resolved config has every
 * field filled from the defaults. The defaults double as the schema: a key that is not in them is
 * unknown, and a value must have the default's type. `rules` add what types cannot say (ranges,
 * enumerations, integer-ness), keyed by dotted path.
 *
 * @module
 */
import { ConfigError } from "./errors.ts";

/** A deep-partial of a config type: what a user may write. */
export type DeepPartial<T> = T extends readonly unknown[] ? T
  : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> }
  : T;

/** One extra check on a leaf value. */
export type Rule =
  | { kind: "int"; min?: number; max?: number }
  | { kind: "number"; min?: number; max?: number; exclusiveMin?: boolean }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "nullableString" }
  | { kind: "nullableNumber"; min?: number; exclusiveMin?: boolean }
  | { kind: "nullableIntList" };

/** Resolves `user` over `defaults`; throws {@linkcode ConfigError} naming `file` and the key. */
export function resolveConfig<T extends object>(
  defaults: T,
  user: unknown,
  file: string,
  rules: Record<string, Rule> = {},
): T {
  const resolved = merge(defaults, user, file, "", rules) as T;
  return resolved;
}

function merge(
  def: unknown,
  user: unknown,
  file: string,
  path: string,
  rules: Record<string, Rule>,
): unknown {
  const rule = rules[path];
  if (user === undefined) return structuredClone(def);
  if (rule) {
    checkRule(rule, user, file, path);
    return user;
  }
  if (isPlainObject(def)) {
    if (!isPlainObject(user)) {
      throw new ConfigError(file, path || null, "an object", `got ${describe(user)}`);
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(user)) {
      if (!(key in def)) {
        const known = Object.keys(def).join(", ");
        throw new ConfigError(
          file,
          join(path, key),
          `one of the known keys (${known})`,
          "unknown key",
        );
      }
    }
    for (const [key, value] of Object.entries(def)) {
      out[key] = merge(value, user[key], file, join(path, key), rules);
    }
    return out;
  }
  if (Array.isArray(def)) {
    if (!Array.isArray(user)) {
      throw new ConfigError(file, path, "an array", `got ${describe(user)}`);
    }
    const sample = def[0];
    if (sample !== undefined) {
      user.forEach((item, i) => {
        if (typeof item !== typeof sample) {
          throw new ConfigError(
            file,
            `${path}[${i}]`,
            `a ${typeof sample}`,
            `got ${describe(item)}`,
          );
        }
      });
    }
    return user.slice();
  }
  if (typeof def === "number") {
    if (typeof user !== "number" || !Number.isFinite(user)) {
      throw new ConfigError(
        file,
        path,
        `a finite number (default ${def})`,
        `got ${describe(user)}`,
      );
    }
    return user;
  }
  if (typeof def !== typeof user) {
    throw new ConfigError(
      file,
      path,
      `a ${typeof def} (default ${JSON.stringify(def)})`,
      `got ${describe(user)}`,
    );
  }
  return user;
}

function checkRule(rule: Rule, value: unknown, file: string, path: string): void {
  switch (rule.kind) {
    case "int": {
      const range = `${rule.min ?? "-inf"}..${rule.max ?? "inf"}`;
      if (
        typeof value !== "number" || !Number.isInteger(value) ||
        (rule.min !== undefined && value < rule.min) ||
        (rule.max !== undefined && value > rule.max)
      ) {
        throw new ConfigError(file, path, `an integer in ${range}`, `got ${describe(value)}`);
      }
      return;
    }
    case "number": {
      const lo = rule.min === undefined ? "-inf" : `${rule.exclusiveMin ? "(" : "["}${rule.min}`;
      const range = `${lo}, ${rule.max ?? "inf"}]`;
      const belowMin = rule.min !== undefined &&
        (rule.exclusiveMin ? (value as number) <= rule.min : (value as number) < rule.min);
      if (
        typeof value !== "number" || !Number.isFinite(value) || belowMin ||
        (rule.max !== undefined && value > rule.max)
      ) {
        throw new ConfigError(file, path, `a number in ${range}`, `got ${describe(value)}`);
      }
      return;
    }
    case "enum":
      if (typeof value !== "string" || !rule.values.includes(value)) {
        throw new ConfigError(
          file,
          path,
          `one of ${rule.values.map((v) => `"${v}"`).join(", ")}`,
          `got ${describe(value)}`,
        );
      }
      return;
    case "nullableNumber":
      if (value !== null) checkRule({ ...rule, kind: "number" }, value, file, path);
      return;
    case "nullableIntList":
      if (value === null) return;
      if (!Array.isArray(value)) {
        throw new ConfigError(file, path, "a list of integers or null", `got ${describe(value)}`);
      }
      value.forEach((v, i) => checkRule({ kind: "int" }, v, file, `${path}[${i}]`));
      return;
    case "nullableString":
      if (value !== null && typeof value !== "string") {
        throw new ConfigError(file, path, "a string or null", `got ${describe(value)}`);
      }
      return;
  }
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  if (typeof x === "string") {
    return `the string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + "…" : x)}`;
  }
  if (typeof x === "object") return "an object";
  return `${typeof x} ${String(x)}`;
}
