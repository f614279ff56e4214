#!/usr/bin/python3
"""graft-lab-test-server: serves the JupyterLab 3.6 test application.

A fixture for graft's end-to-end browser tests, not something users run.
It serves the frontend built by build.sh (build/) with jupyterlab_server's
LabServerApp on jupyter_server 1.x (Debian's python3-jupyterlab-server and
python3-jupyter-server), listening on 127.0.0.1 only, with a fixed token and
no browser. Federated (prebuilt) lab extensions are read from the
--labextensions-dir directories only; kernels are whatever kernelspecs
jupyter_client finds (JUPYTER_PATH etc.).

Run with /usr/bin/python3:

    serve.py --port P --token T --root-dir DIR --labextensions-dir DIR2

When it accepts connections it prints
"graft-lab-test-server listening on http://127.0.0.1:P/lab".
SIGTERM (or SIGINT) shuts down the kernels it started and exits with 0.
Lab settings and workspaces (and the Jupyter config and runtime directories,
unless JUPYTER_CONFIG_DIR / JUPYTER_RUNTIME_DIR are set) live in a temporary
directory that is removed on exit.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_DIR = os.path.join(HERE, "build")
TEMPLATES_DIR = os.path.join(HERE, "templates")


def parse_args(argv):
    """Parses the command line; see --help."""
    parser = argparse.ArgumentParser(
        prog="serve.py",
        description="Serve the JupyterLab 3.6 test application of graft's "
        "end-to-end tests on 127.0.0.1 (run e2e/lab/build.sh first).",
    )
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    parser.add_argument("--token", required=True, help="authentication token (open /lab?token=T)")
    parser.add_argument("--root-dir", required=True, help="directory of the notebooks served")
    parser.add_argument(
        "--labextensions-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="a share/jupyter/labextensions directory with federated extensions "
        "(repeatable; no other directory is searched)",
    )
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token must not be empty")
    if not os.path.isdir(args.root_dir):
        parser.error(f"--root-dir {args.root_dir}: not a directory")
    if not os.path.isfile(os.path.join(BUILD_DIR, "bundle.js")):
        parser.error(f"{BUILD_DIR}/bundle.js is missing: run e2e/lab/build.sh first")
    return args


def isolate_jupyter_dirs(state_dir):
    """Keeps ~/.jupyter config and runtime files out of the server.

    JUPYTER_CONFIG_DIR and JUPYTER_RUNTIME_DIR that the caller set are kept
    (the e2e runner points them into its private prefix); unset ones go to
    state_dir.
    """
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime")):
        if not os.environ.get(var):
            path = os.path.join(state_dir, sub)
            os.makedirs(path)
            os.environ[var] = path


def lab_version():
    """The @jupyterlab/application version the frontend was built with."""
    with open(os.path.join(HERE, "package.json")) as f:
        return json.load(f)["dependencies"]["@jupyterlab/application"]


# The class must be module-level: jupyter_server finds the extension through
# this module's _jupyter_server_extension_points().
import jupyter_server  # noqa: E402
from jupyterlab_server import LabServerApp  # noqa: E402


class GraftLabTestServer(LabServerApp):
    """LabServerApp serving build/ with templates/index.html at /lab."""

    name = "lab"
    app_name = "graft lab test server"
    load_other_extensions = False
    app_version = lab_version()
    static_dir = BUILD_DIR
    schemas_dir = os.path.join(BUILD_DIR, "schemas")
    themes_dir = os.path.join(BUILD_DIR, "themes")
    templates_dir = TEMPLATES_DIR
    # Set once the handlers are installed: jupyter_server only logs a failing
    # extension and would go on serving nothing.
    loaded = False

    def initialize_handlers(self):
        """Adds the page config entries the JupyterLab 3 frontend expects."""
        settings = self.serverapp.web_app.settings
        page_config = settings.setdefault("page_config_data", {})
        page_config["token"] = self.serverapp.token
        page_config["notebookVersion"] = json.dumps(list(jupyter_server.version_info))
        page_config["exposeAppInBrowser"] = True
        super().initialize_handlers()
        GraftLabTestServer.loaded = True


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": GraftLabTestServer}]


def server_config(args, state_dir):
    """The traitlets config of the server and of GraftLabTestServer."""
    from traitlets.config import Config

    c = Config()
    c.ServerApp.ip = "127.0.0.1"
    c.ServerApp.port = args.port
    c.ServerApp.port_retries = 0
    c.ServerApp.token = args.token
    c.ServerApp.root_dir = os.path.abspath(args.root_dir)
    c.ServerApp.open_browser = False
    c.ServerApp.terminals_enabled = False
    c.ServerApp.allow_remote_access = False
    c.ServerApp.allow_root = True  # CI containers run as root
    lab = c.GraftLabTestServer
    lab.labextensions_path = [os.path.abspath(d) for d in args.labextensions_dir]
    lab.extra_labextensions_path = []
    for trait in ("app_settings_dir", "user_settings_dir", "workspaces_dir"):
        path = os.path.join(state_dir, trait)
        os.makedirs(path)
        lab[trait] = path
    return c


def main(argv=None):
    """Runs the server until SIGTERM/SIGINT; returns the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    state_dir = tempfile.mkdtemp(prefix="graft-lab-")
    try:
        isolate_jupyter_dirs(state_dir)
        serverapp = GraftLabTestServer.initialize_server(
            argv=[], config=server_config(args, state_dir)
        )
        if not GraftLabTestServer.loaded:
            print("graft-lab-test-server: the lab extension failed to load", file=sys.stderr)
            return 1
        # jupyter_server asks for confirmation on SIGINT when stdin is a
        # terminal; a test fixture just stops, as on SIGTERM.
        signal.signal(signal.SIGINT, serverapp._signal_stop)
        serverapp.start_app()
        url = f"http://127.0.0.1:{args.port}/lab"
        serverapp.io_loop.add_callback(
            lambda: print(f"graft-lab-test-server listening on {url}", flush=True)
        )
        serverapp.start_ioloop()
        return 0
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
