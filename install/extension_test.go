package install

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graftml/graft/internal/testenv"
)

func TestTheEmbeddedExtensionHasBothParts(t *testing.T) {
	files, err := ExtensionFiles()
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Name       string `json:"name"`
		JupyterLab struct {
			MimeExtension any `json:"mimeExtension"`
			Build         struct {
				Load string `json:"load"`
			} `json:"_build"`
		} `json:"jupyterlab"`
	}
	if err := json.Unmarshal(files["labextensions/graft-figure/package.json"], &pkg); err != nil {
		t.Fatalf("the lab extension's package.json: %v", err)
	}
	if pkg.Name != ExtensionName || pkg.JupyterLab.MimeExtension == nil || pkg.JupyterLab.Build.Load == "" {
		t.Fatalf("the lab extension's package.json names %q, mimeExtension %v, load %q", pkg.Name, pkg.JupyterLab.MimeExtension, pkg.JupyterLab.Build.Load)
	}
	if _, ok := files["labextensions/graft-figure/"+pkg.JupyterLab.Build.Load]; !ok {
		t.Errorf("the lab extension's entry point %s is missing", pkg.JupyterLab.Build.Load)
	}
	main := string(files["nbextensions/graft-figure/main.js"])
	if !strings.Contains(main, "load_ipython_extension") || !strings.Contains(main, "application/vnd.graft.figure+json") {
		t.Errorf("the nbextension's main.js (%d bytes) does not register the MIME type", len(main))
	}
}

func TestWriteExtensionReplacesAnOlderBuild(t *testing.T) {
	data, config := t.TempDir(), t.TempDir()
	stale := filepath.Join(data, "labextensions", "graft-figure", "static", "remoteEntry.old.js")
	if err := writeFile(stale, []byte("old")); err != nil {
		t.Fatal(err)
	}
	ext, err := WriteExtension(data, config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a file of the older build is left: %v", err)
	}
	files, _ := ExtensionFiles()
	for rel, want := range files {
		got, err := os.ReadFile(filepath.Join(data, rel))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: %d bytes written, want %d (%v)", rel, len(got), len(want), err)
		}
	}
	var enable map[string]map[string]bool
	raw, _ := os.ReadFile(ext.NotebookConfig)
	if err := json.Unmarshal(raw, &enable); err != nil || !enable["load_extensions"]["graft-figure/main"] {
		t.Errorf("%s enables %v (%v)", ext.NotebookConfig, enable, err)
	}
	var info map[string]string
	raw, _ = os.ReadFile(filepath.Join(ext.LabDir, "install.json"))
	if err := json.Unmarshal(raw, &info); err != nil || info["packageName"] != ExtensionName {
		t.Errorf("install.json: %v (%v)", info, err)
	}
}

// TestJupyterFindsTheExtension asks Jupyter's own code where the installed
// extension is: jupyterlab_server lists it among the federated extensions
// JupyterLab loads, and the classic Notebook's configuration loads the
// nbextension.
func TestJupyterFindsTheExtension(t *testing.T) {
	python := testenv.RequirePython(t, "jupyterlab_server", "notebook")
	prefix := t.TempDir()
	if _, err := Install(t.Context(), Options{Target: TargetPrefix, Prefix: prefix, Binary: fakeBinary(t)}); err != nil {
		t.Fatal(err)
	}
	script := `
import json, os, sys
from jupyterlab_server.config import get_federated_extensions
from notebook.services.config import ConfigManager
data, config = sys.argv[1], sys.argv[2]
lab = get_federated_extensions([os.path.join(data, "labextensions")])
ext = lab.get("graft-figure", {})
nb = ConfigManager(read_config_path=[os.path.join(config, "nbconfig")]).get("notebook")
print(json.dumps({"lab": sorted(lab), "mime": bool(ext.get("jupyterlab", {}).get("mimeExtension")),
    "load": ext.get("jupyterlab", {}).get("_build", {}).get("load", ""),
    "nb": nb.get("load_extensions", {})}))
`
	cmd := exec.Command(python, "-c", script, PrefixDataDir(prefix), PrefixConfigDir(prefix))
	cmd.Env = append(os.Environ(), "JUPYTER_CONFIG_DIR="+t.TempDir(), "JUPYTER_DATA_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got struct {
		Lab  []string        `json:"lab"`
		Mime bool            `json:"mime"`
		Load string          `json:"load"`
		NB   map[string]bool `json:"nb"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Lab) != 1 || got.Lab[0] != "graft-figure" || !got.Mime || !strings.HasPrefix(got.Load, "static/remoteEntry.") {
		t.Errorf("jupyterlab_server finds %+v", got)
	}
	if !got.NB["graft-figure/main"] {
		t.Errorf("the classic Notebook loads %v", got.NB)
	}
}
