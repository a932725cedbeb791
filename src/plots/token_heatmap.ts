/**
 * Token heat maps for notebooks: one trajectory's response tokens as coloured chips, by
 * contrastive score s_t (low = red = likely critical) or by rollout correctness (the fraction
 * of continuations from that prefix that end correct). The ground-truth first error is outlined
 * in black, the rollout critical token underlined in purple. Plain HTML with inline styles (no scripts), so
 * it renders in Jupyter, in exported notebooks and in any browser.
 *
 * @module
 */
import type { RolloutRow, TokenScoreRow } from "../run/schema.ts";
import { escapeHtml } from "./html_escape.ts";

/** One coloured token. */
export interface TokenCell {
  token: string;
  /** Colour value in [0, 1]: 0 draws the "bad" end of the scale. */
  value: number;
  /** Hover text. */
  title: string;
  firstError: boolean;
  critical: boolean;
}

/** A trajectory's tokens coloured by a per-token value; renders itself in notebooks. */
export class TokenView {
  constructor(
    readonly caption: string,
    readonly cells: readonly TokenCell[],
    /** One line explaining the colours and outlines. */
    readonly legend: string,
    /** Colours at evenly spaced values from 0 to 1 (at least two), as RGB triples. */
    readonly scale: readonly (readonly [number, number, number])[],
  ) {}

  /** A self-contained HTML fragment. */
  toHtml(): string {
    const chips = this.cells.map((c) => {
      const styles = [
        `background:${colourAt(this.scale, c.value)}`,
        "padding:1px 3px",
        "margin:2px 1px",
        "border-radius:3px",
        "display:inline-block",
      ];
      if (c.firstError) styles.push("outline:2px solid #000", "outline-offset:1px");
      if (c.critical) styles.push("border-bottom:4px solid #6c3483");
      return `<span title="${escapeHtml(c.title)}" style="${styles.join(";")}">${
        escapeHtml(c.token)
      }</span>`;
    });
    return `<div class="cdpo-token-view" style="font-family:monospace;font-size:14px;line-height:1.9">` +
      `<div style="font-family:sans-serif;font-weight:bold">${escapeHtml(this.caption)}</div>` +
      `<div>${chips.join(" ")}</div>` +
      `<div style="font-family:sans-serif;font-size:12px;line-height:1.4;color:#555">${
        escapeHtml(this.legend)
      }</div></div>`;
  }

  /** Plain text: the tokens, the first error in [[ ]], the critical token in {{ }}. */
  toText(): string {
    const tokens = this.cells.map((c) => {
      let t = c.token;
      if (c.critical) t = `{{${t}}}`;
      if (c.firstError) t = `[[${t}]]`;
      return t;
    });
    return `${this.caption}\n${tokens.join(" ")}\n${this.legend}`;
  }

  /** Notebook display. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return { "text/html": this.toHtml(), "text/plain": this.toText() };
  }
}

const RED: [number, number, number] = [214, 48, 49];
const WHITE: [number, number, number] = [255, 255, 255];
const GREEN: [number, number, number] = [88, 178, 108];

/**
 * Piecewise-linear interpolation between the scale's stops; values outside [0, 1] are clamped.
 * (Mixing red and green directly gives brown midpoints, hence a white middle stop for those.)
 */
function colourAt(scale: TokenView["scale"], value: number): string {
  const v = Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 1;
  const segments = scale.length - 1;
  const j = Math.min(segments - 1, Math.floor(v * segments));
  const t = v * segments - j;
  const a = scale[j], b = scale[j + 1];
  const mix = (i: number) => Math.round(a[i] + (b[i] - a[i]) * t);
  return `rgb(${mix(0)},${mix(1)},${mix(2)})`;
}

function fmt(x: number | null | undefined, digits: number): string {
  return x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits);
}

/**
 * One trajectory's tokens coloured by s_t (red = low = likely critical). `rows` are the
 * trajectory's token_scores rows; `firstError` overrides their is_first_error flags.
 */
export function tokenHeatmap(
  rows: readonly TokenScoreRow[],
  options: { caption?: string; firstError?: number | null } = {},
): TokenView {
  const sorted = [...rows].sort((a, b) => a.position - b.position);
  const id = sorted[0]?.trajectory_id ?? "(no tokens)";
  const cells = sorted.map((r) => ({
    token: r.token,
    value: r.s_t,
    title: `position ${r.position}: s_t = ${fmt(r.s_t, 4)}, lp_pos = ${
      fmt(r.lp_pos, 3)
    }, lp_neg = ${fmt(r.lp_neg, 3)}, lp_policy = ${fmt(r.lp_policy, 3)}`,
    firstError: options.firstError === undefined
      ? Boolean(r.is_first_error)
      : r.position === options.firstError,
    critical: false,
  }));
  return new TokenView(
    options.caption ?? `Contrastive scores of ${id}`,
    cells,
    "colour: s_t from red (0, likely critical) to white (1); black outline: ground-truth first error; hover for s_t, lp_pos, lp_neg",
    [RED, WHITE],
  );
}

/**
 * One trajectory's tokens coloured by rollout correctness c_i (red = 0% of continuations from
 * this prefix end correct, white = 50%, green = 100%). The bare prompt's correctness goes in the caption.
 */
export function rolloutHeatmap(
  rows: readonly RolloutRow[],
  options: { caption?: string } = {},
): TokenView {
  const sorted = [...rows].sort((a, b) => a.position - b.position);
  const prompt = sorted.find((r) => r.position === -1);
  const body = sorted.filter((r) => r.position >= 0);
  const id = sorted[0]?.trajectory_id ?? "(no tokens)";
  const cells = body.map((r) => ({
    token: r.token,
    value: r.correctness,
    title:
      `position ${r.position}: ${
        fmt(100 * r.correctness, 1)
      }% of ${r.samples} continuations correct` +
      (r.is_critical ? " (rollout critical token)" : "") +
      (r.is_first_error ? " (first error)" : ""),
    firstError: Boolean(r.is_first_error),
    critical: Boolean(r.is_critical),
  }));
  const fromPrompt = prompt
    ? `; from the bare prompt ${fmt(100 * prompt.correctness, 1)}% correct`
    : "";
  return new TokenView(
    options.caption ?? `Rollout correctness of ${id}${fromPrompt}`,
    cells,
    "colour: share of continuations from the prefix ending at the token that are correct, red (0%) through white (50%) to green (100%); black outline: ground-truth first error; thick purple underline: rollout critical token",
    [RED, WHITE, GREEN],
  );
}
