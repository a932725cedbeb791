/**
 * A run directory as both the pipeline (which writes it) and the report and notebooks (which
 * read it) see it: its config, its paths, the schema of its tables, its manifest, and reading
 * its stored data back.
 *
 * @module
 */
export * from "./schema.ts";
export { type RunPaths, runPaths } from "./paths.ts";
export {
  DEFAULT_RUN_CONFIG,
  loadRunConfig,
  type ResolvedRun,
  resolveRunConfig,
  type RunConfig,
} from "./config.ts";
export { gitState, type Manifest, type ManifestStage, writeManifest } from "./manifest.ts";
export { describeEnvironment, type Environment, environmentRows } from "./environment.ts";
export { NotARunDirectoryError, readRunData, type RunData, TABLE_COLUMNS } from "./data.ts";
export { isOlderConfig, upgradeOlderConfig } from "./older_config.ts";
