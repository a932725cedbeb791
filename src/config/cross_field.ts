/**
 * Rules between config values that no single key's rule can state: lists whose items must be
 * distinct, and pairs of keys that must be ordered. Each refusal is a {@linkcode ConfigError}
 * naming the offending key.
 *
 * @module
 */
import { ConfigError } from "./errors.ts";

/** Throws unless every item of `list` (the value of `key`) is distinct; names the repeat. */
export function requireDistinct(
  file: string,
  key: string,
  list: readonly unknown[],
  why: string,
): void {
  const first = new Map<string, number>();
  list.forEach((item, j) => {
    const id = JSON.stringify(item);
    const i = first.get(id);
    if (i !== undefined) {
      throw new ConfigError(
        file,
        `${key}[${j}]`,
        `each value once (${why})`,
        `${id} repeats ${key}[${i}]`,
      );
    }
    first.set(id, j);
  });
}

/**
 * Throws unless `lo.value <= hi.value`. The error names the key the user wrote (a default on
 * the other side is not theirs to fix), `hi` when they wrote both.
 */
export function requireOrdered(
  file: string,
  lo: { key: string; value: number },
  hi: { key: string; value: number },
  userKeys: ReadonlySet<string>,
  expected: string,
): void {
  if (lo.value <= hi.value) return;
  const key = userKeys.has(hi.key) || !userKeys.has(lo.key) ? hi.key : lo.key;
  throw new ConfigError(
    file,
    key,
    expected,
    `${lo.key} is ${lo.value}, greater than ${hi.key} ${hi.value}`,
  );
}

/** The dotted paths of every leaf and object a parsed user config sets. */
export function userKeys(user: unknown, prefix = ""): Set<string> {
  const out = new Set<string>();
  if (typeof user !== "object" || user === null || Array.isArray(user)) return out;
  for (const [k, v] of Object.entries(user)) {
    const path = prefix ? `${prefix}.${k}` : k;
    out.add(path);
    for (const sub of userKeys(v, path)) out.add(sub);
  }
  return out;
}
