/** Plotly figure builders and their export to HTML, PNG and SVG. @module */
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
