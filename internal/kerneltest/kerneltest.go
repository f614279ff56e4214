// Package kerneltest gives tests the graft kernel as Jupyter sees it: the
// graft binary built once per test process, and kernelspecs for it written into
// a private Jupyter data directory, so that jupyter_client, nbclient and the
// kernel test suite start graft exactly as a user's frontend would.
package kerneltest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/graftml/graft/install"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// Main runs the tests of a package that uses Binary and removes the binary
// afterwards; call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// Binary builds cmd/graft (once per test process) and returns the path of the
// executable. A failed build fails the test.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "graft-test-bin-")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "graft")
		cmd := exec.Command(GoTool(), "build", "-o", buildBin, "github.com/graftml/graft/cmd/graft")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/graft: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// GoTool returns the go command of the toolchain running the tests.
func GoTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Jupyter is a private Jupyter data directory holding kernelspecs for a graft
// binary.
type Jupyter struct {
	// Dir is the directory to put on JUPYTER_PATH; kernelspecs are under
	// Dir/kernels/NAME.
	Dir string
	// UserDir is a fresh JUPYTER_DATA_DIR (where graft keeps its history).
	UserDir string
}

// NewJupyter writes the kernelspec `graft` for bin (interrupt_mode message)
// into a new temporary data directory; more specs can be added with Add.
func NewJupyter(t testing.TB, bin string) *Jupyter {
	t.Helper()
	root := t.TempDir()
	j := &Jupyter{Dir: filepath.Join(root, "share"), UserDir: filepath.Join(root, "user")}
	j.Add(t, "graft", install.NewSpec(bin, ""))
	return j
}

// Add writes spec as the kernelspec called name.
func (j *Jupyter) Add(t testing.TB, name string, spec install.Spec) {
	t.Helper()
	if err := install.Write(install.KernelDir(j.Dir, name), spec); err != nil {
		t.Fatalf("writing kernelspec %s: %v", name, err)
	}
}

// Env returns the process environment with JUPYTER_PATH, JUPYTER_DATA_DIR
// and JUPYTER_RUNTIME_DIR (connection files) pointing into j, for Python
// programs that start the kernel.
func (j *Jupyter) Env() []string {
	return append(os.Environ(), "JUPYTER_PATH="+j.Dir, "JUPYTER_DATA_DIR="+j.UserDir,
		"JUPYTER_RUNTIME_DIR="+filepath.Join(j.UserDir, "runtime"))
}
