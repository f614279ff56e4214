/**
 * mimeExtension.ts — the JupyterLab 3.6 mime-renderer extension. JupyterLab
 * calls renderModel again on the same widget when an update_display_data
 * replaces the output with the same MIME type; that becomes
 * FigureRenderer.update, which appends to the canvas when it can.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import { FigureRenderer, MIME_TYPE } from './index';

/** The output widget: a Lumino widget holding one FigureRenderer. */
export class GraftFigureWidget extends Widget implements IRenderMime.IRenderer {
  private readonly renderer = new FigureRenderer();

  constructor() {
    super();
    this.addClass('jp-GraftFigure');
    this.node.appendChild(this.renderer.root);
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.renderer.update(model.data[MIME_TYPE]);
    return Promise.resolve();
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.renderer.dispose();
    super.dispose();
  }
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  // Lower ranks win: ahead of image/png (rank 90) and text/html (50).
  defaultRank: 0,
  createRenderer: () => new GraftFigureWidget()
};

const extension: IRenderMime.IExtension = {
  id: 'graft-figure:renderer',
  rendererFactory,
  rank: 0,
  dataType: 'json'
};

export default extension;
