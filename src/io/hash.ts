/**
 * Content hashes (SHA-256, hex) of bytes, text, files and JSON values. Stage caching keys on
 * these, so JSON is hashed in a canonical form (keys sorted) to make key order irrelevant.
 *
 * @module
 */

/** Hex SHA-256 of bytes or UTF-8 text. */
export async function sha256(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Hex SHA-256 of a file's bytes. */
export async function sha256File(path: string): Promise<string> {
  return sha256(await Deno.readFile(path));
}

/** JSON with object keys sorted at every level (arrays keep their order). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

/** Hex SHA-256 of a value's canonical JSON. */
export function hashJson(value: unknown): Promise<string> {
  return sha256(canonicalJson(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}
