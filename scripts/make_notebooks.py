"""Writes the numbered notebooks 01-04 (clean: no outputs, no execution counts).

The notebooks are the reviewed artefact; this script is how they are made, so that a change
to their text or cells is one edit here and a rerun:

    .cache/venv/bin/python scripts/make_notebooks.py

Conventions (see notebooks/00_quickstart.ipynb): the Deno kernel `cdpo-deno`; a first code
cell tagged `parameters` with `let name = value;` lines (the runner overrides `preset` and
`runDir`); every other code cell imports from ../src, calls one function and ends with the
value to show.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

RUN_PARAMETERS = """\
let preset = "smoke"; // the preset whose run is made (or resumed) when runDir is null
let runDir: string | null = null; // a finished run directory, e.g. "../runs/default\""""

OPEN_RUN_MD = """\
## The run

`openRun` opens the run directory given as `runDir`; when it is `null` it runs the `preset`
through `reproduce()` first. Finished stages are cached, so on a second call nothing is
recomputed. The table counts the sampled trajectories and how many of the incorrect ones have
a first error the world's oracle can pinpoint (always known on the embedded world, never on
real data sets)."""

OPEN_RUN = "const run = await openRun(runDir, preset);\nrun"


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str, tags: list[str] | None = None):
    cell = new_code_cell(text.strip("\n"))
    if tags:
        cell.metadata["tags"] = tags
    return cell


def notebook(cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Deno (cdpo-kit)", "language": "typescript", "name": "cdpo-deno"},
        "language_info": {"file_extension": ".ts", "name": "typescript"},
    }
    return nb


def critical_tokens():
    return notebook([
        md("""
# 1. Critical tokens, found by rollouts

An incorrect reasoning trajectory usually goes wrong at one token: before it, the policy can
still reach the right answer; after it, it almost never does. The paper calls it the **critical
token** and finds it by *rollouts* (method.md, section 2): from every prefix y₁..yᵢ of the
trajectory, sample n continuations and record the fraction cᵢ that end correct. The critical
token is the first i with cᵢ = 0 after which every later prefix stays below 5%.

On the embedded world the oracle knows the exact **first error** of every trajectory, so this
notebook can check the rollout rule against ground truth, which no real data set allows.
"""),
        code(RUN_PARAMETERS + """
let samples = 16; // continuations per prefix in the live rollouts below
let seed = 1; // picks the trajectories and seeds the sampling""", tags=["parameters"]),
        code('import { liveRollouts, openRun, passkView, runFigure } from "../src/notebook_helpers/mod.ts";'),
        md(OPEN_RUN_MD),
        code(OPEN_RUN),
        md("""
## Rollouts, live

Three incorrect trajectories of the run (finished, with a known first error, at most 40
tokens), each rolled out now with the run's base policy: `samples` continuations from every
prefix, with the run's temperature and top-p. This is the pipeline's own `rolloutTrajectory`,
the function behind `data/rollouts.parquet`.

How to read it:
- each token is coloured by **c**, the share of continuations from the prefix *ending at that
  token* that reach the right answer: green = still solvable, red = lost;
- the **black outline** is the oracle's first error, the **purple underline** the rollout rule's
  critical token; where the two coincide, rollouts found the true culprit;
- hover over a token for its exact c.

What to look for: c should be high before the outlined token and collapse at it. A critical
token *after* the first error means the policy could still repair the mistake for a while; one
*before* it means the prefix was already hopeless (often: a weak policy that rarely solves the
problem at all, visible as red from the first token). With few samples c is coarse; raise
`samples` for a finer picture.
"""),
        code("await liveRollouts(run, { count: 3, samples, seed })"),
        md("""
## Figure 1: does the critical token matter?

For every searched trajectory with a critical token, the pipeline drew n continuations that
*keep* it and n that replace it by another token (drawn with the critical token masked), and
estimated pass@k = 1 − C(n−c, k)/C(n, k) for both. The paper (Llama-3-8B, GSM8K) reports
pass@k = 0 for every k *with* the critical token, and 29.9% at k = 1 rising to 91.0% at k = 64
*without* it (drawn as open circles and a dashed line). The same gap on the run means the
tokens rollouts flag really are where the trajectories break.
"""),
        code('await runFigure(run, "fig1")'),
        code("passkView(run)"),
    ])


def contrastive_estimation():
    return notebook([
        md("""
# 2. Critical tokens, found by contrastive estimation

Rollouts cost n samples per token. Contrastive estimation (CE, method.md section 3) needs two
forward passes instead: fine-tune a **positive** model on correct trajectories and a
**negative** model on incorrect ones, then score every token yₜ of an incorrect trajectory with

  sₜ = softmax( (1 + β)·z_pos − β·z_neg )[yₜ]

where z are the two models' logits at that position. A token the negative model likes and the
positive model does not gets a low sₜ: a likely critical token. cDPO uses 1 − sₜ as the token
weights of the rejected side of each preference pair.
"""),
        code(RUN_PARAMETERS + """
let count = 3; // rejected trajectories scored live
let seed = 1; // picks them""", tags=["parameters"]),
        code('import { detectorView, liveTokenScores, openRun, stByRole } from "../src/notebook_helpers/mod.ts";'),
        md(OPEN_RUN_MD),
        code(OPEN_RUN),
        md("""
## sₜ on rejected trajectories, live

A few rejected responses of the run's preference pairs (`data/pairs.jsonl`), scored now by its
positive and negative models (`models/sft_pos`, `models/sft_neg`) with the pipeline's own
`scoreTokens`; the note under the table checks that the result equals the stored
`data/token_scores.parquet`.

How to read it: tokens are coloured by sₜ, from **red** (0, suspicious) to **white** (1); the
**black outline** is the oracle's first error. Hover over a token for sₜ and the log-probs of
the realised token under the positive (lp_pos), negative (lp_neg) and base (lp_policy) models.
The table gives the rank of the first error among the trajectory's tokens by sₜ (1 = the most
suspicious token).

What to look for: a red token at the outline, with mostly white tokens before it. Tokens after
the first error are often red too: once the reasoning is off, the positive model disagrees with
everything that follows, which is why the paper uses sₜ as a soft weight rather than picking one
token.
"""),
        code("await liveTokenScores(run, { count, seed })"),
        md("""
## Where the low scores are

sₜ of every scored token of the run whose trajectory has a known first error, split into the
tokens before the first error, the first error itself and the tokens after it (log axis). If CE
finds critical tokens, the red box sits well below the green one.
"""),
        code("await stByRole(run)"),
        md("""
## Detectors against the ground truth

How often each detector's most suspicious token *is* the oracle's first error (top1), is at
most one token away (within1), or is among its three most suspicious tokens (top3), with the
AUROC of its per-token score. `ce_argmin` ranks by sₜ, `rollout` by the rollout rule, `random`
is chance, and `min_policy_prob` ranks by the base policy's own surprise: CE is useful where it
beats that baseline, since the surprise comes for free.
"""),
        code("detectorView(run)"),
    ])


def cdpo_training():
    return notebook([
        md("""
# 3. Training with critical tokens: cDPO

DPO raises the policy's log-probability of the chosen response relative to the rejected one,
all tokens alike. cDPO (method.md section 4) weights each token of the rejected response by
1 − sₜ from contrastive estimation, so the push-down concentrates on the likely critical
tokens:

  L_cDPO = −log σ( γ · ( Σₜ rₜʷ − Σₜ (1 − sₜ) rₜˡ ) ),  rₜ = log π(yₜ) − log π_ref(yₜ)

This notebook trains DPO and cDPO for a few steps from the run's base model on its stored
pairs (`data/pairs.jsonl`, `data/pairs_weighted.jsonl`), with the run's settings, into a
temporary folder that is deleted afterwards; then it shows the run's own Figure 6 and Table 1.
"""),
        code(RUN_PARAMETERS + """
let steps = 8; // training steps per method in the live run (smoke-sized)
let methods = ["dpo", "cdpo"]; // preference methods trained live (dpo, rpo, cdpo)""", tags=["parameters"]),
        code('import { figure6VsPaper, openRun, runFigure, table1View, trainLive } from "../src/notebook_helpers/mod.ts";'),
        md(OPEN_RUN_MD),
        code(OPEN_RUN),
        md("""
## Live training

The chart updates in place while the trainer process streams one `metric` event per step: the
policy's summed log-probability of the chosen (solid) and rejected (dashed) responses of each
step's batch. Batches differ from step to step, so single steps are noisy; the trend is what
counts. In an exported notebook the chart's final state is kept as an image.

What to look for (the paper's Figure 6): DPO tends to lower *both* curves, the chosen one
included; cDPO keeps the chosen curve up and pushes the rejected one down faster, because its
gradient on the rejected side lands on the critical tokens instead of on every token.
"""),
        code("""
const live = await trainLive(run, {
  methods,
  steps,
  onUpdate: (figure, { first }) => Deno.jupyter.display(figure, { display_id: "live-training", update: !first }),
});
live"""),
        md("""
## Figure 6 of the run

The same curves from the run's full training (`data/metrics.parquet`: DPO, RPO and cDPO, seed
0), and how far each moved between the first and the last quarter of the steps, beside the
paper's description.
"""),
        code('await runFigure(run, "fig6")'),
        code("figure6VsPaper(run)"),
        md("""
## Table 1 of the run

Greedy accuracy of every trained model on the run's test problems. Each method is compared
with cDPO on the same (seed, problem) outcomes: the 95% paired bootstrap interval of the
difference and McNemar's exact test. On the smoke preset the test set and the training are
tiny, so expect wide intervals.
"""),
        code("table1View(run)"),
    ])


def paper_figures():
    return notebook([
        md("""
# 4. The paper's figures from a run

Figures 1, 5 and 6 and Table 1 of the paper, rebuilt from a finished run's stored data (no
model is loaded), each next to the paper's numbers (Llama-3-8B on GSM8K and MATH500). The
embedded world and its tiny policy are not the paper's setting: compare the shapes and the
signs of the effects, not the values. `deno task figures --run DIR` writes the same figures
and tables into the run's `figures/` and `tables/`.
"""),
        code(RUN_PARAMETERS, tags=["parameters"]),
        code("""
import {
  figure1VsPaper,
  figure6VsPaper,
  openRun,
  runFigure,
  table1View,
  table1VsPaper,
} from "../src/notebook_helpers/mod.ts";"""),
        md(OPEN_RUN_MD),
        code(OPEN_RUN),
        md("""
## Figure 1: pass@k with and without the critical token

Continuations that keep the rollout critical token should (almost) never succeed, while
replacing that one token should make success likely within a few samples.
"""),
        code('await runFigure(run, "fig1")'),
        code("figure1VsPaper(run)"),
        md("""
## Figure 5: replacing the CE critical token, and cDPO

Test accuracy of sampled responses as they are, after replacing the contrastive-estimation
critical token (argmin sₜ) by an alternative and continuing, and after cDPO training. The paper
reports that both interventions raise accuracy: the CE token is worth changing, and cDPO learns
to avoid such tokens.
"""),
        code('await runFigure(run, "fig5")'),
        md("""
## Figure 6: log-probabilities during training

The policy's summed log-probability of chosen (solid) and rejected (dashed) responses per step.
The paper: DPO lowers both, RPO raises the chosen one, cDPO raises the chosen one and lowers the
rejected one the most.
"""),
        code('await runFigure(run, "fig6")'),
        code("figure6VsPaper(run)"),
        md("""
## Table 1: accuracy of every method

First beside the paper (accuracy and gain over the base model), then with the run's paired
statistics against cDPO. The paper's claim to check: cDPO ≥ RPO > TokenDPO > SFT > DPO > base.
"""),
        code("table1VsPaper(run)"),
        code("table1View(run)"),
    ])


def main() -> int:
    made = {
        "01_critical_tokens.ipynb": critical_tokens(),
        "02_contrastive_estimation.ipynb": contrastive_estimation(),
        "03_cdpo_training.ipynb": cdpo_training(),
        "04_paper_figures.ipynb": paper_figures(),
    }
    for name, nb in made.items():
        # Fixed cell ids: regenerating an unchanged notebook gives the same bytes.
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"{name[:2]}-{i:02d}"
        nbformat.validate(nb)
        nbformat.write(nb, NOTEBOOKS / name)
        print(f"wrote notebooks/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
