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
	if want := "Installed kernelspec graft-dev in " + dir + "\n"; stdout.String() != want {
		t.Errorf("printed %q, want %q", stdout.String(), want)
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
	for _, args := range [][]string{nil, {"--user"}} {
		stdout.Reset()
		if err := installMain(args, &stdout, io.Discard); err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(data, "kernels", "graft"); !strings.HasSuffix(stdout.String(), want+"\n") {
			t.Errorf("install %q printed %q, want it to end in %s", args, stdout.String(), want)
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
