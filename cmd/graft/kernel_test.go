package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseKernelArgs(t *testing.T) {
	for _, args := range [][]string{
		{"-f", "/run/kernel-1.json"},
		{"--f=/run/kernel-1.json"},
		{"-f=/run/kernel-1.json"},
		{"--f", "/run/kernel-1.json"},
	} {
		got, err := parseKernelArgs(args, io.Discard)
		if err != nil || got != "/run/kernel-1.json" {
			t.Errorf("parseKernelArgs(%q) = %q, %v", args, got, err)
		}
	}
	for args, want := range map[string]string{
		"":                    "missing -f CONNECTION_FILE",
		"-f a.json extra":     `unexpected arguments ["extra"]`,
		"--connection a.json": "flag provided but not defined",
	} {
		_, err := parseKernelArgs(strings.Fields(args), io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseKernelArgs(%q) error = %v, want one containing %q", args, err, want)
		}
	}
}

func TestRunKernelReportsBadConnectionFile(t *testing.T) {
	err := runKernel([]string{"-f", "/nonexistent/kernel.json"})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/kernel.json") {
		t.Fatalf("runKernel with a missing file: %v", err)
	}
}
