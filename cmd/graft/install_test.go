package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graftml/graft/install"
)

// fakeExecutable makes install see an executable outside go's temporary
// build directory.
func fakeExecutable(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "graft")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	prev := executable
	executable = func() (string, error) { return bin, nil }
	t.Cleanup(func() { executable = prev })
	return bin
}

func TestInstallCommand(t *testing.T) {
	bin := fakeExecutable(t)
	prefix := t.TempDir()
	var stdout bytes.Buffer
	if err := installMain([]string{"--prefix", prefix, "--name", "graft-dev"}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(prefix, "share", "jupyter", "kernels", "graft-dev")
	lab := filepath.Join(prefix, "share", "jupyter", "labextensions", "graft-figure")
	nb := filepath.Join(prefix, "share", "jupyter", "nbextensions", "graft-figure")
	enable := filepath.Join(prefix, "etc", "jupyter", "nbconfig", "notebook.d", "graft-figure.json")
	if want := "Installed kernelspec graft-dev in " + dir + "\n" +
		"Installed the notebook extension graft-figure for JupyterLab in " + lab + "\n" +
		"Installed the notebook extension graft-figure for Notebook in " + nb + ", enabled by " + enable + "\n"; stdout.String() != want {
		t.Errorf("printed %q, want %q", stdout.String(), want)
	}
	for _, p := range []string{filepath.Join(lab, "package.json"), filepath.Join(nb, "main.js"), enable} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	stdout.Reset()
	if err := installMain([]string{"--prefix", prefix, "--name", "graft-dev", "--no-extension"}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if want := "Installed kernelspec graft-dev in " + dir + "\n"; stdout.String() != want {
		t.Errorf("with --no-extension printed %q, want %q", stdout.String(), want)
	}
	spec, err := install.ReadSpec(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	if spec.Argv[0] != bin || spec.DisplayName != "Go (graft)" {
		t.Errorf("kernel.json %+v", spec)
	}

	// --user (the default) goes to $JUPYTER_DATA_DIR.
	data := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", data)
	t.Setenv("JUPYTER_CONFIG_DIR", t.TempDir())
	for _, args := range [][]string{nil, {"--user"}} {
		stdout.Reset()
		if err := installMain(args, &stdout, io.Discard); err != nil {
			t.Fatal(err)
		}
		if want := "kernelspec graft in " + filepath.Join(data, "kernels", "graft") + "\n"; !strings.Contains(stdout.String(), want) {
			t.Errorf("install %q printed %q, want it to contain %q", args, stdout.String(), want)
		}
	}
}

func TestInstallCommandErrors(t *testing.T) {
	fakeExecutable(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--user", "--prefix", "/tmp/x"}, "choose one of"},
		{[]string{"--user", "--sys-prefix"}, "choose one of"},
		{[]string{"--prefix", ""}, "--prefix needs a directory"},
		{[]string{"--name", "Go Kernel"}, "may hold only"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		if err := installMain(tc.args, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("install %q: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
	if err := installMain([]string{"-h"}, io.Discard, io.Discard); err != nil {
		t.Errorf("install -h: %v", err)
	}
}
