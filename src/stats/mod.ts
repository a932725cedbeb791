/** Significance tests and intervals: McNemar's exact test, the paired (cluster) bootstrap, AUROC. @module */
export { discordantCounts, mcnemarExactP } from "./mcnemar.ts";
export { pairedBootstrapCI } from "./bootstrap.ts";
export { auroc } from "./auroc.ts";
export { perProblemDifferences, type SignFlipResult, signFlipTest } from "./sign_flip.ts";
export { wilsonInterval } from "./wilson.ts";
