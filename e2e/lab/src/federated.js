/*
 * Loading of federated (prebuilt) JupyterLab extensions.
 *
 * The server lists every extension it found in a labextensions directory in
 * the page config as `federated_extensions`: [{name, load, extension?,
 * mimeExtension?, style?}]. Each one ships a webpack module-federation
 * container ("remote entry") that, when its script runs, registers itself as
 * window._JUPYTERLAB[name]. This module only uses plain DOM APIs and webpack's
 * sharing runtime, so the bootstrap can use it before any shared package
 * (@jupyterlab/*, @lumino/*, react) has been loaded.
 */

/* global __webpack_init_sharing__, __webpack_share_scopes__ */

/** Appends a <script> for url and resolves once it has run. */
function loadScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.async = true;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`failed to load ${url}`));
    script.src = url;
    document.head.appendChild(script);
  });
}

/**
 * Loads the remote entry of every federated extension and lets it join the
 * "default" share scope, so that webpack can pick one copy of every shared
 * package (ours, as singletons) before the application code is imported.
 * A broken extension is logged and skipped; it never stops the application.
 *
 * @param {Array<{name: string, load: string}>} extensions page config entries
 * @param {string} baseUrl the full labextensions URL (no trailing slash)
 * @returns {Promise<Array>} the entries whose container loaded
 */
export async function initContainers(extensions, baseUrl) {
  await __webpack_init_sharing__('default');
  const results = await Promise.allSettled(
    extensions.map(async ext => {
      await loadScript(`${baseUrl}/${ext.name}/${ext.load}`);
      const container = window._JUPYTERLAB && window._JUPYTERLAB[ext.name];
      if (!container) {
        throw new Error(`extension ${ext.name} registered no container`);
      }
      await container.init(__webpack_share_scopes__.default);
      return ext;
    })
  );
  const loaded = [];
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') {
      loaded.push(result.value);
    } else {
      console.error(`federated extension ${extensions[i].name}:`, result.reason);
    }
  });
  return loaded;
}

/**
 * Gets one exposed module (e.g. './extension', './mimeExtension', './style')
 * from every loaded container that declares it under `key` in its page
 * config entry. Failures are logged and skipped.
 *
 * @param {Array<object>} extensions entries returned by initContainers
 * @param {'extension'|'mimeExtension'|'style'} key page config field
 * @returns {Promise<Array<object>>} the module objects
 */
export async function getExposed(extensions, key) {
  const results = await Promise.allSettled(
    extensions
      .filter(ext => typeof ext[key] === 'string')
      .map(async ext => {
        const factory = await window._JUPYTERLAB[ext.name].get(ext[key]);
        return factory();
      })
  );
  const modules = [];
  for (const result of results) {
    if (result.status === 'fulfilled') {
      modules.push(result.value);
    } else {
      console.error(`federated ${key}:`, result.reason);
    }
  }
  return modules;
}
