/**
 * The typed table of trained methods (method.md section 4): what each one optimises, the model it
 * starts from, the data it reads, its hyper-parameters with their defaults and ranges, and its
 * label. Training, evaluation, the report, the tuning search and the notebooks all read this
 * table, and the run config's `training.hyper` section is built from it, so adding an objective
 * touches this table, the trainer's loss and their tests, nothing else.
 *
 * @module
 */
import type { Rule } from "../config/resolve.ts";

/** A hyper-parameter value as the config holds it. */
export type HyperValue = number | string;

/** One hyper-parameter: its default (the only one: the run config takes it from here) and its range. */
export interface HyperSpec {
  default: HyperValue;
  rule: Rule;
  /** What it is, for the config's readers. */
  doc: string;
}

/** The training data a method reads (written by the `sample` and `ce_scores` stages). */
export type MethodData = "positive" | "correct" | "pairs" | "pairs_weighted";

/** One trained method. */
export interface MethodSpec {
  /** Its name in configs, stage names, tables and models/ (`cdpo`). */
  name: string;
  /** Its name in tables and figures (`cDPO`). */
  label: string;
  /** The trainer op that fits it. */
  op: "sft" | "preference";
  /** The model it starts from; the reference of a preference objective is that model, frozen. */
  startsFrom: "base" | "sft";
  data: MethodData;
  /** Hyper-parameters by name; `lr` always. */
  hyper: Readonly<Record<string, HyperSpec>>;
  /** The trainer's objective object from the resolved hyper-parameters (preference methods). */
  objective?: (h: Readonly<Record<string, HyperValue>>) => Record<string, HyperValue>;
  /** The preference temperature a tuning search varies beside the learning rate. */
  temperature?: string;
  /**
   * The tuning search (`deno task tune`): learning rates and, for preference methods, values of
   * the temperature, tried in every combination with one seed and the run's step budget.
   */
  grid: { lr: readonly number[]; temperature?: readonly number[] };
  /** Drawn in Figure 6 (the paper shows DPO, RPO and cDPO). */
  figure6: boolean;
  /** Its colour in figures. */
  colour: string;
}

const lr = (value: number): HyperSpec => ({
  default: value,
  rule: { kind: "number", min: 0, exclusiveMin: true },
  doc: "learning rate",
});
const temperature = (value: number, doc: string): HyperSpec => ({
  default: value,
  rule: { kind: "number", min: 0, exclusiveMin: true },
  doc,
});

/** The search of DPO, RPO and cDPO alike: learning rate x preference temperature, 3 x 3. */
const PREFERENCE_GRID = { lr: [2.5e-5, 5e-5, 1e-4], temperature: [0.3, 1, 3] } as const;

/**
 * The methods of Table 1 besides the base policy, in the paper's order. Start points follow the
 * paper: SFT, TokenDPO and `dpo_sft` start from the SFT model; DPO, RPO and cDPO from the base.
 * DPO and RPO default to beta 1, cDPO's gamma, so the three sequence objectives differ only in
 * their token weights and RPO's NLL term.
 */
export const METHODS: readonly MethodSpec[] = [
  {
    name: "sft",
    label: "SFT",
    op: "sft",
    startsFrom: "base",
    // The paper's SFT baseline trains on every correct trajectory (D_p), not one per question.
    data: "correct",
    hyper: { lr: lr(1e-4) },
    grid: { lr: [5e-5, 1e-4, 2e-4] },
    figure6: false,
    colour: "#2471a3",
  },
  {
    name: "dpo",
    label: "DPO",
    op: "preference",
    startsFrom: "base",
    data: "pairs",
    hyper: { lr: lr(5e-5), beta: temperature(1, "DPO's beta") },
    objective: (h) => ({ name: "dpo", beta: h.beta }),
    temperature: "beta",
    grid: PREFERENCE_GRID,
    figure6: true,
    colour: "#7f8c8d",
  },
  {
    name: "dpo_sft",
    label: "DPO (from SFT)",
    op: "preference",
    startsFrom: "sft",
    data: "pairs",
    hyper: { lr: lr(5e-5), beta: temperature(1, "DPO's beta") },
    objective: (h) => ({ name: "dpo", beta: h.beta }),
    temperature: "beta",
    grid: PREFERENCE_GRID,
    figure6: false,
    colour: "#a6acaf",
  },
  {
    name: "tokendpo",
    label: "TokenDPO",
    op: "preference",
    startsFrom: "sft",
    data: "pairs",
    hyper: {
      lr: lr(5e-5),
      beta: temperature(0.1, "TokenDPO's beta (method.md: b = 0.1)"),
      alpha: { default: 0.5, rule: { kind: "number", min: 0 }, doc: "TDPO2's KL weight a" },
      variant: {
        default: "tdpo2",
        rule: { kind: "enum", values: ["tdpo1", "tdpo2"] },
        doc: "TDPO1 or TDPO2",
      },
    },
    objective: (h) => ({ name: h.variant, beta: h.beta, alpha: h.alpha }),
    temperature: "beta",
    // TokenDPO's beta lives an order of magnitude lower (b = 0.1 in the paper).
    grid: { lr: PREFERENCE_GRID.lr, temperature: [0.03, 0.1, 0.3] },
    figure6: false,
    colour: "#8e44ad",
  },
  {
    name: "rpo",
    label: "RPO",
    op: "preference",
    startsFrom: "base",
    data: "pairs",
    hyper: {
      lr: lr(5e-5),
      beta: temperature(1, "RPO's beta"),
      alpha: { default: 1, rule: { kind: "number", min: 0 }, doc: "weight of the chosen NLL" },
    },
    objective: (h) => ({ name: "rpo", beta: h.beta, alpha: h.alpha }),
    temperature: "beta",
    grid: PREFERENCE_GRID,
    figure6: true,
    colour: "#d68910",
  },
  {
    name: "cdpo",
    label: "cDPO",
    op: "preference",
    startsFrom: "base",
    data: "pairs_weighted",
    hyper: {
      lr: lr(5e-5),
      gamma: temperature(1, "cDPO's gamma (paper: 1.0)"),
      form: {
        default: "sequence",
        rule: { kind: "enum", values: ["sequence", "position"] },
        doc: "the paper's sequence form or its code's per-position form",
      },
    },
    objective: (h) => ({ name: "cdpo", gamma: h.gamma, form: h.form }),
    temperature: "gamma",
    grid: PREFERENCE_GRID,
    figure6: true,
    colour: "#1e8449",
  },
];

/** The names of the trained methods, in table order. */
export const METHOD_NAMES: readonly string[] = METHODS.map((m) => m.name);

/** Table 1's rows: the base policy, then every trained method. */
export const TABLE1_METHODS: readonly string[] = ["base", ...METHOD_NAMES];

/** The method named `name`; throws naming the known ones. */
export function methodSpec(name: string): MethodSpec {
  const spec = METHODS.find((m) => m.name === name);
  if (!spec) {
    throw new RangeError(
      `Cannot find method '${name}': the methods are ${METHOD_NAMES.join(", ")}`,
    );
  }
  return spec;
}

/** A method's label (the base policy's too); unknown names are shown as they are. */
export function methodLabel(name: string): string {
  return name === "base" ? "Base" : METHODS.find((m) => m.name === name)?.label ?? name;
}

/** The default hyper-parameters of every method: the run config's `training.hyper` defaults. */
export function defaultHyper(): Record<string, Record<string, HyperValue>> {
  return Object.fromEntries(
    METHODS.map((
      m,
    ) => [m.name, Object.fromEntries(Object.entries(m.hyper).map(([k, s]) => [k, s.default]))]),
  );
}

/** The config rules of every hyper-parameter, keyed `training.hyper.<method>.<name>`. */
export function hyperRules(): Record<string, Rule> {
  return Object.fromEntries(
    METHODS.flatMap((m) =>
      Object.entries(m.hyper).map(([k, s]) => [`training.hyper.${m.name}.${k}`, s.rule])
    ),
  );
}
