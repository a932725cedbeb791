/**
 * Strict UTF-8: text files are decoded with every malformed byte refused rather than replaced
 * by U+FFFD, and the refusal says where the first bad byte is. A leading byte-order mark is
 * dropped (editors on some systems write one).
 *
 * @module
 */

/** Byte offset of the first byte that is not part of well-formed UTF-8, or -1 when all are. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    // Lead byte: the number of continuation bytes and the allowed range of the second byte
    // (which rules out overlong forms, surrogates and code points above U+10FFFF).
    let need: number, lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      const min = k === 1 ? lo : 0x80, max = k === 1 ? hi : 0xbf;
      if (c === undefined || c < min || c > max) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Thrown by {@linkcode decodeUtf8Strict}: `offset` is the first bad byte, `line` its 1-based line. */
export class Utf8Error extends Error {
  constructor(readonly offset: number, readonly line: number) {
    super(`invalid UTF-8 at byte ${offset} (line ${line})`);
    this.name = "Utf8Error";
  }
}

/** Decodes UTF-8 text, without a leading byte-order mark; throws {@linkcode Utf8Error} on a bad byte. */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  try {
    // ignoreBOM: false (the default) drops a leading BOM.
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
    throw new Utf8Error(offset, line);
  }
}
