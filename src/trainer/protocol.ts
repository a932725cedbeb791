/**
 * The trainer's wire protocol, defined once on the TypeScript side
 * (`trainer/cdpo_trainer/serve/protocol.py` is its twin; both are tested against each other).
 *
 * Requests go to the trainer's stdin as one JSON object per line:
 * `{"v": 1, "id": n, "op": "...", "params": {...}}`. Answers come back on stdout as JSON Lines
 * tagged with the request id: zero or more events (`progress`, `metric`, `checkpoint`, `log`)
 * and then exactly one `result` or `error`. stderr is free-form log.
 *
 * @module
 */

/** The protocol version both sides must agree on. */
export const PROTOCOL_VERSION = 1;

/** A request line. */
export interface Request {
  v: typeof PROTOCOL_VERSION;
  id: number;
  op: string;
  params: Record<string, unknown>;
}

/** A streamed event: progress, a metric row, a saved checkpoint or a log line. */
export interface TrainerEvent {
  v: typeof PROTOCOL_VERSION;
  id: number;
  type: "progress" | "metric" | "checkpoint" | "log";
  [field: string]: unknown;
}

/** The successful end of a request. */
export interface ResultMessage {
  v: typeof PROTOCOL_VERSION;
  id: number;
  type: "result";
  result: Record<string, unknown>;
}

/** The failed end of a request (`id` is null when the request itself could not be parsed). */
export interface ErrorMessage {
  v: typeof PROTOCOL_VERSION;
  id: number | null;
  type: "error";
  error: { kind: string; message: string; traceback: string };
}

/** Any message the trainer may write to stdout. */
export type Message = TrainerEvent | ResultMessage | ErrorMessage;

const EVENT_TYPES = new Set(["progress", "metric", "checkpoint", "log"]);

/** Thrown by {@linkcode parseMessage} for a line that is not a valid protocol message. */
export class MalformedMessageError extends Error {
  constructor(message: string, readonly line: string) {
    super(message);
    this.name = "MalformedMessageError";
  }
}

/** Serialises a request as one line (no trailing newline). */
export function encodeRequest(id: number, op: string, params: Record<string, unknown>): string {
  const request: Request = { v: PROTOCOL_VERSION, id, op, params };
  return JSON.stringify(request);
}

/** Parses and validates one stdout line of the trainer. */
export function parseMessage(line: string): Message {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    throw new MalformedMessageError(
      `Cannot parse trainer message: invalid JSON (${(e as Error).message})`,
      line,
    );
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new MalformedMessageError("Cannot parse trainer message: expected a JSON object", line);
  }
  const msg = raw as Record<string, unknown>;
  if (msg.v !== PROTOCOL_VERSION) {
    throw new MalformedMessageError(
      `Cannot parse trainer message: field 'v' is ${
        JSON.stringify(msg.v)
      }, expected ${PROTOCOL_VERSION}`,
      line,
    );
  }
  const type = msg.type;
  if (type === "error") {
    const err = msg.error as Record<string, unknown> | undefined;
    if (
      !(msg.id === null || isId(msg.id)) || typeof err !== "object" || err === null ||
      typeof err.kind !== "string" || typeof err.message !== "string"
    ) {
      throw new MalformedMessageError(
        "Cannot parse trainer message: an error needs 'id' and 'error.kind'/'error.message'",
        line,
      );
    }
    return {
      v: PROTOCOL_VERSION,
      id: msg.id as number | null,
      type: "error",
      error: {
        kind: err.kind,
        message: err.message,
        traceback: typeof err.traceback === "string" ? err.traceback : "",
      },
    };
  }
  if (!isId(msg.id)) {
    throw new MalformedMessageError(
      `Cannot parse trainer message: field 'id' is ${
        JSON.stringify(msg.id)
      }, expected a non-negative integer`,
      line,
    );
  }
  if (type === "result") {
    if (typeof msg.result !== "object" || msg.result === null || Array.isArray(msg.result)) {
      throw new MalformedMessageError(
        "Cannot parse trainer message: field 'result' must be an object",
        line,
      );
    }
    return msg as unknown as ResultMessage;
  }
  if (typeof type === "string" && EVENT_TYPES.has(type)) return msg as unknown as TrainerEvent;
  throw new MalformedMessageError(
    `Cannot parse trainer message: unknown type ${JSON.stringify(type)} ` +
      "(expected progress, metric, checkpoint, log, result or error)",
    line,
  );
}

function isId(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 0;
}
