/**
 * cdpo-kit: critical tokens in LLM reasoning, found by rollouts and contrastive estimation, and
 * trained with token-weighted preference objectives. This is the public surface the notebooks use.
 *
 * @module
 */
export * from "./plots/mod.ts";
export * from "./trainer/mod.ts";
export { meanPassAtK, passAtK, powersOfTwoUpTo } from "./critical/pass_at_k.ts";
export { describeEnvironment, type Environment, environmentRows } from "./report/environment.ts";
export { Random } from "./random.ts";
export { KIT_ROOT, kitPaths } from "./paths.ts";
