/*
 * Creates and starts the JupyterLab application: the core plugins this
 * fixture bundles (generated list, see webpack.config.js) plus the plugins
 * and mime renderers of the federated extensions the bootstrap loaded.
 *
 * When the application has restored its layout it is exposed as
 * window.jupyterapp; the browser tests wait for that property and drive the
 * application through window.jupyterapp.commands.
 */

import { JupyterLab } from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';

import { coreExtensions, coreMimeExtensions } from '../gen/extensions.js';
import '../gen/style.js';
import { getExposed } from './federated.js';

/**
 * Plugins that need services this fixture does not ship (the status bar, the
 * file editor) or a server API jupyter_server 1.x lacks (news).
 */
const SKIPPED_PLUGINS = new Set([
  '@jupyterlab/apputils-extension:announcements',
  '@jupyterlab/apputils-extension:notification',
  '@jupyterlab/codemirror-extension:commands',
  '@jupyterlab/codemirror-extension:editor-syntax-status'
]);

/** Flattens the default export(s) of plugin modules into one plugin list. */
function pluginsOf(modules) {
  const plugins = [];
  for (const mod of modules) {
    const exported = mod && 'default' in mod ? mod.default : mod;
    for (const plugin of Array.isArray(exported) ? exported : [exported]) {
      if (
        plugin &&
        typeof plugin.id === 'string' &&
        !SKIPPED_PLUGINS.has(plugin.id) &&
        !PageConfig.Extension.isDisabled(plugin.id)
      ) {
        plugins.push(plugin);
      }
    }
  }
  return plugins;
}

/**
 * Builds and starts the application.
 *
 * @param {Array<object>} federated page config entries of the federated
 *   extensions whose containers loaded
 */
export async function main(federated) {
  const [extensions, mimeExtensions] = await Promise.all([
    getExposed(federated, 'extension'),
    getExposed(federated, 'mimeExtension'),
    getExposed(federated, 'style')
  ]);

  // JupyterLab expects mime extension *modules*; hand it one synthetic
  // module whose default export is the filtered list of renderer extensions.
  const mimeModule = {
    __esModule: true,
    default: pluginsOf([...coreMimeExtensions, ...mimeExtensions])
  };
  const app = new JupyterLab({ mimeExtensions: [mimeModule] });
  app.registerPlugins(pluginsOf([...coreExtensions, ...extensions]));
  await app.start();
  await app.restored;
  window.jupyterapp = app;
}
