// Package e2e holds graft's end-to-end browser tests of its interactive
// figures: run.mjs (Node, playwright-core driving Debian's chromium) opens a
// notebook of figure cells in classic Notebook and in JupyterLab, runs it on
// a freshly built graft, checks graft's renderer drew every figure, hovers a
// scatter, watches a live figure, and measures update→repaint latency and
// hover frame time. This Go test builds graft and runs it, so that
// `go test ./e2e` covers the browser side too; see README.md.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graftml/graft/internal/testenv"
)

// runTimeout bounds the whole browser run (run.mjs's own limit is a little shorter).
const runTimeout = 5 * time.Minute

// enable says how to get what the test needs.
const enable = "to enable: `cd e2e && npm ci`, `e2e/lab/build.sh`, and Debian's chromium, jupyter-notebook and python3-jupyterlab-server (apt-get install chromium jupyter-notebook python3-jupyterlab-server)"

// missing skips the test, or fails it under CI, saying what is missing and
// how to get it.
func missing(t *testing.T, msg string) {
	t.Helper()
	testenv.Missing(t, msg+"; "+enable)
}

// chromium is the browser run.mjs launches.
func chromium() string {
	if p := os.Getenv("GRAFT_E2E_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// requireTools checks for everything run.mjs needs and returns node's path.
func requireTools(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node (Node.js 20 or later) is not on PATH")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core", "package.json")); err != nil {
		missing(t, "e2e/node_modules/playwright-core is not installed")
	}
	if fi, err := os.Stat(chromium()); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		missing(t, fmt.Sprintf("chromium is not at %s (set GRAFT_E2E_CHROMIUM to another)", chromium()))
	}
	testenv.RequirePython(t, "notebook", "jupyterlab_server")
	if _, err := os.Stat(filepath.Join("lab", "build", "bundle.js")); err != nil {
		missing(t, "the JupyterLab test application is not built (e2e/lab/build/bundle.js)")
	}
	return node
}

// buildGraft builds cmd/graft into dir and returns the binary's path.
func buildGraft(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(dir, "graft")
	cmd := exec.Command(goTool, "build", "-o", bin, "./cmd/graft")
	cmd.Dir = ".." // the module root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/graft: %v\n%s", err, out)
	}
	return bin
}

// artefactsDir returns $GRAFT_E2E_ARTEFACTS, or a new temporary directory
// that is removed when the test passes and kept for inspection when it fails.
func artefactsDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("GRAFT_E2E_ARTEFACTS"); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	dir, err := os.MkdirTemp("", "graft-e2e-artefacts-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	return dir
}

// TestHelpers runs the unit tests of run.mjs's pure helpers (tooltip
// matching, statistics), which need Node only.
func TestHelpers(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node (Node.js 20 or later) is not on PATH")
	}
	out, err := exec.Command(node, "--test", "lib/").CombinedOutput()
	if err != nil {
		t.Fatalf("node --test lib/: %v\n%s", err, out)
	}
}

func TestBrowser(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the browser tests run on Linux only (Debian's chromium and Jupyter), not %s", runtime.GOOS)
	}
	if testing.Short() {
		t.Skip("the browser tests take a few minutes; run without -short")
	}
	node := requireTools(t)
	bin := buildGraft(t, t.TempDir())
	artefacts := artefactsDir(t)
	t.Logf("artefacts (e2e.log, screenshots, server logs): %s", artefacts)

	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	limit := strconv.Itoa(int((runTimeout - 20*time.Second).Seconds()))
	cmd := exec.CommandContext(ctx, node, "run.mjs", "--graft", bin, "--artefacts", artefacts, "--timeout", limit)
	// On timeout run.mjs gets SIGINT, on which it stops its servers, kernels and browser.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node run.mjs: %v", err)
	}
	var measures []string
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		t.Log(line)
		if strings.HasPrefix(line, "measure ") {
			measures = append(measures, line)
		}
	}
	err = cmd.Wait()
	if len(measures) > 0 {
		t.Logf("measurements:\n%s", strings.Join(measures, "\n"))
	}
	if ctx.Err() != nil {
		t.Fatalf("the browser tests did not finish within %v; see %s", runTimeout, artefacts)
	}
	if err != nil {
		t.Fatalf("node run.mjs: %v; the log above lists the failed checks; screenshots and logs in %s", err, artefacts)
	}
}
