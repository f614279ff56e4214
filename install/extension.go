package install

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ExtensionName names graft's notebook extension: the JupyterLab extension's
// package and directory, and the classic Notebook's nbextension.
const ExtensionName = "graft-figure"

// bundle is the notebook extension as frontend/ builds it (npm run build):
// the federated JupyterLab extension and the classic Notebook nbextension.
// CI rebuilds it from source and fails when it differs from this copy.
//
//go:embed all:jupyterext/labextensions all:jupyterext/nbextensions
var bundle embed.FS

// Extension says where WriteExtension put the notebook extension.
type Extension struct {
	// LabDir is the JupyterLab extension's directory,
	// DATA/labextensions/graft-figure.
	LabDir string
	// NotebookDir is the classic Notebook's nbextension directory,
	// DATA/nbextensions/graft-figure.
	NotebookDir string
	// NotebookConfig is the file that enables the nbextension,
	// CONFIG/nbconfig/notebook.d/graft-figure.json.
	NotebookConfig string
}

// ExtensionFiles returns the embedded extension's files: paths relative to
// a Jupyter data directory (labextensions/graft-figure/… and
// nbextensions/graft-figure/…) and their bytes.
func ExtensionFiles() (map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(bundle, "jupyterext", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := bundle.ReadFile(p)
		if err != nil {
			return err
		}
		files[p[len("jupyterext/"):]] = b
		return nil
	})
	return files, err
}

// WriteExtension writes the notebook extension under the Jupyter data
// directory dataDir and enables the classic Notebook's part in the Jupyter
// configuration directory configDir. JupyterLab 3 and later load every
// extension in a labextensions directory on their data path, so the lab
// part needs no switch. An extension already there is replaced whole, so no
// file of an older build is left behind.
func WriteExtension(dataDir, configDir string) (Extension, error) {
	ext := Extension{
		LabDir:         filepath.Join(dataDir, "labextensions", ExtensionName),
		NotebookDir:    filepath.Join(dataDir, "nbextensions", ExtensionName),
		NotebookConfig: filepath.Join(configDir, "nbconfig", "notebook.d", ExtensionName+".json"),
	}
	files, err := ExtensionFiles()
	if err != nil {
		return ext, fmt.Errorf("reading the embedded notebook extension: %w", err)
	}
	for _, dir := range []string{ext.LabDir, ext.NotebookDir} {
		if err := os.RemoveAll(dir); err != nil {
			return ext, fmt.Errorf("replacing the notebook extension: %w", err)
		}
	}
	for rel, b := range files {
		if err := writeFile(filepath.Join(dataDir, filepath.FromSlash(rel)), b); err != nil {
			return ext, err
		}
	}
	// install.json tells JupyterLab's extension manager how this extension
	// came and how it goes.
	installInfo, _ := json.MarshalIndent(map[string]string{
		"packageManager":        "graft",
		"packageName":           ExtensionName,
		"uninstallInstructions": "Delete " + ext.LabDir + ", " + ext.NotebookDir + " and " + ext.NotebookConfig + ", or run `graft install --no-extension` to install only the kernel.",
	}, "", "  ")
	if err := writeFile(filepath.Join(ext.LabDir, "install.json"), append(installInfo, '\n')); err != nil {
		return ext, err
	}
	enable, _ := json.MarshalIndent(map[string]any{"load_extensions": map[string]bool{ExtensionName + "/main": true}}, "", "  ")
	if err := writeFile(ext.NotebookConfig, append(enable, '\n')); err != nil {
		return ext, err
	}
	return ext, nil
}

func writeFile(name string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("writing the notebook extension: %w", err)
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return fmt.Errorf("writing the notebook extension: %w", err)
	}
	return nil
}

// PrefixConfigDir is the Jupyter configuration directory under an
// installation prefix: PREFIX/etc/jupyter.
func PrefixConfigDir(prefix string) string {
	return filepath.Join(prefix, "etc", "jupyter")
}

// UserConfigDir returns the user's Jupyter configuration directory as
// jupyter_core computes it: $JUPYTER_CONFIG_DIR if set, else ~/.jupyter.
func UserConfigDir() (string, error) {
	return userConfigDir(os.Getenv, os.UserHomeDir)
}

func userConfigDir(getenv func(string) string, home func() (string, error)) (string, error) {
	if d := getenv("JUPYTER_CONFIG_DIR"); d != "" {
		return d, nil
	}
	h, err := home()
	if err != nil {
		return "", fmt.Errorf("finding the Jupyter configuration directory: %w (set JUPYTER_CONFIG_DIR)", err)
	}
	return filepath.Join(h, ".jupyter"), nil
}
