package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/graftml/graft/internal/kerneltest"
	"github.com/graftml/graft/internal/testenv"
)

// nbclientScript executes a notebook with nbclient through the kernelspec
// named graft, as `jupyter nbconvert --execute` would, and writes it. Jupyter
// frontends show (and JupyterLab saves) consecutive stream messages of one
// name as one output; nbclient keeps each message, so they are merged here
// before the comparison with graft run, which merges them as they arrive.
const nbclientScript = `
import sys, nbformat, nbclient
src, dst = sys.argv[1], sys.argv[2]
nb = nbformat.read(src, as_version=4)
nbclient.NotebookClient(nb, kernel_name="graft", allow_errors=True, timeout=120,
                        record_timing=False).execute()
for cell in nb.cells:
    if cell.cell_type != "code":
        continue
    merged = []
    for out in cell.outputs:
        if (out.output_type == "stream" and merged and merged[-1].output_type == "stream"
                and merged[-1].name == out.name):
            merged[-1].text += out.text
        else:
            merged.append(out)
    cell.outputs = merged
nbformat.write(nb, dst)
`

func TestMain(m *testing.M) { kerneltest.Main(m) }

// TestRunMatchesNBClient executes testdata/outputs.ipynb twice — with graft
// run, in-process, and with nbclient through graft's kernel as Jupyter
// starts it — and requires the two notebooks to be the same, byte for byte.
func TestRunMatchesNBClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds graft and starts a Jupyter kernel")
	}
	python := testenv.RequirePython(t, "nbclient", "nbformat", "jupyter_client")
	dir := t.TempDir()
	jupyter := kerneltest.NewJupyter(t, kerneltest.Binary(t))

	src := "testdata/outputs.ipynb"
	viaRun := filepath.Join(dir, "run.ipynb")
	err := executeNotebook(context.Background(), runOptions{notebook: src, out: viaRun, allowErrors: true}, io.Discard, io.Discard)
	if err != nil {
		t.Fatalf("graft run: %v", err)
	}

	viaClient := filepath.Join(dir, "nbclient.ipynb")
	cmd := exec.Command(python, "-c", nbclientScript, src, viaClient)
	cmd.Env = jupyter.Env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nbclient: %v\n%s", err, out)
	}

	a, err := os.ReadFile(viaRun)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(viaClient)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		diff, _ := exec.Command("diff", "-u", viaClient, viaRun).Output()
		t.Errorf("graft run and nbclient store different notebooks (- nbclient, + graft run):\n%s", diff)
	}
}
