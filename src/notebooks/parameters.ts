/**
 * Notebook parameters: every numbered notebook has one code cell tagged `parameters` holding
 * `let name = value;` lines. The runner overrides them (preset, run directory) so the same
 * notebooks run on the smoke preset in tests and on real runs.
 *
 * @module
 */

/** A notebook as read from .ipynb JSON (only the fields the runner touches). */
export interface NotebookJson {
  cells: { cell_type: string; source: string | string[]; metadata?: { tags?: string[] } }[];
  [key: string]: unknown;
}

/** Returns a copy of `notebook` with `let key = ...;` lines of its parameters cell replaced. */
export function applyParameters(
  notebook: NotebookJson,
  overrides: Record<string, string | number | boolean | null>,
  name: string,
): NotebookJson {
  const out = structuredClone(notebook);
  const cell = out.cells.find((c) =>
    c.cell_type === "code" && c.metadata?.tags?.includes("parameters")
  );
  const keys = Object.keys(overrides);
  if (!cell) {
    if (keys.length === 0) return out;
    throw new Error(`Cannot set parameters of ${name}: it has no code cell tagged "parameters"`);
  }
  const text = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
  const lines = text.split("\n");
  for (const key of keys) {
    const pattern = new RegExp(`^(\\s*let\\s+${key}(\\s*:[^=]+)?\\s*=\\s*)(.*?);?\\s*(//.*)?$`);
    const index = lines.findIndex((l) => pattern.test(l));
    // A notebook that does not take this parameter simply ignores it.
    if (index < 0) continue;
    lines[index] = lines[index].replace(
      pattern,
      (_m, head: string, _t, _v, comment?: string) =>
        `${head}${JSON.stringify(overrides[key])};${comment ? ` ${comment}` : ""}`,
    );
  }
  const joined = lines.join("\n");
  cell.source = joined.split(/(?<=\n)/);
  return out;
}
