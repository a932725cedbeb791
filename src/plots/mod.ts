/** Plotly figure builders (Figures 1, 5, 6, token heat maps) and their export to HTML, PNG and SVG. @module */
export { Figure, figureHtml, type FigureSize, type FigureSpec } from "./figure.ts";
export {
  canExportStatic,
  closeBrowser,
  exportStatic,
  NoBrowserError,
  withStatic,
} from "./static_export.ts";
export { baseLayout, type LayoutOptions } from "./layout.ts";
export { passAtKCurves } from "./pass_at_k_figure.ts";
export { figure1, type PassKReference } from "./fig1.ts";
export { FIG5_CONDITIONS, figure5 } from "./fig5.ts";
export { figure6, type LogpCurve, logpCurves } from "./fig6.ts";
export { rolloutHeatmap, type TokenCell, tokenHeatmap, TokenView } from "./token_heatmap.ts";
