/**
 * What every stage of a run shares: the run's paths and config, the task and its problems, one
 * trainer process (started on first use), models opened with the configured backend, and
 * progress output.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Trainer } from "../trainer/client.ts";
import { kitPaths } from "../paths.ts";
import { fingerprint } from "./stage.ts";
import { type LanguageModel, loadLanguageModel } from "../lm/mod.ts";
import type { RunConfig } from "./run_config.ts";
import type { RunPaths } from "./run_paths.ts";
import type { ProgressSink } from "./progress.ts";
import type { ReasoningTask, TaskProblem } from "../tasks/task.ts";

/** The problems of a run: the first ones of the task's train and test splits. */
export interface PipelineProblems {
  train: readonly TaskProblem[];
  test: readonly TaskProblem[];
  byId: ReadonlyMap<string, TaskProblem>;
}

/** The base policy. */
export interface PipelinePolicy {
  /** Its Hugging Face directory (with model.onnx for the ort backend). */
  dir: string;
  /** Content hash, for stage inputs. */
  hash: string;
}

/** Shared state of one pipeline run. */
export class PipelineContext {
  #trainer: Promise<Trainer> | null = null;
  #models = new Map<string, Promise<LanguageModel>>();

  constructor(
    readonly run: RunPaths,
    readonly config: RunConfig,
    readonly progress: ProgressSink,
    readonly task: ReasoningTask,
    readonly problems: PipelineProblems,
    readonly policy: PipelinePolicy,
  ) {}

  /** The problem with id `id` (every stored trajectory names one of the run's problems). */
  problem(id: string): TaskProblem {
    const p = this.problems.byId.get(id);
    if (!p) {
      throw new Error(
        `Cannot find problem '${id}' in this run's problems: was the run made with another task?`,
      );
    }
    return p;
  }

  /** Shares a trainer that is already running (started before the context existed). */
  useTrainer(trainer: Promise<Trainer>): void {
    this.#trainer = trainer;
  }

  /** The run's trainer process (one for all stages). */
  trainer(): Promise<Trainer> {
    this.#trainer ??= Trainer.start();
    return this.#trainer;
  }

  /** A model opened with the configured backend; cached, so each directory loads once. */
  model(dir: string): Promise<LanguageModel> {
    let m = this.#models.get(dir);
    if (!m) {
      const { backend, device } = this.config.policy;
      m = backend === "torch"
        ? this.trainer().then((trainer) =>
          loadLanguageModel(dir, { backend: "torch", trainer, device })
        )
        : this.#onnxOf(dir).then((onnxPath) =>
          loadLanguageModel(dir, { backend: "ort", executionProvider: device, onnxPath })
        );
      this.#models.set(dir, m);
    }
    return m;
  }

  /**
   * The ONNX export the `ort` backend runs for `dir`: its own (trained models are exported when
   * their training ends), else one made once into the kit's cache, keyed by the directory's
   * content, so a checkpoint that is not the kit's is never written to.
   */
  async #onnxOf(dir: string): Promise<string> {
    if (existsSync(join(dir, "model.onnx.json"))) return join(dir, "model.onnx");
    const onnxPath = join(kitPaths.onnxCache, (await fingerprint(dir)).slice(0, 16), "model.onnx");
    if (!existsSync(`${onnxPath}.json`)) {
      this.progress.log(`ort: exporting ${dir} to ONNX once (${onnxPath})`);
      await (await this.trainer()).request("onnx_export", { model_dir: dir, onnx_path: onnxPath });
    }
    return onnxPath;
  }

  /** Closes a model (frees its session) once a stage is done with it. */
  async closeModel(dir: string): Promise<void> {
    const m = this.#models.get(dir);
    this.#models.delete(dir);
    if (m) await (await m).close();
  }

  /** Closes every model and the trainer. */
  async close(): Promise<void> {
    for (const dir of [...this.#models.keys()]) await this.closeModel(dir);
    if (this.#trainer) await (await this.#trainer).close();
    this.#trainer = null;
  }
}
