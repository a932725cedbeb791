/**
 * Preference training done live in a notebook: a few steps of DPO and cDPO (or any preference
 * method) from the run's base policy on its stored pairs, through the trainer process, with the
 * run's own settings (the `train:<method>` stage's), into a temporary folder that is removed
 * afterwards. Every `metric` event the trainer streams redraws a Figure 6-style chart through a
 * callback, so a notebook can update one output in place; the last call carries a PNG.
 *
 * @module
 */
import { join } from "node:path";
import { type MetricRow, metricRow } from "../run/schema.ts";
import { methodSpec } from "../method/methods.ts";
import { methodRequest } from "../pipeline/train_params.ts";
import { figure6 } from "../plots/fig6.ts";
import { Figure } from "../plots/figure.ts";
import { withStatic } from "../plots/static_export.ts";
import { escapeHtml } from "../plots/html_escape.ts";
import { fixed, type TextTable, toHtmlTable, toPlainText } from "../report/table_text.ts";
import type { NotebookRun } from "./notebook_run.ts";

/** Options of {@linkcode trainLive}. */
export interface LiveTrainingOptions {
  /** Preference methods to train, one after the other. @default {["dpo", "cdpo"]} */
  methods?: readonly string[];
  /** Steps per method. @default {the run's training.steps} */
  steps?: number;
  /** Pairs per step. @default {the run's training.batchSize} */
  batchSize?: number;
  /**
   * Called with the chart before the first step (`first` true), after every metric event, and
   * once at the end with a PNG fallback attached (`last` true). Calls never overlap.
   */
  onUpdate?: (figure: Figure, state: { first: boolean; last: boolean }) => unknown;
}

/** The metrics of a live training; renders itself as a table of the last step per method. */
export class LiveTraining {
  constructor(
    readonly rows: readonly MetricRow[],
    readonly figure: Figure,
    readonly seconds: number,
  ) {}

  /** One row per method: first and last step's log-probs and the loss. */
  table(): TextTable {
    const methods = [...new Set(this.rows.map((r) => r.method))];
    return {
      columns: [
        "method",
        "steps",
        "loss",
        "Δ logp chosen",
        "Δ logp rejected",
        "reward margin",
        "reward accuracy",
      ],
      rows: methods.map((m) => {
        const mine = this.rows.filter((r) => r.method === m).sort((a, b) => a.step - b.step);
        const first = mine[0], last = mine[mine.length - 1];
        const delta = (k: "logp_chosen" | "logp_rejected") =>
          first[k] === null || last[k] === null ? "" : fixed(last[k]! - first[k]!, 3);
        return [
          m,
          String(last.step),
          fixed(last.loss, 4),
          delta("logp_chosen"),
          delta("logp_rejected"),
          fixed(last.reward_margin, 4),
          fixed(last.reward_accuracy, 2),
        ];
      }),
    };
  }

  #legend(): string {
    return "Δ logp: change of the policy's summed log-prob of the chosen / rejected responses of the batch from the first " +
      `to the last step (nats; batches differ between steps, so single steps are noisy). ${
        this.seconds.toFixed(1)
      } s.`;
  }

  /** Notebook display. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return {
      "text/html": toHtmlTable(this.table(), "Live training: last step") +
        `<p style="font-size:12px;color:#555">${escapeHtml(this.#legend())}</p>`,
      "text/plain": `${toPlainText(this.table())}\n${this.#legend()}`,
    };
  }
}

/** The live chart: Figure 6's curves for the steps so far, on a fixed step axis. */
export function liveChart(rows: readonly MetricRow[], steps: number, note: string): Figure {
  const base = figure6(rows);
  const layout = {
    ...base.spec.layout,
    title: {
      ...(base.spec.layout.title as object),
      text: `Live training: log-prob of chosen (solid) and rejected (dashed) — ${note}`,
    },
    xaxis: {
      ...(base.spec.layout.xaxis as object),
      range: [0.5, steps + 0.5],
      dtick: steps <= 10 ? 1 : undefined,
    },
  };
  return new Figure("live_training", { data: base.spec.data, layout }, base.size);
}

/** Trains `methods` for a few steps from the run's base policy, streaming metrics to `onUpdate`. */
export async function trainLive(
  run: NotebookRun,
  options: LiveTrainingOptions = {},
): Promise<LiveTraining> {
  const started = performance.now();
  const methods = options.methods ?? ["dpo", "cdpo"];
  const steps = options.steps ?? run.config.training.steps;
  const batchSize = options.batchSize ?? run.config.training.batchSize;
  const rows: MetricRow[] = [];
  let updates: Promise<unknown> = Promise.resolve();
  let first = true;
  const push = (note: string, last = false) => {
    const figure = liveChart(rows, steps, note);
    const state = { first, last };
    first = false;
    updates = updates.then(async () => {
      if (last) await withStatic(figure);
      await options.onUpdate?.(figure, state);
    });
    return figure;
  };
  push("starting");

  const ctx = await run.context();
  const tmp = await Deno.makeTempDir({ prefix: "cdpo-live-" });
  try {
    const trainer = await ctx.trainer();
    for (const method of methods) {
      const spec = methodSpec(method);
      if (spec.op !== "preference" || spec.startsFrom !== "base") {
        throw new Error(
          `Cannot train ${method} live: it is not a preference method that starts from the base policy (use dpo, rpo or cdpo)`,
        );
      }
      const seed = run.config.training.seeds[0];
      const request = methodRequest(run.config, run.paths, ctx.policy.dir, method, seed);
      await trainer.request("preference", {
        ...request.params,
        steps,
        batch_size: batchSize,
        out_dir: join(tmp, method),
        eval_pairs_path: null,
        eval_every: 0,
        checkpoint_every: 0,
        export_onnx: false,
        resume: false,
      }, {
        onEvent: (e) => {
          if (e.type !== "metric") return;
          rows.push(metricRow(method, seed, e));
          push(`${method} step ${e.step}/${steps}`);
        },
      });
    }
    const figure = push(`${methods.join(", ")}: ${steps} steps each`, true);
    await updates;
    return new LiveTraining(rows, figure, (performance.now() - started) / 1000);
  } finally {
    await updates.catch(() => {});
    await ctx.close();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
