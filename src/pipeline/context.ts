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
import { type CheckedModel, checkModelDir, checkSameTokenizer } from "../lm/model_check.ts";
import { vllmModelOptions } from "../lm/vllm_settings.ts";
import type { RunConfig } from "../run/config.ts";
import type { RunPaths } from "../run/paths.ts";
import type { ProgressSink } from "./progress.ts";
import type { ReasoningTask, TaskProblem } from "../tasks/task.ts";

/** The problems of a run: the first ones of the task's train and test splits. */
export interface PipelineProblems {
  train: readonly TaskProblem[];
  validation: readonly TaskProblem[];
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
  #basePolicy: Promise<CheckedModel> | null = null;

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

  /** The trainer modules that serve the run's models: the torch backend's, unless all is in process. */
  lmTrainerModules(): string[] {
    // vllm: full distributions and contrastive scores come from the trainer's torch backend.
    return this.config.policy.backend === "ort" ? [] : ["cdpo_trainer.lm.ops"];
  }

  /** The run's trainer process (one for all stages). */
  trainer(): Promise<Trainer> {
    this.#trainer ??= Trainer.start({
      accelerateConfig: this.config.training.accelerateConfig ?? undefined,
    });
    return this.#trainer;
  }

  /**
   * A model opened with the configured backend; cached, so each directory loads once. Before it
   * loads, its files are checked (src/lm/model_check.ts) and its tokenizer must be the base
   * policy's: the run's token ids mean nothing under another one.
   */
  model(dir: string): Promise<LanguageModel> {
    let m = this.#models.get(dir);
    if (!m) {
      const { backend, device, vllm } = this.config.policy;
      const torch = () =>
        this.trainer().then((trainer) =>
          loadLanguageModel(dir, { backend: "torch", trainer, device })
        );
      m = this.checkModel(dir).then(() =>
        backend === "torch" ? torch() : backend === "vllm"
          ? loadLanguageModel(dir, {
            backend: "vllm",
            ...vllmModelOptions(vllm, dir, this.policy.dir, device, torch),
          })
          : this.#onnxOf(dir).then((onnxPath) =>
            loadLanguageModel(dir, { backend: "ort", executionProvider: device, onnxPath })
          )
      );
      this.#models.set(dir, m);
      // A failed load is not cached: the next call checks again.
      const loading = m;
      loading.catch(() => {
        if (this.#models.get(dir) === loading) this.#models.delete(dir);
      });
    }
    return m;
  }

  /** Checks the model directory `dir` for the configured backend and against the base policy. */
  async checkModel(dir: string): Promise<CheckedModel> {
    const { backend, device } = this.config.policy;
    this.#basePolicy ??= checkModelDir(this.policy.dir, { backend, device });
    const base = await this.#basePolicy;
    if (dir === this.policy.dir) return base;
    const checked = await checkModelDir(dir, { backend, device });
    checkSameTokenizer([base, checked]);
    return checked;
  }

  /**
   * What the seeded samples of a stage depend on besides its config: `ort` and `torch` draw from
   * the kit's own streams (the same tokens on either), `vllm` from the server's generator.
   */
  get sampler(): "kit" | "vllm" {
    return this.config.policy.backend === "vllm" ? "vllm" : "kit";
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

  /** Closes every open model (the trainer stays). */
  async closeModels(): Promise<void> {
    for (const dir of [...this.#models.keys()]) await this.closeModel(dir);
  }

  /** Closes every model and the trainer. */
  async close(): Promise<void> {
    await this.closeModels();
    if (this.#trainer) await (await this.#trainer).close();
    this.#trainer = null;
  }
}
