/**
 * The header of a `.safetensors` file, read without its tensors: an 8-byte little-endian
 * length, then that many bytes of JSON naming each tensor's dtype, shape and byte range. A file
 * whose tensors do not end exactly where the file ends is truncated (or padded by something
 * else), and is refused here, before any process spends minutes to find out.
 *
 * @module
 */
import { ModelFileError } from "./errors.ts";
import { openModelFile } from "./open_model_file.ts";

/** One tensor's entry. */
export interface SafetensorsTensor {
  dtype: string;
  shape: number[];
  /** Byte range inside the data section: [begin, end). */
  dataOffsets: [number, number];
}

const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

/** Headers larger than this are not safetensors headers (the format caps them at 100 MB). */
const MAX_HEADER = 100_000_000;

/** Reads and checks the header of the safetensors file at `path`; returns its tensors by name. */
export async function readSafetensorsHeader(path: string): Promise<Map<string, SafetensorsTensor>> {
  const fail = (detail: string): never => {
    throw new ModelFileError(`Cannot use ${path}: ${detail}`, path);
  };
  const { file, size } = await openModelFile(path);
  try {
    if (size < 8) fail(`${size} bytes is too short for a safetensors file (truncated?)`);
    const head = new Uint8Array(8);
    await readExactly(file, head);
    const n = Number(new DataView(head.buffer).getBigUint64(0, true));
    if (n > MAX_HEADER || 8 + n > size) {
      fail(`its header claims ${n} bytes but the file has ${size} (truncated, or not safetensors)`);
    }
    const json = new Uint8Array(n);
    await readExactly(file, json);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
    } catch {
      return fail("its header is not valid JSON (not a safetensors file, or damaged)");
    }
    const tensors = new Map<string, SafetensorsTensor>();
    let end = 0;
    for (const [name, entry] of Object.entries(header)) {
      if (name === "__metadata__") continue;
      const t = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const width = typeof t.dtype === "string" ? DTYPE_BYTES[t.dtype] : undefined;
      const shape = t.shape, offsets = t.data_offsets;
      if (
        width === undefined || !Array.isArray(shape) || !shape.every(Number.isInteger) ||
        !Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(Number.isInteger) ||
        offsets[0] > offsets[1]
      ) {
        return fail(`tensor '${name}' has a malformed header entry`);
      }
      const bytes = (shape as number[]).reduce((a, b) => a * b, 1) * width;
      if (offsets[1] - offsets[0] !== bytes) {
        fail(
          `tensor '${name}' (${t.dtype} ${JSON.stringify(shape)}) spans ${
            offsets[1] - offsets[0]
          } bytes, not ${bytes}`,
        );
      }
      end = Math.max(end, offsets[1]);
      tensors.set(name, {
        dtype: t.dtype as string,
        shape: shape as number[],
        dataOffsets: [offsets[0], offsets[1]],
      });
    }
    if (8 + n + end !== size) {
      fail(
        `its tensors end at byte ${8 + n + end} but the file has ${size} bytes` +
          (size < 8 + n + end ? " (truncated: copy or download it again)" : ""),
      );
    }
    return tensors;
  } finally {
    file.close();
  }
}

async function readExactly(file: Deno.FsFile, into: Uint8Array): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const n = await file.read(into.subarray(done));
    if (n === null) throw new Error("unexpected end of file");
    done += n;
  }
}
