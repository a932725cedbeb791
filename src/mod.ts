/**
 * cdpo-kit: critical tokens in LLM reasoning, found by rollouts and contrastive estimation, and
 * trained with token-weighted preference objectives. This is the library's public surface: the
 * method itself, its statistics, run directories, figures and the trainer client.
 *
 * @module
 */
export * from "./method/mod.ts";
export * from "./stats/mod.ts";
export * from "./run/mod.ts";
export * from "./plots/mod.ts";
export * from "./trainer/mod.ts";
export { Random } from "./random.ts";
export { KIT_ROOT, kitPaths } from "./paths.ts";
