/**
 * graft-figure: an interactive canvas renderer for graft figures
 * (MIME application/vnd.graft.figure+json). The notebook integrations are
 * mimeExtension.ts (JupyterLab) and nbextension.ts (classic Notebook).
 */
export { FigureRenderer, createView } from './renderer';
export { parseFigure, SPEC_VERSION } from './spec';
export type { Figure, Parsed } from './spec';

/** The MIME type this package renders. */
export const MIME_TYPE = 'application/vnd.graft.figure+json';
