/*
 * Entry point of the lab test application.
 *
 * It runs before any shared package is loaded: it points webpack at the
 * server's static URL, loads the federated extensions named in the page
 * config (so they join the share scope first, as JupyterLab's own bootstrap
 * does), and only then imports the application (main.js) asynchronously.
 */

import { initContainers } from './federated.js';

/** Reads the JSON page config the server put into the HTML template. */
function pageConfig() {
  const el = document.getElementById('jupyter-config-data');
  return el ? JSON.parse(el.textContent || '{}') : {};
}

const config = pageConfig();

// eslint-disable-next-line no-undef
__webpack_public_path__ = `${config.fullStaticUrl || ''}/`;

void (async () => {
  const federated = await initContainers(
    config.federated_extensions || [],
    config.fullLabextensionsUrl || ''
  );
  const { main } = await import('./main.js');
  await main(federated);
})();
