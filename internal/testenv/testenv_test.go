package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTB records Skipf and Fatalf instead of stopping the test.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skipf(format string, args ...any) { f.skipped = fmt.Sprintf(format, args...) }

func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

// exitError returns a real *exec.ExitError (status 1) by running a shell.
func exitError(t *testing.T) error {
	t.Helper()
	err := exec.Command("sh", "-c", "exit 1").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Skipf("cannot make an exit error with sh: %v", err)
	}
	return err
}

func TestUnderCI(t *testing.T) {
	for _, tc := range []struct {
		ci   string
		want bool
	}{
		{"", false}, {"true", true}, {"TRUE", true}, {"1", true}, {" true\n", true},
		{"false", false}, {"0", false}, {"yes", false},
	} {
		if got := underCI(tc.ci); got != tc.want {
			t.Errorf("underCI(%q) = %v, want %v", tc.ci, got, tc.want)
		}
	}
}

func TestPythonFrom(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == PythonEnv {
				return v
			}
			return ""
		}
	}
	if got := pythonFrom(env("")); got != DefaultPython {
		t.Errorf("without %s: %q, want %q", PythonEnv, got, DefaultPython)
	}
	if got := pythonFrom(env("/opt/py/bin/python")); got != "/opt/py/bin/python" {
		t.Errorf("with %s: %q", PythonEnv, got)
	}
}

func TestDebianPackage(t *testing.T) {
	for mod, want := range map[string]string{
		"torch": "python3-torch", "numpy": "python3-numpy", "ot": "python3-pot",
		"torch.nn": "python3-torch", "scipy.linalg": "python3-scipy",
	} {
		if got := debianPackage(mod); got != want {
			t.Errorf("debianPackage(%q) = %q, want %q", mod, got, want)
		}
	}
}

func TestRequirePythonDecision(t *testing.T) {
	exitErr := exitError(t)
	notImportable := func(context.Context, string, ...string) ([]byte, error) {
		return []byte("Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\nModuleNotFoundError: No module named 'torch'\n"), exitErr
	}
	notFound := func(context.Context, string, ...string) ([]byte, error) {
		return nil, &exec.Error{Name: "/nonexistent", Err: exec.ErrNotFound}
	}
	var gotArgs []string
	ok := func(_ context.Context, python string, args ...string) ([]byte, error) {
		gotArgs = append([]string{python}, args...)
		return nil, nil
	}
	for _, tc := range []struct {
		name       string
		env        map[string]string
		run        runner
		modules    []string
		want       string // returned interpreter
		skip, fail []string
	}{
		{name: "present", run: ok, modules: []string{"torch"}, want: DefaultPython},
		{name: "present via env", env: map[string]string{PythonEnv: "/opt/py"}, run: ok, modules: []string{"torch", "numpy"}, want: "/opt/py"},
		{
			name: "module missing skips", run: notImportable, modules: []string{"torch"},
			skip: []string{"torch not importable by /usr/bin/python3", "No module named 'torch'", "apt-get install python3-torch", "set GRAFT_PYTHON"},
		},
		{
			name: "module missing fails under CI", env: map[string]string{"CI": "true"}, run: notImportable, modules: []string{"torch"},
			fail: []string{"torch not importable by /usr/bin/python3", "apt-get install python3-torch", "CI=true"},
		},
		{
			name: "CI=false still skips", env: map[string]string{"CI": "false"}, run: notImportable, modules: []string{"torch"},
			skip: []string{"torch not importable"},
		},
		{
			name: "interpreter missing skips", env: map[string]string{PythonEnv: "/nonexistent"}, run: notFound, modules: []string{"torch", "ot"},
			skip: []string{"Python interpreter /nonexistent (from GRAFT_PYTHON) cannot be run", "apt-get install python3-torch python3-pot", "import torch, ot"},
		},
		{
			name: "interpreter missing fails under CI", env: map[string]string{PythonEnv: "/nonexistent", "CI": "1"}, run: notFound, modules: []string{"torch"},
			fail: []string{"/nonexistent", "cannot be run", "CI=1"},
		},
		{
			name: "bad module name is a programmer error", run: ok, modules: []string{"torch; import os"},
			fail: []string{`"torch; import os" is not a Python module name`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probes.Lock()
			probes.results = nil // each case probes afresh
			probes.Unlock()
			getenv := func(k string) string { return tc.env[k] }
			tb := &fakeTB{}
			got := requirePython(tb, getenv, tc.run, tc.modules)
			if got != tc.want {
				t.Errorf("returned %q, want %q", got, tc.want)
			}
			check := func(kind, msg string, wants []string) {
				if len(wants) == 0 && msg != "" {
					t.Errorf("unexpected %s: %s", kind, msg)
				}
				if len(wants) > 0 && msg == "" {
					t.Errorf("no %s, want one mentioning %q", kind, wants)
				}
				for _, w := range wants {
					if msg != "" && !strings.Contains(msg, w) {
						t.Errorf("%s message %q does not mention %q", kind, msg, w)
					}
				}
			}
			check("skip", tb.skipped, tc.skip)
			check("failure", tb.fatal, tc.fail)
		})
	}
	if want := []string{"/opt/py", "-c", "import torch, numpy"}; strings.Join(gotArgs, " ") != strings.Join(want, " ") {
		t.Errorf("probe ran %q, want %q", gotArgs, want)
	}
}

func TestProbeIsCached(t *testing.T) {
	probes.Lock()
	probes.results = nil
	probes.Unlock()
	calls := 0
	run := func(context.Context, string, ...string) ([]byte, error) {
		calls++
		return nil, nil
	}
	tb := &fakeTB{}
	for i := 0; i < 3; i++ {
		requirePython(tb, func(string) string { return "" }, run, []string{"torch"})
	}
	requirePython(tb, func(string) string { return "" }, run, []string{"numpy"})
	if calls != 2 {
		t.Errorf("python ran %d times for 4 checks of 2 module lists, want 2", calls)
	}
}

func TestProbeRealProcess(t *testing.T) {
	err := probe("/nonexistent/python3", []string{"torch"}, runPython)
	var pe *probeError
	if !errors.As(err, &pe) || !pe.notFound {
		t.Errorf("probe of a missing interpreter = %v, want a not-found probeError", err)
	}
	sh, lerr := exec.LookPath("sh")
	if lerr != nil {
		t.Skip("no sh to stand in for an interpreter")
	}
	// sh -c "import torch" fails with a non-zero exit: not importable, not missing.
	err = probe(sh, []string{"torch"}, runPython)
	if !errors.As(err, &pe) || pe.notFound || pe.detail == "" {
		t.Errorf("probe with sh = %#v, want an import failure with detail", err)
	}
}

func TestRunJSON(t *testing.T) {
	RequirePython(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "double.py")
	src := "import json, sys\nx = json.load(sys.stdin)\njson.dump({'twice': [2 * v for v in x['values']]}, sys.stdout)\n"
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Twice []float64 `json:"twice"`
	}
	RunJSON(t, script, map[string]any{"values": []float64{1, -2.5}}, &got)
	if len(got.Twice) != 2 || got.Twice[0] != 2 || got.Twice[1] != -5 {
		t.Errorf("RunJSON decoded %v, want [2 -5]", got.Twice)
	}

	// A failing script fails the test with its standard error.
	bad := filepath.Join(dir, "bad.py")
	if err := os.WriteFile(bad, []byte("import sys\nsys.exit('no reference today')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tb := &fakeTB{}
	runJSON(tb, Python(), bad, 1, &got)
	if !strings.Contains(tb.fatal, "no reference today") || !strings.Contains(tb.fatal, "bad.py") {
		t.Errorf("failing script: fatal %q, want the script's name and its stderr", tb.fatal)
	}
	// Output that does not decode into out fails too.
	tb = &fakeTB{}
	var n int
	runJSON(tb, Python(), script, map[string]any{"values": []float64{1}}, &n)
	if !strings.Contains(tb.fatal, "decoding") {
		t.Errorf("undecodable output: fatal %q, want a decoding failure", tb.fatal)
	}
}
