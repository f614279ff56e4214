package install

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/graftml/graft/internal/testenv"
)

// fakeBinary makes an executable file to stand for the graft binary.
func fakeBinary(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "graft")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kernels", "graft")
	if err := Write(dir, NewSpec("/opt/graft/bin/graft", "")); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{
 "argv": [
  "/opt/graft/bin/graft",
  "kernel",
  "-f",
  "{connection_file}"
 ],
 "display_name": "Go (graft)",
 "language": "go",
 "interrupt_mode": "message"
}
`
	if string(raw) != want {
		t.Errorf("kernel.json:\n%s\nwant:\n%s", raw, want)
	}
	for _, size := range []int{32, 64} {
		name := filepath.Join(dir, fmt.Sprintf("logo-%dx%d.png", size, size))
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, Logo(size)) {
			t.Errorf("%s differs from Logo(%d)", name, size)
		}
	}
}

func TestLogo(t *testing.T) {
	for _, size := range []int{32, 64} {
		img, err := png.Decode(bytes.NewReader(Logo(size)))
		if err != nil {
			t.Fatalf("Logo(%d) is not a PNG: %v", size, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Errorf("Logo(%d) is %dx%d", size, b.Dx(), b.Dy())
		}
		at := func(u, v float64) color.NRGBA {
			return color.NRGBAModel.Convert(img.At(int(u*float64(size)), int(v*float64(size)))).(color.NRGBA)
		}
		// The corner is outside the rounded square: transparent.
		if c := at(0, 0); c.A != 0 {
			t.Errorf("Logo(%d) corner %v, want transparent", size, c)
		}
		// Left of centre, in the G's ring: white.
		if c := at(0.5-(gOuter+gInner)/2, 0.5); c != logoForeground {
			t.Errorf("Logo(%d) ring %v, want %v", size, c, logoForeground)
		}
		// Inside the ring left of centre, the upper right gap, the top edge: blue.
		for _, p := range [][2]float64{{0.4, 0.45}, {0.5 + 0.19, 0.5 - 0.19}, {0.5, 0.05}} {
			if c := at(p[0], p[1]); c != logoBackground {
				t.Errorf("Logo(%d) at %v: %v, want %v", size, p, c, logoBackground)
			}
		}
		// The bar right of centre, just below the centre line: white.
		if c := at(0.5+0.25, 0.5+0.06); c != logoForeground {
			t.Errorf("Logo(%d) bar %v, want %v", size, c, logoForeground)
		}
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"graft", "graft-dev", "go_1.26", "a"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q): %v", ok, err)
		}
	}
	for name, want := range map[string]string{
		"":          "empty",
		"Graft":     `use "graft"`,
		"my kernel": "only letters",
		"../evil":   "only letters",
		"a/b":       "only letters",
	} {
		if err := ValidateName(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateName(%q) = %v, want an error containing %q", name, err, want)
		}
	}
}

func TestUserDataDir(t *testing.T) {
	home := func() (string, error) { return "/home/u", nil }
	noHome := func() (string, error) { return "", errors.New("no home") }
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tc := range []struct {
		goos string
		env  func(string) string
		want string
	}{
		{"linux", env(), "/home/u/.local/share/jupyter"},
		{"linux", env("XDG_DATA_HOME", "/x"), "/x/jupyter"},
		{"linux", env("JUPYTER_DATA_DIR", "/j", "XDG_DATA_HOME", "/x"), "/j"},
		{"darwin", env("XDG_DATA_HOME", "/x"), "/home/u/Library/Jupyter"},
		{"freebsd", env(), "/home/u/.local/share/jupyter"},
	} {
		got, err := userDataDir(tc.goos, tc.env, home)
		if err != nil || got != filepath.FromSlash(tc.want) {
			t.Errorf("userDataDir(%s) = %q, %v; want %q", tc.goos, got, err, tc.want)
		}
	}
	if _, err := userDataDir("linux", env(), noHome); err == nil || !strings.Contains(err.Error(), "JUPYTER_DATA_DIR") {
		t.Errorf("without a home directory: %v, want an error suggesting JUPYTER_DATA_DIR", err)
	}
}

func TestShebangInterpreter(t *testing.T) {
	dir := t.TempDir()
	script := func(first string) string {
		p := filepath.Join(dir, fmt.Sprintf("s%d", len(first)))
		if err := os.WriteFile(p, []byte(first+"\nimport sys\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if got := shebangInterpreter(script("#!/opt/conda/bin/python3.11")); got != "/opt/conda/bin/python3.11" {
		t.Errorf("direct shebang: %q", got)
	}
	if got := shebangInterpreter(script("#!/bin/bash")); got != "" {
		t.Errorf("non-Python shebang: %q, want none", got)
	}
	if got := shebangInterpreter(script("no shebang")); got != "" {
		t.Errorf("no shebang: %q", got)
	}
	sh, err := exec.LookPath("sh")
	if err == nil {
		if got := shebangInterpreter(script("#!/usr/bin/env sh")); got != sh {
			t.Errorf("env shebang: %q, want %q", got, sh)
		}
	}
}

func TestCheckBinary(t *testing.T) {
	bin := fakeBinary(t)
	if err := CheckBinary(bin); err != nil {
		t.Errorf("CheckBinary(%s): %v", bin, err)
	}
	plain := filepath.Join(t.TempDir(), "plain")
	os.WriteFile(plain, nil, 0o644)
	goRun := filepath.Join(t.TempDir(), "go-build123456", "b001", "exe", "graft")
	os.MkdirAll(filepath.Dir(goRun), 0o755)
	os.WriteFile(goRun, nil, 0o755)
	for path, want := range map[string]string{
		"graft":                          "not an absolute path",
		filepath.Join(t.TempDir(), "no"): "no such file",
		plain:                            "not an executable file",
		goRun:                            "go install ./cmd/graft",
	} {
		if err := CheckBinary(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckBinary(%s) = %v, want an error containing %q", path, err, want)
		}
	}
}

func TestInstallPrefix(t *testing.T) {
	bin := fakeBinary(t)
	prefix := t.TempDir()
	got, err := Install(context.Background(), Options{Target: TargetPrefix, Prefix: prefix, Binary: bin, Name: "graft-test"})
	dir := got.KernelDir
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(prefix, "share", "jupyter", "kernels", "graft-test"); dir != want {
		t.Errorf("installed into %s, want %s", dir, want)
	}
	spec, err := ReadSpec(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := NewSpec(bin, DefaultDisplayName); !reflect.DeepEqual(spec, want) {
		t.Errorf("kernel.json %+v, want %+v", spec, want)
	}
	if _, err := Install(context.Background(), Options{Target: TargetPrefix, Prefix: prefix, Binary: bin, Name: "Bad Name"}); err == nil {
		t.Error("Install accepted the kernel name \"Bad Name\"")
	}
	if _, err := Install(context.Background(), Options{Target: TargetPrefix, Binary: bin}); err == nil {
		t.Error("Install with an empty --prefix succeeded")
	}
}

func TestInstallUser(t *testing.T) {
	data, config := t.TempDir(), t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", data)
	t.Setenv("JUPYTER_CONFIG_DIR", config)
	bin := fakeBinary(t)
	got, err := Install(context.Background(), Options{Binary: bin})
	dir := got.KernelDir
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(data, "kernels", "graft"); dir != want {
		t.Errorf("installed into %s, want %s", dir, want)
	}
	if got.Extension == nil || got.Extension.LabDir != filepath.Join(data, "labextensions", "graft-figure") ||
		got.Extension.NotebookConfig != filepath.Join(config, "nbconfig", "notebook.d", "graft-figure.json") {
		t.Errorf("extension installed at %+v", got.Extension)
	}
}

// TestJupyterFindsKernel checks the installed kernelspec with jupyter_client
// itself: KernelSpecManager finds it with the right fields, and `jupyter
// kernelspec list` shows it.
func TestJupyterFindsKernel(t *testing.T) {
	python := testenv.RequirePython(t, "jupyter_client")
	bin := fakeBinary(t)
	prefix := t.TempDir()
	installed, err := Install(context.Background(), Options{Target: TargetPrefix, Prefix: prefix, Binary: bin})
	dir := installed.KernelDir
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"JUPYTER_PATH="+PrefixDataDir(prefix),
		"JUPYTER_DATA_DIR="+t.TempDir(), // no user-level kernel named graft can interfere
	)
	script := `
import json
from jupyter_client.kernelspec import KernelSpecManager
m = KernelSpecManager()
s = m.get_kernel_spec("graft")
print(json.dumps({"argv": s.argv, "display_name": s.display_name, "language": s.language,
                  "interrupt_mode": s.interrupt_mode, "resource_dir": s.resource_dir}))
`
	cmd := exec.Command(python, "-c", script)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("KernelSpecManager: %v\n%s", err, out)
	}
	var got struct {
		Argv          []string `json:"argv"`
		DisplayName   string   `json:"display_name"`
		Language      string   `json:"language"`
		InterruptMode string   `json:"interrupt_mode"`
		ResourceDir   string   `json:"resource_dir"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if want := []string{bin, "kernel", "-f", "{connection_file}"}; !reflect.DeepEqual(got.Argv, want) {
		t.Errorf("argv %q, want %q", got.Argv, want)
	}
	if got.DisplayName != "Go (graft)" || got.Language != "go" || got.InterruptMode != "message" || got.ResourceDir != dir {
		t.Errorf("kernelspec %+v", got)
	}

	list := exec.Command(python, "-m", "jupyter_client.kernelspecapp", "list", "--json")
	list.Env = env
	out, err = list.Output()
	if err != nil {
		t.Fatalf("jupyter kernelspec list: %v", err)
	}
	var listed struct {
		KernelSpecs map[string]struct {
			ResourceDir string `json:"resource_dir"`
		} `json:"kernelspecs"`
	}
	if err := json.Unmarshal(out, &listed); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if ks, ok := listed.KernelSpecs["graft"]; !ok || ks.ResourceDir != dir {
		t.Errorf("jupyter kernelspec list: %s", out)
	}
}

// TestSysPrefix checks that --sys-prefix asks the Python behind `jupyter`
// before any other python on PATH, with stand-in scripts for both.
func TestSysPrefix(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses shell scripts as stand-ins for Python")
	}
	bin := t.TempDir()
	prefix := t.TempDir()
	script := func(name, body string) {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script("jpython", "#!/bin/sh\necho "+prefix+"\n")
	script("python3", "#!/bin/sh\necho /not/this/one\n")
	script("jupyter", "#!"+filepath.Join(bin, "jpython")+"\nimport sys\n")
	t.Setenv("PATH", bin)
	got, err := SysPrefix(context.Background())
	if err != nil || got != prefix {
		t.Fatalf("SysPrefix = %q, %v; want %q from jupyter's python", got, err, prefix)
	}
	installed, err := Install(context.Background(), Options{Target: TargetSysPrefix, Binary: fakeBinary(t)})
	dir := installed.KernelDir
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(prefix, "share", "jupyter", "kernels", "graft"); dir != want {
		t.Errorf("installed into %s, want %s", dir, want)
	}

	os.Remove(filepath.Join(bin, "jupyter"))
	if got, err := SysPrefix(context.Background()); err != nil || got != "/not/this/one" {
		t.Errorf("without jupyter: SysPrefix = %q, %v; want python3's answer", got, err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := SysPrefix(context.Background()); err == nil || !strings.Contains(err.Error(), "use --user or --prefix DIR") {
		t.Errorf("without Python: %v, want an error suggesting --user or --prefix", err)
	}
}
