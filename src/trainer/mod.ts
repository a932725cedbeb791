/**
 * The trainer boundary: spawn the Python trainer and talk to it over JSON Lines.
 * @module
 */
export { type RequestOptions, Trainer, type TrainerStartOptions } from "./client.ts";
export { TrainerError, type TrainerFailure } from "./errors.ts";
export {
  encodeRequest,
  type ErrorMessage,
  MalformedMessageError,
  type Message,
  parseMessage,
  PROTOCOL_VERSION,
  type ResultMessage,
  type TrainerEvent,
} from "./protocol.ts";
