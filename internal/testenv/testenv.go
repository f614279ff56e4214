// Package testenv lets graft's tests use tools from outside Go — above all
// PyTorch from Debian's python3-torch, the independent reference for numerics —
// and decides what a test does when such a tool is missing: on a developer's
// machine it is skipped with a message that says how to enable it; under CI
// (the environment variable CI set to true) it fails, because a reference test
// that silently skips in CI checks nothing.
package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultPython is the interpreter the tests use unless PythonEnv names
// another: Debian's, which sees the packages apt installs (python3-torch,
// python3-numpy), unlike a python3 from pyenv or a virtual environment that
// may come first on PATH.
const DefaultPython = "/usr/bin/python3"

// PythonEnv is the environment variable that overrides DefaultPython with a
// path to (or a name on PATH of) another interpreter.
const PythonEnv = "GRAFT_PYTHON"

// probeTimeout bounds the import check; importing torch takes a few seconds.
const probeTimeout = 2 * time.Minute

// Python returns the interpreter tests should use: $GRAFT_PYTHON if set,
// otherwise DefaultPython. It does not check that the interpreter exists.
func Python() string {
	return pythonFrom(os.Getenv)
}

func pythonFrom(getenv func(string) string) string {
	if p := getenv(PythonEnv); p != "" {
		return p
	}
	return DefaultPython
}

// RequirePython returns the Python interpreter (see Python) after checking
// that it runs and imports every one of the named modules. If it does not, the
// test is skipped with a message saying how to enable it — or, when the
// environment variable CI is true, fails, since a skip under CI would hide a
// missing reference. The check runs once per interpreter and module list in a
// test binary.
func RequirePython(t testing.TB, modules ...string) string {
	t.Helper()
	return requirePython(t, os.Getenv, runPython, modules)
}

// runner runs python with args and returns its combined output.
type runner func(ctx context.Context, python string, args ...string) ([]byte, error)

func runPython(ctx context.Context, python string, args ...string) ([]byte, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// requirePython is RequirePython with the environment and the way of running
// Python supplied, so the decision can be tested without an interpreter.
func requirePython(t testing.TB, getenv func(string) string, run runner, modules []string) string {
	t.Helper()
	for _, m := range modules {
		if !validModule.MatchString(m) {
			t.Fatalf("testenv.RequirePython: %q is not a Python module name", m)
			return ""
		}
	}
	python := pythonFrom(getenv)
	err := cachedProbe(python, modules, run)
	if err == nil {
		return python
	}
	msg := missingMessage(python, getenv(PythonEnv) != "", modules, err)
	if fatal := underCI(getenv("CI")); fatal {
		t.Fatalf("%s (CI=%s: a test that needs this reference may not be skipped in CI)", msg, getenv("CI"))
	} else {
		t.Skipf("%s", msg)
	}
	return ""
}

// Missing handles a test's missing outside tool, described by msg with how to
// enable it: on a developer's machine the test is skipped with msg; under CI
// (CI=true) it fails, since a skip there would check nothing.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if ci := os.Getenv("CI"); underCI(ci) {
		t.Fatalf("%s (CI=%s: a test that needs this tool may not be skipped in CI)", msg, ci)
	}
	t.Skip(msg)
}

// underCI reports whether the value of the CI environment variable means the
// tests run in continuous integration, where a missing tool is an error: any
// value strconv.ParseBool reads as true ("true", "1", "TRUE", …).
func underCI(ci string) bool {
	v, err := strconv.ParseBool(strings.TrimSpace(ci))
	return err == nil && v
}

// validModule matches dotted Python module names, so nothing else reaches the
// interpreter's command line.
var validModule = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// probeError says why the interpreter could not import the modules.
type probeError struct {
	notFound bool   // the interpreter could not be started at all
	detail   string // the error, or the last line of Python's traceback
}

func (e *probeError) Error() string { return e.detail }

var probes struct {
	sync.Mutex
	results map[string]error
}

// cachedProbe is probe, remembered per interpreter and module list.
func cachedProbe(python string, modules []string, run runner) error {
	key := python + "\x00" + strings.Join(modules, ",")
	probes.Lock()
	defer probes.Unlock()
	if err, ok := probes.results[key]; ok {
		return err
	}
	err := probe(python, modules, run)
	if probes.results == nil {
		probes.results = map[string]error{}
	}
	probes.results[key] = err
	return err
}

// probe runs `python -c "import m1, m2"` and returns nil if it succeeds.
func probe(python string, modules []string, run runner) error {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	code := "pass"
	if len(modules) > 0 {
		code = "import " + strings.Join(modules, ", ")
	}
	out, err := run(ctx, python, "-c", code)
	if err == nil {
		return nil
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		// exec could not start the interpreter (missing, not executable).
		return &probeError{notFound: true, detail: err.Error()}
	}
	detail := lastLine(string(out))
	if detail == "" {
		detail = err.Error()
	}
	return &probeError{detail: detail}
}

// lastLine returns the last non-blank line of s, trimmed: for a Python
// traceback, the exception ("ModuleNotFoundError: No module named 'torch'").
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// debianPackages names the Debian packages that provide Python modules whose
// package name is not simply python3-<module>.
var debianPackages = map[string]string{
	"jupyterlab_server": "python3-jupyterlab-server",
	"ot":                "python3-pot",
	"sklearn":           "python3-sklearn",
	"yaml":              "python3-yaml",
}

// debianPackage returns the Debian package that provides module.
func debianPackage(module string) string {
	top, _, _ := strings.Cut(module, ".")
	if p, ok := debianPackages[top]; ok {
		return p
	}
	return "python3-" + strings.ToLower(top)
}

// missingMessage says what is missing and how to enable the test. fromEnv
// reports whether the interpreter was chosen with GRAFT_PYTHON.
func missingMessage(python string, fromEnv bool, modules []string, err error) string {
	var pkgs []string
	seen := map[string]bool{}
	for _, m := range modules {
		if p := debianPackage(m); !seen[p] {
			seen[p] = true
			pkgs = append(pkgs, p)
		}
	}
	what := strings.Join(modules, ", ")
	if what == "" {
		what = "python"
	}
	install := "install Debian's python3"
	if len(pkgs) > 0 {
		install = fmt.Sprintf("install Debian's %s (apt-get install %s)", strings.Join(pkgs, ", "), strings.Join(pkgs, " "))
	}
	source := ""
	if fromEnv {
		source = fmt.Sprintf(" (from %s)", PythonEnv)
	}
	var pe *probeError
	if errors.As(err, &pe) && pe.notFound {
		return fmt.Sprintf("Python interpreter %s%s cannot be run: %s; %s or set %s to an interpreter that can import %s",
			python, source, pe.detail, install, PythonEnv, what)
	}
	return fmt.Sprintf("%s not importable by %s%s: %v; %s or set %s to an interpreter that can import %s",
		what, python, source, err, install, PythonEnv, what)
}

// RunJSON runs a Python script as a reference for a test: it requires the
// interpreter and modules as RequirePython does (skipping on a developer's
// machine without them, failing under CI), writes in as JSON to the script's
// standard input, and decodes the JSON the script writes to standard output
// into out, which must be a pointer. If the script cannot be run, exits
// non-zero or writes something out cannot hold, the test fails with the
// script's standard error. script is a path, relative to the test's package
// directory like any file a test opens (e.g. "testdata/ref.py"). One call is
// one process, so a test that makes many reference calls to a script whose
// imports are slow (torch, POT) should batch them into one in.
func RunJSON(t testing.TB, script string, in, out any, modules ...string) {
	t.Helper()
	python := RequirePython(t, modules...)
	if python == "" {
		return // skipped or failed (reached only with a fake testing.TB)
	}
	runJSON(t, python, script, in, out)
}

// runJSON is RunJSON after the interpreter has been chosen and checked.
func runJSON(t testing.TB, python, script string, in, out any) {
	t.Helper()
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("%s: encoding the input: %v", script, err)
		return
	}
	cmd := exec.Command(python, script)
	cmd.Stdin = bytes.NewReader(body)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
		return
	}
	if err := json.Unmarshal(res, out); err != nil {
		t.Fatalf("%s: decoding %.200q: %v\n%s", script, res, err, stderr.String())
	}
}
