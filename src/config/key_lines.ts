/**
 * Where each key of a JSON document is: a small scanner that maps every dotted key path
 * (`training.seeds`, and `training.seeds[1]` for array items) to the 1-based line it starts on,
 * so a config error can name `file:line` and not only the key.
 *
 * @module
 */

/**
 * The line of every key path in `text` (valid JSON; anything else gives an empty map).
 *
 * @example
 * ```ts
 * import { keyLines } from "./key_lines.ts";
 * const lines = keyLines('{\n  "a": {\n    "b": [1,\n 2]\n  }\n}');
 * console.assert(lines.get("a.b") === 3 && lines.get("a.b[1]") === 4);
 * ```
 */
export function keyLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let i = 0;
  let line = 1;
  const ws = () => {
    while (i < text.length && " \t\r\n\uFEFF".includes(text[i])) {
      if (text[i] === "\n") line++;
      i++;
    }
  };
  const string = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        const keyLine = line;
        const key = string();
        const child = path ? `${path}.${key}` : key;
        out.set(child, keyLine);
        ws();
        i++; // colon
        value(child);
        ws();
        if (text[i++] === "}") return;
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (let k = 0;; k++) {
        ws();
        out.set(`${path}[${k}]`, line);
        value(`${path}[${k}]`);
        ws();
        if (text[i++] === "]") return;
      }
    }
    if (c === '"') {
      string();
      return;
    }
    while (i < text.length && !",]} \t\r\n".includes(text[i])) i++;
  };
  try {
    JSON.parse(text);
    value("");
  } catch {
    return new Map();
  }
  return out;
}
