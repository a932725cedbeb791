/**
 * A structural check of an ONNX file without loading it: the file is a protobuf `ModelProto`,
 * so walking its top-level fields (tag, then a varint, a fixed-width value or a length and that
 * many bytes) must end exactly at the end of the file, and must meet the fields every model has
 * (ir_version, graph, opset_import). A truncated graph fails this walk, because the `graph`
 * field's length then runs past the end; loading it would be the first moment anything noticed.
 *
 * @module
 */
import { ModelFileError } from "./errors.ts";
import { openModelFile } from "./open_model_file.ts";

/** ModelProto fields every exported model carries. */
const REQUIRED = new Map([[1, "ir_version"], [7, "graph"], [8, "opset_import"]]);

/** Throws {@linkcode ModelFileError} unless `path` is a structurally complete ONNX model. */
export async function checkOnnxFile(path: string): Promise<void> {
  const fail = (detail: string): never => {
    throw new ModelFileError(
      `Cannot use ${path}: ${detail}; export it again (python -m cdpo_trainer.models.onnx_export <model dir>)`,
      path,
    );
  };
  const { file, size } = await openModelFile(path);
  try {
    if (size === 0) fail("the file is empty");
    // Top-level fields are few: read their headers through a small window, seeking over bodies.
    const reader = new Reader(file, size);
    const seen = new Set<number>();
    while (reader.pos < size) {
      const tag = await reader.varint();
      if (tag === null) {
        return fail(`it ends inside a field header at byte ${reader.pos} (truncated)`);
      }
      const field = Math.floor(tag / 8), wire = tag % 8;
      if (field === 0) fail(`byte ${reader.pos} is not a protobuf field (not ONNX, or damaged)`);
      if (wire === 0) {
        if ((await reader.varint()) === null) fail("it ends inside a value (truncated)");
      } else if (wire === 1 || wire === 5) {
        reader.skip(wire === 1 ? 8 : 4);
      } else if (wire === 2) {
        const length = await reader.varint();
        if (length === null) return fail("it ends inside a length (truncated)");
        reader.skip(length);
      } else {
        fail(
          `field ${field} has wire type ${wire}, which ModelProto never uses (not ONNX, or damaged)`,
        );
      }
      if (reader.pos > size) {
        fail(
          `field ${
            REQUIRED.get(field) ?? field
          } runs to byte ${reader.pos} but the file has ${size} (truncated)`,
        );
      }
      seen.add(field);
    }
    const missing = [...REQUIRED].filter(([f]) => !seen.has(f)).map(([, name]) => name);
    if (missing.length > 0) {
      fail(`it has no ${missing.join(", ")} (truncated, or not an ONNX model)`);
    }
  } finally {
    file.close();
  }
}

/** Reads varints at a position of a file, seeking rather than reading over skipped bytes. */
class Reader {
  pos = 0;
  #buffer = new Uint8Array(16);
  constructor(readonly file: Deno.FsFile, readonly size: number) {}

  skip(n: number): void {
    this.pos += n;
  }

  /** The varint at `pos` (advancing past it), or null when the file ends inside it. */
  async varint(): Promise<number | null> {
    await this.file.seek(this.pos, Deno.SeekMode.Start);
    const n = await this.file.read(this.#buffer);
    if (n === null) return null;
    let value = 0, scale = 1;
    for (let i = 0; i < Math.min(n, 10); i++) {
      const b = this.#buffer[i];
      value += (b & 0x7f) * scale;
      scale *= 128;
      if (b < 0x80) {
        this.pos += i + 1;
        return value;
      }
    }
    return null;
  }
}
